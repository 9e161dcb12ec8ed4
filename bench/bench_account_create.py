"""CPU cost of creating an account (argon2id at Kho's default parameters, local folder store):
``AccountService.create_account`` alone, and create + everything up to the person's first login
with both halves (g1: confirm by the operator; base: the whole password).

    PYTHONPATH=<tree> .venv/bin/python bench/bench_account_create.py [--runs 7]

Prints the median and minimum CPU time (``time.process_time``: user+sys of this process) per
account and the argon2 hashes computed per account (counted by wrapping the hasher)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repository import passwords
from repository.accounts import AccountService
from repository.audit import AuditLog
from repository.storage.local import LocalStore

ROOT, VP = "000.00.18.H40", "000.01.18.H40"


class Counting:
    """The default hasher, counting its hash() calls."""

    def __init__(self) -> None:
        self.inner = passwords.default_hasher()
        self.hashes = 0

    def hash(self, password: str) -> str:
        self.hashes += 1
        return self.inner.hash(password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "store")
        hasher = Counting()
        svc = AccountService(store, AuditLog(store), lambda: datetime.now(UTC), hasher=hasher)  # type: ignore[arg-type]
        _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
        svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
        create: list[float] = []
        ready: list[float] = []
        hashes: list[int] = []
        for n in range(args.runs):
            before = hasher.hashes
            start = time.process_time()
            account, given = svc.create_account(f"Cán Bộ Số {n}", VP, ["chuyen_vien"], 0, None, admin)
            create.append(time.process_time() - start)
            if hasattr(svc, "confirm_by_operator"):
                _, second = svc.confirm_by_operator(account.username)
                given += second
            svc.change_password(account.username, given, "Kho@bench-2026x")
            ready.append(time.process_time() - start)
            hashes.append(hasher.hashes - before)
    for label, values in (("create_account", create), ("create .. own password set", ready)):
        print(
            f"{label:<28} median {statistics.median(values) * 1000:7.1f} ms CPU"
            f"   min {min(values) * 1000:7.1f} ms   (n={len(values)})"
        )
    print(f"argon2 hashes per account (create .. own password): {statistics.median(hashes)}")


if __name__ == "__main__":
    main()
