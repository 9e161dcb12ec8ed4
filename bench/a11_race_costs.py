"""What the a11 guards cost, and what closing the edit-vs-hold race would cost (review a11).

Counts the calls an act makes on the record store (each a request on S3, a file operation on the
local folder) and times it:

* ``complete_intake`` (a received document's registration: +1 GET of its catalog marker, to
  find a number a killed confirmation left);
* ``submit`` (a hồ sơ handed over to the archive, ``transition_file`` into ``submitted``: the
  ``claims/submitting/<id>`` claim, a stat and a LIST of the destruction claims);
* ``recall_incoming`` of a document in one hồ sơ (the recall's destruction looks for the hồ sơ's
  ``claims/submitting/`` claim and its state under its own claim; review r32 measured it);
* ``update_metadata`` (an edit), beside the time of one claim create + delete and one LIST on
  the same store: what a write-then-check guard against a hold placed meanwhile would add to
  every edit (a6's "found, not fixed").

Run it on main and on the branch with the same arguments and compare:

    PYTHONPATH=<tree>:<tree>/tests/support python bench/a11_race_costs.py [local|s3] [n]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch
from kho_buckets import drop_made
from kho_testing import CLERK, checked_by_ingest, incoming, make_store, new_repository, pdf_bytes

from bench.a6_race_costs import counting
from kho.timeutil import utcnow
from repository.policy import Action
from repository.records import Repository, claim_body
from retention.recall import Recalls

FILE = {
    "file_notation": "01.TCCB",
    "title": "Hồ sơ đo",
    "maintenance": "05 năm",
    "creator": "An",
    "start_date": "2026-01-05",
}


def measured(counts: Counter[str], act: Callable[[], Any]) -> tuple[Any, float, int]:
    counts.clear()
    t = time.perf_counter()
    out = act()
    return out, (time.perf_counter() - t) * 1000, sum(counts.values())


def report(kind: str, label: str, ms: list[float], calls: list[int]) -> None:
    print(
        f"{kind} {label}: store calls median {statistics.median(calls)} (min {min(calls)}, max"
        f" {max(calls)}); ms median {statistics.median(ms):.1f} (n={len(ms)})"
    )


def one_round(repo: Repository, counts: Counter[str], i: int) -> list[tuple[str, float, int]]:
    """One of each measured act: (label, ms, store calls)."""
    out: list[tuple[str, float, int]] = []

    def keep(label: str, ms: float, calls: int) -> None:
        out.append((label, ms, calls))

    rec = repo.create_intake("den", pdf_bytes(f"a11-bench-{i}"), "a.pdf", CLERK)
    rec = checked_by_ingest(repo, rec.record_id)
    md = incoming(code_number=str(2000 + i))
    done, ms, calls = measured(
        counts, lambda: repo.complete_intake(rec.record_id, md, expected_version=rec.version, actor=CLERK)
    )
    keep("complete_intake", ms, calls)
    edited, ms, calls = measured(
        counts,
        lambda: repo.update_metadata(
            done.record_id, {"subject": f"Sửa {i}"}, expected_version=done.version, actor=CLERK
        ),
    )
    keep("update_metadata (edit)", ms, calls)
    key = f"claims/editing/{edited.record_id}"
    _, ms, calls = measured(
        counts,
        lambda: (
            repo.store.put_if_absent(key, claim_body(edited.record_id, utcnow())),
            repo.store.delete(key),
        ),
    )
    keep("one claim create + delete", ms, calls)
    _, ms, calls = measured(counts, lambda: list(repo.store.list(f"holds/{edited.record_id}/")))
    keep("one LIST of the holds", ms, calls)
    file = repo.create_file({**FILE, "file_notation": f"{i + 10}.TCCB", "title": f"Hồ sơ đo {i}"}, CLERK)
    _, ms, calls = measured(
        counts,
        lambda: repo.transition_file(
            file.record_id,
            expected_version=file.version,
            actor=CLERK,
            permission=Action.FILE_EDIT,
            action="submission:submit",
            state="submitted",
        ),
    )
    keep("transition_file into submitted", ms, calls)
    holder = repo.create_file({**FILE, "file_notation": f"{i + 40}.TCCB", "title": f"Thu hồi {i}"}, CLERK)
    repo.add_to_file(holder.record_id, edited.record_id, expected_version=holder.version, actor=CLERK)
    recalls = Recalls(repo)
    _, ms, calls = measured(
        counts, lambda: recalls.recall_incoming(edited.record_id, "CV 1/BNV", "Thu hồi", actor=CLERK)
    )
    keep("recall_incoming (a document in one hồ sơ)", ms, calls)
    return out


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "local"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    base = Path(scratch.mkdtemp(prefix="a11-bench-"))
    repo: Repository = new_repository(make_store(kind, base, "store"), make_store(kind, base, "keys"))
    counts: Counter[str] = Counter()
    counting(repo.store, counts)
    rows: dict[str, tuple[list[float], list[int]]] = {}

    def keep(label: str, ms: float, calls: int) -> None:
        rows.setdefault(label, ([], []))
        rows[label][0].append(ms)
        rows[label][1].append(calls)

    for i in range(n):
        for label, ms, calls in one_round(repo, counts, i):
            keep(label, ms, calls)
    for label, (ms, calls) in rows.items():
        report(kind, label, ms, calls)


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_made()  # the S3 buckets it made
