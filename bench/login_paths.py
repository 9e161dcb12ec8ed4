"""CPU time of one failed login per path (unknown name, wrong password on an active account, on a
locked account, during a pending reset), with the default argon2 hasher: ``time.process_time``
around ``authenticate``, median of N. Run with the tree to measure first on ``PYTHONPATH``:

    PYTHONPATH=<tree> nice -n 10 .venv/bin/python bench/login_paths.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kho.errors import KhoError
from repository.accounts import AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Kho@2026-mới"
WRONG = "Sai#Mat1khau-x"


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "store")
        clock = lambda: datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # noqa: E731
        svc = AccountService(store, AuditLog(store), clock, max_failed=10**6)
        _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
        svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)

        def person(name: str, *roles: Role) -> str:
            account, first = svc.create_account(name, VP, roles, 0, None, admin)
            _, second = svc.confirm_by_operator(account.username)  # two-person initial password (g1)
            svc.change_password(account.username, first + second, GOOD)
            svc.authenticate(account.username, GOOD)
            return account.username

        active = person("Nguyễn Văn An", Role.CHUYEN_VIEN)
        locked = person("Trần Thị Bình", Role.CHUYEN_VIEN)
        svc.lock(locked, "admin", admin)
        pending = person("Phạm Văn Dũng", Role.CHUYEN_VIEN)
        head = svc.get(person("Lê Văn Trưởng", Role.LANH_DAO))
        svc.reset_password(pending, admin)
        svc.confirm_reset(pending, head)
        paths = {"unknown name": "khongco.vpub", "active": active, "locked": locked, "pending reset": pending}
        samples: dict[str, list[float]] = {label: [] for label in paths}
        for _ in range(rounds):
            for label, username in paths.items():  # interleaved: load drifts affect all alike
                start = time.process_time()
                try:
                    svc.authenticate(username, WRONG)
                except KhoError as exc:
                    answer = exc.code
                samples[label].append(time.process_time() - start)
                if len(samples[label]) == 1:
                    print(f"{label:14} answer {answer}")
        for label, values in samples.items():
            print(f"{label:14} median {statistics.median(values) * 1000:7.1f} ms CPU (n={len(values)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11)
