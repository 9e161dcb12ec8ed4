"""What the a6 race guards cost per act: store requests and milliseconds (review a6).

Counts the calls an act makes on the record store (each a request on S3, a file operation on the
local folder) and times it, for ``complete_intake`` (the registration of a received document,
``claims/intake/<id>``) and ``add_to_file`` (a document put in a hồ sơ, the destruction claim
check). Run it on main and on the branch with the same arguments and compare:

    PYTHONPATH=<tree>:<tree>/tests/support python bench/a6_race_costs.py [local|s3] [n]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import scratch
from kho_buckets import drop_made
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

from repository.records import SYSTEM

CALLS = ("get", "put", "put_if_absent", "put_new", "stat", "exists", "list", "delete", "stage")


def counting(store: Any, counts: Counter[str]) -> None:
    for name in CALLS:
        real = getattr(store, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += 1
            result = _real(*args, **kwargs)
            return list(result) if _name == "list" else result

        setattr(store, name, wrapped)


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "local"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    base = Path(scratch.mkdtemp(prefix="a6-bench-"))
    repo = new_repository(make_store(kind, base, "store"), make_store(kind, base, "keys"))
    counts: Counter[str] = Counter()
    counting(repo.store, counts)
    file = repo.create_file(
        {
            "file_notation": "01.TCCB",
            "title": "Hồ sơ đo",
            "maintenance": "05 năm",
            "creator": "An",
            "start_date": "2026-01-05",
        },
        CLERK,
    )
    complete_ms, complete_calls, add_ms, add_calls = [], [], [], []
    for i in range(n):
        rec = repo.create_intake("den", pdf_bytes(f"bench-{i}"), "a.pdf", CLERK)
        rec = repo.set_extra(
            rec.record_id, {"signature_verdict": "NO_SIGNATURE"}, actor=SYSTEM, action="ingest:signatures"
        )
        counts.clear()
        t = time.perf_counter()
        done = repo.complete_intake(
            rec.record_id, incoming(code_number=str(1000 + i)), expected_version=rec.version, actor=CLERK
        )
        complete_ms.append((time.perf_counter() - t) * 1000)
        complete_calls.append(sum(counts.values()))
        counts.clear()
        t = time.perf_counter()
        file = repo.add_to_file(file.record_id, done.record_id, expected_version=file.version, actor=CLERK)
        add_ms.append((time.perf_counter() - t) * 1000)
        add_calls.append(sum(counts.values()))
    for label, ms, calls in (
        ("complete_intake", complete_ms, complete_calls),
        ("add_to_file", add_ms, add_calls),
    ):
        print(
            f"{kind} {label}: store calls median {statistics.median(calls)} (min {min(calls)}, max"
            f" {max(calls)}); ms median {statistics.median(ms):.1f}, p90"
            f" {sorted(ms)[int(len(ms) * 0.9) - 1]:.1f} (n={n})"
        )


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_made()  # the S3 buckets it made
