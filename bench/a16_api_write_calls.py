"""Store calls of API writes with and without a token, on the tree first on ``sys.path`` (a16:
every API write is now authenticated before its view reads input). Counted by wrapping
``LocalStore``'s methods.

    .venv/bin/python bench/a16_api_write_calls.py /tmp/base-a16   # before (main)
    .venv/bin/python bench/a16_api_write_calls.py .               # after
"""

from __future__ import annotations

import os
import sys
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
from kho_people import make_people  # noqa: E402

from kho.config import Settings  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

calls = count_class_calls(LocalStore)

kho = Kho(Settings.from_env())
people = make_people(kho)
client = create_app(kho.settings, kho=kho).test_client()
token = people.headers("van_thu")
print("tree:", TREE, "| app.py from", sys.modules["web.app"].__file__)
for label, kwargs in (
    ("POST /api/files, token, body {}", {"json": {}, "headers": token}),
    ("POST /api/files, token, text/plain", {"data": "{}", "content_type": "text/plain", "headers": token}),
    ("POST /api/files, no token, body {}", {"json": {}}),
    ("POST /api/files, no token, text/plain", {"data": "{}", "content_type": "text/plain"}),
):
    client.get("/api/me", headers=token)  # the token's use marker of this slot written before
    calls.clear()
    answer = client.post("/api/files", **kwargs)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items())) or "none"
    print(f"{label:40} {answer.status_code} {answer.json['error']['code']:15} store: {shown}")
kho.close()
