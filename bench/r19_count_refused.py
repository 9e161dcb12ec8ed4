"""Review r19: store calls and time of a wrong-password login at an unknown name, an existing
account and an account refused as downgraded (Kho's default Argon2 parameters), alternating.

Usage: ``PYTHONPATH=.:tests/support .venv/bin/python bench/r19_count_refused.py local|s3``."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch
from argon2 import PasswordHasher
from kho_buckets import drop_made
from kho_testing import agency_accounts, make_store, new_repository, person_with_password

from kho.errors import KhoError
from repository.accounts import account_key
from repository.policy import Role

GOOD = "Mật-khẩu-tốt-2026!"
UNIT = "000.01.18.H40"


def main() -> None:
    backend = sys.argv[1]
    tmp = Path(scratch.mkdtemp())
    store = make_store(backend, tmp, "r19c")
    repo = new_repository(store, make_store("local", tmp, "keys"))
    svc, admin = agency_accounts(repo, PasswordHasher(), UNIT, GOOD)
    plain = person_with_password(svc, admin, UNIT, GOOD)
    other, first = svc.create_account("Lê Văn Cường", UNIT, [Role.CHUYEN_VIEN], 0, None, admin)
    _, second = svc.confirm_by_operator(other.username)
    svc.change_password(other.username, first + second, GOOD)
    keys = [i.key for i in store.list(f"accounts/{other.username}/")]
    data = json.loads(store.get(keys[-1]))
    data.pop("audit", None)
    data.pop("reset", None)
    number = int(keys[-1].rsplit("/v", 1)[1]) + 1
    data.update(format_version=2, version=number, clearance=3)
    store.put_if_absent(account_key(other.username, number), json.dumps(data, ensure_ascii=False).encode())
    counts: dict[str, int] = {}
    for name in ("get", "list", "list_versions", "put_if_absent", "put", "put_if_match", "exists"):
        real = getattr(store, name, None)
        if real is None:
            continue

        def wrap(*a: Any, _real: Callable[..., Any] = real, _name: str = name, **kw: Any) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            return _real(*a, **kw)

        setattr(store, name, wrap)
    names = {"unknown": "khongco.vpub", "existing": plain, "downgraded": other.username}
    times: dict[str, list[float]] = {k: [] for k in names}
    calls: dict[str, tuple[str, dict[str, int]]] = {}
    for _ in range(4):  # 4 wrong passwords: the lock is at 5
        for kind, who in names.items():
            counts.clear()
            start = time.perf_counter()
            code = "accepted"
            try:
                svc.authenticate(who, "Sai-mật-khẩu-2026!")
            except KhoError as exc:
                code = exc.code
            times[kind].append((time.perf_counter() - start) * 1000)
            calls[kind] = (code, dict(sorted(counts.items())))
    for kind in names:
        low, mid = min(times[kind]), statistics.median(times[kind])
        print(backend, kind, calls[kind], f"ms min {low:.1f} median {mid:.1f}")
    drop_made()


if __name__ == "__main__":
    main()
