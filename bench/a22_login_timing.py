"""Whether the login's time tells an outsider that a name exists (review a22), with the
production argon2 cost (the defaults of ``KHO_PASSWORD_*``), on the tree first on ``sys.path``:
API logins from an address the account never used, interleaved, N rounds of each: a name
without an account, an existing name with a wrong password, and an existing name whose new
browsers are locked (wrong password). Prints min / median wall ms per case.

    .venv/bin/python bench/a22_login_timing.py . [N]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TREE), str(HERE / "tests" / "support")]
WORK = Path(tempfile.mkdtemp())

from ingest.testpki import TestPKI  # noqa: E402

TestPKI.build().write_trust_dir(WORK / "trust")
os.environ.update(
    KHO_DATA_DIR=str(WORK / "kho"),
    KHO_AGENCY_ID="000.00.18.H40",
    KHO_AGENCY_NAME="UBND",
    KHO_FSYNC="false",
    KHO_BROKER_URL="",
    KHO_TIKA_URL="",
    KHO_ELASTICSEARCH_URL="",
    KHO_COOKIE_SECURE="false",
    KHO_TRUST_DIR=str(WORK / "trust"),
    KHO_SESSION_SECRET="a22-timing-" + os.urandom(16).hex(),
)
for name in ("KHO_PASSWORD_MEMORY_KB", "KHO_PASSWORD_TIME_COST"):
    os.environ.pop(name, None)  # the production cost

from kho_people import make_people  # noqa: E402

from kho.config import Settings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

kho = Kho(Settings.from_env())
people = make_people(kho)
app = create_app(kho.settings, kho=kho)
app.extensions["kho_login_limiter"].attempts = 10**6
app.extensions["kho_login_limiter"].per_address = 10**6
locked = people.usernames["chuyen_vien"]
for i in range(5):  # new browsers of ``locked`` locked from elsewhere
    app.test_client().post(
        "/api/login",
        json={"username": locked, "password": f"Sai#{i}abcd"},
        environ_overrides={"REMOTE_ADDR": "198.51.100.9"},
    )
cases = {
    "unknown name": "khongco.ubnd",
    "existing name, wrong password": people.usernames["van_thu"],
    "new browsers locked, wrong password": locked,
}
times: dict[str, list[float]] = {label: [] for label in cases}
answers: dict[str, set[str]] = {label: set() for label in cases}
for n in range(ROUNDS):
    for label, name in cases.items():
        start = time.perf_counter()
        done = app.test_client().post(
            "/api/login",
            json={"username": name, "password": f"Sai#r{n}abcd"},
            environ_overrides={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
        )
        times[label].append(time.perf_counter() - start)
        answers[label].add(f"{done.status_code} {done.get_data(as_text=True)}")
for label, values in times.items():
    print(
        f"{label:38} min {min(values) * 1e3:7.1f} ms  median {statistics.median(values) * 1e3:7.1f} ms"
        f"  answers {len(answers[label])} distinct: {sorted(answers[label])[0][:60]}"
    )
kho.close()
