"""Requests per audit act on the S3 gateway, one writer and two writers taking turns (task s3:
the check of the last event a process knew when the witness is past its cached end, w1 item 3).

    PYTHONPATH=<tree>:<tree>/tests/support python bench/bench_audit_forged_check.py [ACTS]

Needs the services' environment (``eval "$(bash scripts/services.sh env)"``). Each act is two
events (one batch object with group commit). Counts every HTTP request urllib3 sends, by method,
to the data bucket and to the others (the claims bucket), divided by the acts. Counts, not
times: run it on the tree before and after, alternating; the counts do not depend on load.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import Counter
from urllib.parse import urlsplit

import urllib3
from kho_testing import s3_options, two_event_act

from repository.audit import AuditLog
from repository.storage import open_store

counts: Counter[str] = Counter()
BUCKET = "forged-" + uuid.uuid4().hex[:8]
_real = urllib3.PoolManager.urlopen


def _counting(self: urllib3.PoolManager, method: str, url: str, *args: object, **kwargs: object) -> object:
    bucket = urlsplit(url).path.split("/")[1] if url.startswith("http") else url.split("/")[1]
    counts[f"{method}{'' if bucket == BUCKET else ' (other)'}"] += 1
    return _real(self, method, url, *args, **kwargs)


urllib3.PoolManager.urlopen = _counting  # type: ignore[method-assign]


def main() -> None:
    acts = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    options = s3_options()
    assert options is not None, "KHO_TEST_S3_ENDPOINT is not set"
    store = open_store(f"s3://{BUCKET}", **options)
    a, b = AuditLog(store), AuditLog(store)
    for log, name in ((a, "x"), (b, "y"), (a, "x"), (b, "y")):  # both have appended before
        two_event_act(log, name)
    out = {}
    for label, logs in (("one writer", [a]), ("two writers taking turns", [a, b])):
        counts.clear()
        for n in range(acts):
            two_event_act(logs[n % len(logs)], f"r{n}")
        out[label] = {method: round(c / acts, 2) for method, c in sorted(counts.items())}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
