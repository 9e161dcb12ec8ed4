"""Login benchmark: argon2id hash and verify, and a whole login (``AccountService.authenticate``:
read the account, verify, write the new version, append the audit event) on the local store,
beside baselines measured in the same run (a plain SHA-256 of the password; the same login with
an almost free argon2 setting, which leaves the store and audit cost), and peak RSS.

    .venv/bin/python bench/bench_login.py [--iterations 50] [--no-fsync]

Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher

from kho.errors import LoginFailed
from repository import passwords
from repository.accounts import AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

PASSWORD = "Kho@2026-mới"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(label: str, runs: int, action: Callable[[], object]) -> None:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(f"{label:<52} p50 {p50:9.3f} ms   p95 {p95:9.3f} ms   (n={runs})")


def service(root: Path, hasher: PasswordHasher, fsync: bool) -> tuple[AccountService, str]:
    store = LocalStore(root, fsync=fsync)
    svc = AccountService(store, AuditLog(store), lambda: datetime.now(UTC), hasher=hasher)
    _, admin, _ = svc.bootstrap("000.00.18.H40", "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit("000.01.18.H40", "Văn phòng UBND tỉnh", "vpub", "000.00.18.H40", admin)
    account, first = svc.create_account(
        "Nguyễn Văn An", "000.01.18.H40", [Role.CHUYEN_VIEN], 0, None, admin
    )
    _, second = svc.confirm_by_operator(account.username)  # two-person initial password (g1)
    svc.change_password(account.username, first + second, PASSWORD)
    return svc, account.username


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args()
    n = args.iterations
    fsync = not args.no_fsync

    strong = passwords.default_hasher()
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    print(
        f"argon2id parameters: t={strong.time_cost} m={strong.memory_cost} KiB p={strong.parallelism};"
        f" fsync={'on' if fsync else 'off'}"
    )
    print(f"peak RSS before argon2: {peak_rss_mb():.1f} MB")

    timed("baseline: SHA-256 of the password", n, lambda: hashlib.sha256(PASSWORD.encode()).hexdigest())
    timed("argon2id hash", n, lambda: passwords.hash_password(PASSWORD, strong))
    stored = passwords.hash_password(PASSWORD, strong)
    timed("argon2id verify", n, lambda: passwords.verify_password(stored, PASSWORD, strong))

    with tempfile.TemporaryDirectory(prefix="kho-bench-login-") as tmp:
        base_svc, base_user = service(Path(tmp) / "cheap", cheap, fsync)
        timed(
            "baseline: login with near-free argon2 (store+audit)",
            n,
            lambda: base_svc.authenticate(base_user, PASSWORD, "bench"),
        )
        svc, user = service(Path(tmp) / "strong", strong, fsync)
        timed("login (authenticate), argon2id", n, lambda: svc.authenticate(user, PASSWORD, "bench"))

        def unknown() -> None:
            try:
                svc.authenticate("khongco.vpub", PASSWORD, "bench")
            except LoginFailed:
                pass

        timed("failed login, unknown account (dummy verify)", min(n, 20), unknown)
    print(f"peak RSS: {peak_rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
