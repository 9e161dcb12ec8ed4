"""Store calls and time of the requests a18 touched, on the tree first on ``sys.path``: a token's
use (``GET /api/me``), a wrong password that does not lock, the one that locks, the director's
token after the lock, the token use 25 hours later that ends the lock (rv10), a quản trị's lock
and unlock. Counted by wrapping ``LocalStore``'s methods;
wall time beside it (median of 3 runs of the whole scenario, each on a fresh store).

    .venv/bin/python bench/a18_lock_calls.py /tmp/base-a18   # before (a18's base: main + a16)
    .venv/bin/python bench/a18_lock_calls.py .               # after
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import scratch

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TREE), str(HERE / "tests" / "support")]
os.environ.update(
    KHO_AGENCY_ID="000.00.18.H40", KHO_AGENCY_NAME="UBND",
    KHO_FSYNC="false", KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_ELASTICSEARCH_URL="",
    KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1", KHO_COOKIE_SECURE="false",
)

from count_harness import count_class_calls  # noqa: E402
from kho_people import make_people  # noqa: E402

from kho.config import Settings  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

calls = count_class_calls(LocalStore)

times: dict[str, list[float]] = defaultdict(list)
seen: dict[str, tuple[int, str]] = {}


def step(label: str, call) -> None:  # type: ignore[no-untyped-def]
    calls.clear()
    start = time.perf_counter()
    answer = call()
    times[label].append(time.perf_counter() - start)
    seen[label] = (answer.status_code, ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))


def scenario() -> None:
    os.environ["KHO_DATA_DIR"] = scratch.mkdtemp()
    kho = Kho(Settings.from_env())
    people = make_people(kho)
    api = create_app(kho.settings, kho=kho).test_client()
    director, clerk = people.usernames["lanh_dao"], people.usernames["chuyen_vien"]
    admin, desk = people.headers("quan_tri"), people.headers("lanh_dao")
    outsider = {"REMOTE_ADDR": "198.51.100.66"}

    def guess(i: int):  # type: ignore[no-untyped-def]
        return lambda: api.post(
            "/api/login", json={"username": director, "password": f"Sai#{i}"}, environ_overrides=outsider
        )

    api.get("/api/me", headers=desk)  # use marker of this slot written
    step("token use (GET /api/me)", lambda: api.get("/api/me", headers=desk))
    for i in range(4):
        step("wrong password, no lock", guess(i))
    step("5th wrong password (locks)", guess(5))
    step("director's token after the lock", lambda: api.get("/api/me", headers=desk))
    later = kho.accounts.clock  # (rv10) the lock's time is over: the next token use ends it
    kho.accounts.clock = lambda: later() + timedelta(hours=25)
    step("token use that ends the lock (expiry)", lambda: api.get("/api/me", headers=desk))
    kho.accounts.clock = later  # (the desk token was idle 25 hours: 401 after the expiry is written)
    step("quản trị locks (admin)", lambda: api.post(
        f"/api/accounts/{clerk}/lock", json={"reason": "admin"}, headers=admin))
    step("quản trị unlocks", lambda: api.post(f"/api/accounts/{clerk}/unlock", json={}, headers=admin))
    kho.close()


print("tree:", TREE, "| accounts.py from", sys.modules["repository.accounts"].__file__)
for _ in range(3):
    scenario()
for label, (status, shown) in seen.items():
    ms = [t * 1000 for t in times[label]]
    print(f"{label:34} {status}  min {min(ms):6.1f} ms  median {statistics.median(ms):6.1f} ms  {shown}")
