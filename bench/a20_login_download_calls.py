"""Store calls and time of a login and of a download (review a20), on the tree first on
``sys.path``: a page login, an API login, a 5th wrong password (the lock), a 5th wrong password
one minute after that lock expired (a re-lock on a20: every token listed and revoked), and a
record's download from Kho's own page (``Sec-Fetch-Site: same-origin``), typed (``none``), from
another site (``cross-site``: refused on a20) and without the header (the CLI's way, API).
Counted by wrapping ``LocalStore``'s methods; µs per request min/median of 3 rounds.

    .venv/bin/python bench/a20_login_download_calls.py /tmp/base-a20   # before (main)
    .venv/bin/python bench/a20_login_download_calls.py .               # after
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import scratch

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TREE), str(HERE / "tests" / "support")]
WORK = Path(scratch.mkdtemp())

from ingest.testpki import TestPKI  # noqa: E402

TestPKI.build().write_trust_dir(WORK / "trust")
os.environ.update(
    KHO_DATA_DIR=str(WORK / "kho"), KHO_AGENCY_ID="000.00.18.H40", KHO_AGENCY_NAME="UBND",
    KHO_FSYNC="false", KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_ELASTICSEARCH_URL="",
    KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1", KHO_COOKIE_SECURE="false",
    KHO_TRUST_DIR=str(WORK / "trust"), KHO_SESSION_SECRET="a20-bench-" + os.urandom(16).hex(),
)

from count_harness import count_class_calls  # noqa: E402
from kho_people import PASSWORD, make_people  # noqa: E402
from kho_testing import sealed_cong_van  # noqa: E402
from kho_web import csrf, login, register_one  # noqa: E402

from kho.config import Settings  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402


class Moved:
    offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


calls = count_class_calls(LocalStore)
kho = Kho(Settings.from_env())
people = make_people(kho)
app = create_app(kho.settings, kho=kho)
clock = Moved()
kho.accounts.clock = clock
limiter = app.extensions["kho_login_limiter"]
limiter.clock = lambda: clock().timestamp()
clerk = app.test_client()
login(clerk, people, "van_thu")
record = register_one(clerk, sealed_cong_van(1))
record_id = record.rstrip("/").rsplit("/", 1)[1]
print("tree:", TREE, "| accounts.py from", sys.modules["repository.accounts"].__file__)
rows: list[tuple[str, str, list[float], dict[str, int]]] = []


def measure(label: str, call, rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    times: list[float] = []
    for _ in range(rounds):
        calls.clear()
        start = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - start)
    code = answer.headers.get("X-Kho-Error") or (answer.json or {}).get("error", {}).get("code", "") \
        if answer.is_json else answer.headers.get("X-Kho-Error", "")
    rows.append((label, f"{answer.status_code} {code or ''}".strip(), times, dict(calls)))


director = people.usernames["lanh_dao"]


def page_login() -> object:
    web = app.test_client()
    token = csrf(web)
    calls.clear()
    return web.post("/login", data={"username": director, "password": PASSWORD, "csrf_token": token})


measure("page login (right password)", page_login)
measure("API login (right password)", lambda: app.test_client().post(
    "/api/login", json={"username": director, "password": PASSWORD}))


for label, headers in (
    ("download, same-origin", {"Sec-Fetch-Site": "same-origin"}),
    ("download, typed (none)", {"Sec-Fetch-Site": "none"}),
    ("download, cross-site", {"Sec-Fetch-Site": "cross-site"}),
    ("download, no header", {}),
):
    clerk.get("/")  # the session's use marker out of the count
    measure(label, lambda headers=headers: clerk.get(record + "/download", headers=headers))
token = people.headers("van_thu")
measure("API content, token, no header", lambda: app.test_client().get(
    f"/api/records/{record_id}/content", headers=token))


def lock_out(label: str) -> None:
    door = app.test_client()
    for i in range(4):
        door.post("/api/login", json={"username": director, "password": f"Sai#{i}abcd"})
    measure(label, lambda: door.post("/api/login", json={"username": director, "password": "Sai#5abcd"}), 1)


lock_out("5th wrong password (locks)")
clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
app.test_client().post("/api/login", json={"username": director, "password": PASSWORD})  # the expiry
lock_out("5th wrong password, after an expiry")

for label, answer, times, counted in rows:
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counted.items()))
    low, mid = min(times) * 1e6, statistics.median(times) * 1e6
    print(f"{label:38} {answer:24} min {low:8.0f} µs  median {mid:8.0f} µs  store: {shown}")
kho.close()
