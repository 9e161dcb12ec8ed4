"""Store calls per login (authenticate) of a used account, and of an account whose newest
version is of an old format (untouched since an older Kho), on one tree."""
import json
import sys
import time
from pathlib import Path

import scratch
from argon2 import PasswordHasher
from kho_testing import make_store, new_repository

from kho.timeutil import utcnow
from repository.accounts import AccountService, account_key
from repository.policy import Role

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
GOOD = "Mật-khẩu-tốt-2026!"
backend = sys.argv[1]
tmp = Path(scratch.mkdtemp())
store, keys = make_store(backend, tmp, "cnt"), make_store("local", tmp, "keys")
repo = new_repository(store, keys)
svc = AccountService(store, repo.audit, utcnow, hasher=CHEAP)
_, admin, initial = svc.bootstrap("000.00.18.H40", "UBND", "ubnd", "Quản Trị Viên")
svc.change_password(admin.username, initial, GOOD)
admin = svc.authenticate(admin.username, GOOD)
person, first = svc.create_account("Trần Thị Bình", "000.00.18.H40", [Role.CHUYEN_VIEN], 0, None, admin)
_, second = svc.confirm_by_operator(person.username)
svc.change_password(person.username, first + second, GOOD)
# an old-format account with 20 versions (its person set the password), never logged in since
data = json.loads(store.get([i.key for i in store.list(f"accounts/{person.username}/")][-1]))
old = "cuonglv.ubnd"
for n in range(1, 21):
    d = {k: v for k, v in data.items() if k not in ("audit", "reset")}
    d.update(username=old, version=n, format_version=2, changed_by=old)
    store.put_if_absent(account_key(old, n), json.dumps(d, ensure_ascii=False).encode())
counts = {}
for name in ("get", "list", "list_versions", "put_if_absent", "put", "exists", "get_after_conflict"):
    real = getattr(store, name)
    def wrap(*a, _real=real, _name=name, **kw):
        counts[_name] = counts.get(_name, 0) + 1
        return _real(*a, **kw)
    setattr(store, name, wrap)
for who in (person.username, old):
    for attempt in range(2):
        counts.clear()
        t = time.perf_counter()
        svc.authenticate(who, GOOD)
        ms = (time.perf_counter() - t) * 1000
        kind = "used" if who == person.username else "old-format"
        print(backend, kind, attempt, dict(sorted(counts.items())), f"{ms:.1f}ms")
