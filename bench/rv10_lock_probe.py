"""Probe of review rv10 (not a benchmark): what the lock rules of a18 leave to someone who holds
the password (stolen), on the tree first on ``sys.path``. The thief logs in, then sends five wrong
passwords; then, each time the lock ends, five more. Prints what the thief's session, the owner
and a quản trị see.

    .venv/bin/python bench/rv10_lock_probe.py .
"""

from __future__ import annotations

import sys
from pathlib import Path

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TREE), str(HERE / "tests" / "support")]


import scratch  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from kho_people import create_person  # noqa: E402
from kho_testing import ManualClock  # noqa: E402

from kho.errors import KhoError  # noqa: E402
from repository.accounts import AccountService, Role  # noqa: E402
from repository.audit import AuditLog  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402

GOOD = "Kho@2026-mới"


def answer(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
        return "ok"
    except KhoError as exc:
        return exc.code


store = LocalStore(Path(scratch.mkdtemp()))
audit, clock = AuditLog(store), ManualClock()
svc = AccountService(store, audit, clock, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
_, admin, _ = svc.bootstrap("000.00.18.H40", "UBND tỉnh", "ubnd", "Quản Trị Viên")
svc.create_unit("000.01.18.H40", "Văn phòng", "vpub", "000.00.18.H40", admin)
owner, _ = create_person(
    svc, "Trần Giám Đốc", "000.01.18.H40", (Role.LANH_DAO,), 0, None, admin, password=GOOD
)
name = owner.username
thief = svc.issue_token(name, "web", svc.authenticate(name, GOOD, "203.0.113.7"))  # the stolen password


def lock_out() -> None:
    for i in range(5):
        clock.advance(seconds=1)
        answer(lambda i=i: svc.authenticate(name, f"Sai#{i}abcd", "203.0.113.7"))


for day in range(3):
    clock.advance(minutes=1)
    # the thief's request that meets the expired lock ends it, at once
    answer(lambda: svc.resolve_token(thief))
    lock_out()
    print(f"round {day + 1}: thief's session {answer(lambda: svc.resolve_token(thief))};"
          f" owner's right password {answer(lambda: svc.authenticate(name, GOOD, '10.0.0.1'))};"
          f" owner changes the password {answer(lambda: svc.change_password(name, GOOD, 'Khác@2026-mới'))}")
    for _ in range(24 * 4):  # the thief keeps the session alive every 15 min until the lock ends
        clock.advance(minutes=15)
        answer(lambda: svc.resolve_token(thief))
events = [(e.actor, e.action, e.details.get("reason")) for e in audit.events()
          if e.action in ("account:lock", "account:unlock") and e.details.get("username") == name]
print("what a quản trị sees:", events)
reset = answer(lambda: svc.reset_password(name, admin, "10.0.0.5"))
after = answer(lambda: svc.resolve_token(thief))
print(f"a quản trị resets the password: {reset}; thief's session then {after}")
