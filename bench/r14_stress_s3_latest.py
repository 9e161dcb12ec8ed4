"""Four writers (each its own audit log, as four processes) give one wrong password each, at
once, on a new S3 bucket; repeated N times. Counts errors other than ``LoginFailed``: on main's
tree a ``NotFound`` of a listed account version whose write was in flight (review r14).

    .venv/bin/python bench/r14_stress_s3_latest.py 25
"""

from __future__ import annotations

import sys
import threading
from collections import Counter

from argon2 import PasswordHasher
from kho_testing import new_bucket, s3_options

from kho.errors import LoginFailed
from kho.timeutil import utcnow
from repository.accounts import AccountService
from repository.audit import AuditLog
from repository.policy import Role
from repository.storage import open_store

PASSWORD = "Kho@2026-mới-mật-khẩu"
ROOT = "000.00.18.H40"


def one_run(options: dict[str, object], errors: Counter[str]) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    store = open_store(f"s3://{new_bucket('r14st', options)}", **options)
    svc = AccountService(store, AuditLog(store), utcnow, hasher=hasher)
    _, admin, initial = svc.bootstrap(ROOT, "UB", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, PASSWORD)
    admin = svc.authenticate(admin.username, PASSWORD)
    person, initial = svc.create_account("Người Thử", ROOT, [Role.CHUYEN_VIEN], 0, None, admin)
    svc.change_password(person.username, initial, PASSWORD)
    writers = [AccountService(store, AuditLog(store), utcnow, hasher=hasher) for _ in range(4)]
    barrier = threading.Barrier(len(writers))

    def attempt(writer: AccountService) -> None:
        barrier.wait()
        try:
            writer.authenticate(person.username, "sai-mat-khau")
        except LoginFailed:
            pass
        except Exception as exc:  # counted: the point of the script
            errors[type(exc).__name__] += 1

    threads = [threading.Thread(target=attempt, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    options = s3_options()
    assert options is not None, "KHO_TEST_S3_ENDPOINT is not set"
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    errors: Counter[str] = Counter()
    for _ in range(runs):
        one_run(options, errors)
    print(f"runs {runs} errors {dict(errors)}")


if __name__ == "__main__":
    main()
