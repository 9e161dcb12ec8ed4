"""Store calls of one ``POST /password`` (a wrong old password; a right one) on the page, on the
tree first on ``sys.path`` (a16: the page now goes through the login limiter). Counted by
wrapping ``LocalStore``'s methods; wall time of the request beside it (median of 3).

    .venv/bin/python bench/a16_password_page_calls.py /tmp/base-a16   # before (main)
    .venv/bin/python bench/a16_password_page_calls.py .               # after
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

import scratch

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TREE), str(HERE / "tests" / "support")]
os.environ.update(
    KHO_DATA_DIR=scratch.mkdtemp(), KHO_AGENCY_ID="000.00.18.H40", KHO_AGENCY_NAME="UBND",
    KHO_FSYNC="false", KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_ELASTICSEARCH_URL="",
    KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1", KHO_COOKIE_SECURE="false",
)

from count_harness import count_class_calls  # noqa: E402
from kho_people import PASSWORD, make_people  # noqa: E402

from kho.config import Settings  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

calls = count_class_calls(LocalStore)

kho = Kho(Settings.from_env())
people = make_people(kho)
app = create_app(kho.settings, kho=kho)
web = app.test_client()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
token = CSRF.findall(web.get("/login").get_data(as_text=True))[0]
who = people.usernames["chuyen_vien"]
web.post("/login", data={"username": who, "password": PASSWORD, "csrf_token": token})
token = CSRF.findall(web.get("/password").get_data(as_text=True))[0]
print("tree:", TREE, "| auth.py from", sys.modules["web.pages.auth"].__file__)
for label, old in (("wrong old password", "Sai#Mat1khau"), ("right old password, weak new", PASSWORD)):
    times = []
    for _ in range(3 if label.startswith("wrong") else 1):  # (5 wrong ones lock the account)
        web.get("/")  # keep the session's use marker out of the count
        calls.clear()
        start = time.perf_counter()
        answer = web.post("/password", data={
            "old_password": old, "new_password": "yeu", "confirm_password": "yeu", "csrf_token": token,
        })
        times.append(time.perf_counter() - start)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
    print(f"{label:30} {answer.status_code}  {statistics.median(times) * 1000:6.1f} ms  store: {shown}")
kho.close()
