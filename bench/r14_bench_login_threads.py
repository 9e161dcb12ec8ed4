"""Wall time of 40 logins by 4 threads of one process on the S3 gateway (review r14 of x1).

x1 writes an account's next version under the audit log's in-process lock, so the threads of
one process queue behind each other's account PUT. Compare trees with
``PYTHONPATH=<tree>:<tree>/tests/support`` (services env from ``scripts/services.sh env``).

    .venv/bin/python bench/r14_bench_login_threads.py
"""

from __future__ import annotations

import statistics
import threading
import time

from argon2 import PasswordHasher
from kho_testing import new_bucket, s3_options

from kho.timeutil import utcnow
from repository.accounts import AccountService
from repository.audit import AuditLog
from repository.policy import Role
from repository.storage import open_store

PASSWORD = "Kho@2026-mới-mật-khẩu"
ROOT = "000.00.18.H40"


def main() -> None:
    options = s3_options()
    assert options is not None, "KHO_TEST_S3_ENDPOINT is not set"
    store = open_store(f"s3://{new_bucket('r14bench', options)}", **options)
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    svc = AccountService(store, AuditLog(store), utcnow, hasher=hasher)
    _, admin, initial = svc.bootstrap(ROOT, "UB", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, PASSWORD)
    admin = svc.authenticate(admin.username, PASSWORD)
    names = []
    for letter in "ABCD":
        account, initial = svc.create_account(f"Người Thứ {letter}", ROOT, [Role.CHUYEN_VIEN], 0, None, admin)
        svc.change_password(account.username, initial, PASSWORD)
        names.append(account.username)

    def work(name: str) -> None:
        for _ in range(10):
            svc.authenticate(name, PASSWORD)

    runs = []
    for _ in range(5):
        threads = [threading.Thread(target=work, args=(name,)) for name in names]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runs.append((time.perf_counter() - start) * 1000)
    print(f"40 logins, 4 threads: min {min(runs):.0f} ms median {statistics.median(runs):.0f} ms")


if __name__ == "__main__":
    main()
