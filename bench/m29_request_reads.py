"""m29: the S3 round trips of one logged-in web/API request, by request kind, on the tree named by
argv[1] (default ``.``; run it with main's tree for the baseline, in the same run).

    eval "$(bash /work/main/scripts/services.sh env)"
    .venv/bin/python bench/m29_request_reads.py /work/main [ROUNDS] [--keys]
    .venv/bin/python bench/m29_request_reads.py .          [ROUNDS] [--keys]

Every request the store sends to the gateway goes through ``urllib3.PoolManager.urlopen`` (as
``bench/bench_store.py`` counts them): counted by method (GET, HEAD, LIST = a GET with a query,
PUT, DELETE) for the last round of each kind, with wall ms per request (min / median over ROUNDS).
``--keys`` prints each key read in the last round and the Kho frame that asked for it."""

from __future__ import annotations

import collections
import os
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from a22_site import tree_first

TREE = tree_first([sys.argv[0]] + [a for a in sys.argv[1:2] if not a.startswith("--")])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else 50
KEYS = "--keys" in sys.argv

import urllib3  # noqa: E402

COUNTS: collections.Counter[str] = collections.Counter()
READS: list[tuple[str, str, str]] = []
_urlopen = urllib3.PoolManager.urlopen


def _asker() -> str:
    """The innermost frames of Kho's own code (not the store's, not Flask's) that sent it."""
    frames = [
        f"{Path(f.filename).stem}.{f.name}"
        for f in traceback.extract_stack()
        if str(TREE) in f.filename and "/storage/" not in f.filename and "bench" not in f.filename
    ]
    return " < ".join(reversed(frames[-4:]))


def _counting(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    kind = "LIST" if method == "GET" and "?" in url else method
    COUNTS[kind] += 1
    if KEYS:
        key = url.split("://", 1)[-1].split("/", 2)[-1]
        READS.append((kind, key[:90], _asker()))
    return _urlopen(self, method, url, *args, **kwargs)


urllib3.PoolManager.urlopen = _counting  # type: ignore[method-assign]

from kho_people import make_people  # noqa: E402
from kho_retention import drop_env_buckets, s3_env  # noqa: E402
from kho_testing import incoming  # noqa: E402
from kho_web import login  # noqa: E402

from kho.config import Settings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.context import Kho  # noqa: E402

tmp = Path(scratch.mkdtemp(prefix="m29bench"))
buckets = s3_env(tmp, kept=True)
print("buckets:", buckets["KHO_STORE_URL"], buckets["KHO_KEYSTORE_URL"], flush=True)
os.environ.update(buckets, KHO_COOKIE_SECURE="false", KHO_SESSION_SECRET=os.urandom(16).hex())
kho = Kho(Settings.from_env())
people = make_people(kho)
app = create_app(kho.settings, kho=kho)
app.extensions["kho_login_limiter"].attempts = 10**6
app.extensions["kho_login_limiter"].per_address = 10**6
clerk = people.actor("van_thu")
doc = kho.repo.create_document("den", incoming(code_number="7001"), None, None, clerk)
import repository.accounts  # noqa: E402

assert Path(repository.accounts.__file__ or "").is_relative_to(TREE), repository.accounts.__file__

web = app.test_client()
assert login(web, people, "van_thu").status_code == 302
api = app.test_client()
token = people.headers("van_thu")
kinds = {
    "GET / (session)": lambda: web.get("/"),
    "GET /search?q=… (session)": lambda: web.get("/search?q=c%C3%B4ng+v%C4%83n"),
    "GET /records/<id> (session)": lambda: web.get(f"/records/{doc.record_id}"),
    "GET /api/records/<id> (token)": lambda: api.get(f"/api/records/{doc.record_id}", headers=token),
    "GET /api/work (token)": lambda: api.get("/api/work", headers=token),
}
print("tree:", TREE)
for label, send in kinds.items():
    walls = []
    for _ in range(ROUNDS):
        COUNTS.clear()
        READS.clear()
        start = time.perf_counter()
        answer = send()
        walls.append((time.perf_counter() - start) * 1000)
    shown = " ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
    print(
        f"{label:32} {answer.status_code} wall ms min {min(walls):6.1f} med {statistics.median(walls):6.1f}"
        f"  round trips {sum(COUNTS.values()):3}: {shown}"
    )
    for kind, key, who in READS:
        print(f"    {kind:6} {key:70} {who}")
kho.close()
drop_env_buckets(buckets)  # (kept=True: no test's end removes them)
