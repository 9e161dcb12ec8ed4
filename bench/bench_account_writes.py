"""Store requests and fsyncs of a login, a wrong password and an account change (x1).

Counts, per operation, the calls the account service makes on the store (by method) and the
``os.fsync`` calls under it, on the local store with fsync on, and times the operations (min /
median of ``--iterations``). The argon2 setting is almost free, so the figures are the store and
audit cost. Runs on any tree (only public API): compare a tree before and after a change with
``PYTHONPATH=<tree>``.

    .venv/bin/python bench/bench_account_writes.py [--iterations 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher

from kho.errors import LoginFailed
from repository.accounts import AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

PASSWORD = "Kho@2026-mới-mật-khẩu"
METHODS = ("put_if_absent", "put", "put_new", "get", "list", "exists", "delete")


def counting(store: LocalStore, counts: Counter[str]) -> None:
    for name in METHODS:
        original = getattr(store, name, None)
        if original is None:
            continue

        def wrapped(
            *args: object, _name: str = name, _original: Callable[..., object] = original, **kw: object
        ) -> object:
            counts[_name] += 1
            return _original(*args, **kw)

        setattr(store, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    counts: Counter[str] = Counter()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        counts["fsync"] += 1
        real_fsync(fd)

    os.fsync = fsync  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "store")
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        clock = lambda: datetime.now(UTC)  # noqa: E731
        svc = AccountService(store, AuditLog(store), clock, hasher=cheap, max_failed=10**6)
        _, admin, initial = svc.bootstrap("000.00.18.H40", "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
        svc.change_password(admin.username, initial, PASSWORD)
        admin = svc.get(admin.username)
        svc.create_unit("000.01.18.H40", "Văn phòng UBND tỉnh", "vpub", "000.00.18.H40", admin)
        roles = [Role.CHUYEN_VIEN]
        account, first = svc.create_account("Nguyễn Văn An", "000.01.18.H40", roles, 0, None, admin)
        svc.change_password(account.username, first, PASSWORD)
        name = account.username
        level = [0]

        def wrong() -> None:
            try:
                svc.authenticate(name, "sai-mật-khẩu")
            except LoginFailed:
                pass

        def change() -> None:
            level[0] = 1 - level[0]
            svc.set_clearance(name, level[0], admin)

        operations: dict[str, Callable[[], object]] = {
            "login": lambda: svc.authenticate(name, PASSWORD),
            "wrong password": wrong,
            "account change (clearance)": change,
        }
        counting(store, counts)
        for label, op in operations.items():
            op()  # warm
            counts.clear()
            samples = []
            for _ in range(args.iterations):
                started = time.perf_counter()
                op()
                samples.append((time.perf_counter() - started) * 1000)
            per = {k: v / args.iterations for k, v in sorted(counts.items())}
            shown = ", ".join(f"{k} {v:g}" for k, v in per.items())
            print(
                f"{label:<28} min {min(samples):7.2f} ms  median {statistics.median(samples):7.2f} ms"
                f"  per op: {shown}"
            )


if __name__ == "__main__":
    sys.exit(main())
