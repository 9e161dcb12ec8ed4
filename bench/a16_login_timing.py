"""Wall time and store calls of one failed login per path (a16: does the time an outsider
waits tell which names are accounts?). ``AccountService.authenticate`` with a wrong password for
an unknown name, an active account, a locked (disabled) account and a deleted account, with the
default argon2id hasher. Paths are interleaved, each round robin starting at another path (the
first path of a fixed order measured 1.5x faster than the others: position, not path). Per
path: min and median over ``--rounds`` rounds of the median of ``--n`` logins, and the store
calls one login makes (a counting wrapper). Baseline: the active account's wrong password, in
the same minutes.

    nice -n 10 .venv/bin/python bench/a16_login_timing.py --store local [--rounds 3 --n 8]
    eval "$(bash scripts/services.sh env)"; nice -n 10 .venv/bin/python bench/a16_login_timing.py --store s3

Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from kho.errors import KhoError  # noqa: E402
from repository.accounts import AccountService, Role  # noqa: E402
from repository.audit import AuditLog  # noqa: E402

AGENCY, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Kho@2026-mới"
WRONG = "Sai#Mat1khau-x"


class Counting:
    """The store, with its calls counted by name."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


def open_store(kind: str, tmp: Path) -> Any:
    if kind == "local":
        from repository.storage.local import LocalStore

        return LocalStore(tmp / "store")
    from kho_testing import new_bucket, s3_options

    from repository.storage import open_store as open_url

    options = s3_options()
    if options is None:
        raise SystemExit("KHO_TEST_S3_ENDPOINT is not set: eval \"$(bash scripts/services.sh env)\"")
    return open_url(f"s3://{new_bucket('a16-login', options)}", **options)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=("local", "s3"), default="local")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Counting(open_store(args.store, Path(tmp)))
        clock = lambda: datetime.now(UTC)  # noqa: E731
        svc = AccountService(store, AuditLog(store), clock, max_failed=10**6)
        _, admin, initial = svc.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
        svc.change_password(admin.username, initial, GOOD)
        admin = svc.authenticate(admin.username, GOOD)
        svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", AGENCY, admin)

        def person(name: str) -> str:
            account, first = svc.create_account(name, VP, [Role.CHUYEN_VIEN], 0, None, admin)
            _, second = svc.confirm_by_operator(account.username)
            svc.change_password(account.username, first + second, GOOD)
            svc.authenticate(account.username, GOOD)
            return account.username

        active, locked, deleted = person("Nguyễn Văn An"), person("Trần Thị Bình"), person("Lê Văn Cường")
        svc.lock(locked, "admin", admin)
        svc.delete(deleted, admin)
        paths = {"active (baseline)": active, "unknown name": "khongco.vpub", "locked": locked,
                 "deleted": deleted}
        medians: dict[str, list[float]] = {p: [] for p in paths}
        calls: dict[str, Counter[str]] = {}
        answers: dict[str, str] = {}
        for _ in range(args.rounds):
            times: dict[str, list[float]] = {p: [] for p in paths}
            for i in range(args.n):
                order = list(paths.items())
                order = order[i % len(order) :] + order[: i % len(order)]  # no path always first
                for label, username in order:  # interleaved: load drifts affect all alike
                    store.calls = Counter()
                    start = time.perf_counter()
                    try:
                        svc.authenticate(username, WRONG, "203.0.113.9")
                    except KhoError as exc:
                        answers[label] = exc.code
                    times[label].append(time.perf_counter() - start)
                    calls[label] = store.calls
            for label in paths:
                medians[label].append(statistics.median(times[label]))
        base = statistics.median(medians["active (baseline)"])
        print(f"store={args.store} rounds={args.rounds} n={args.n} (argon2id defaults)")
        for label, values in medians.items():
            shown = ", ".join(f"{k} {v}" for k, v in sorted(calls[label].items()))
            print(
                f"{label:18} {answers[label]:13} min {min(values) * 1000:7.1f} ms"
                f"  median {statistics.median(values) * 1000:7.1f} ms"
                f"  ×{statistics.median(values) / base:4.2f}  store: {shown}"
            )


if __name__ == "__main__":
    main()
