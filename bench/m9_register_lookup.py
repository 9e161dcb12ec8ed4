"""What the next confirmation pays after one failed between its catalog marker and its register
entry (review r32 left open; fixed in m9 with the marker's ``from_number``).

Fills a register with ``n`` entries (registered văn bản đến), then ``rounds`` times: a received
document whose confirmation fails at the store's stage of its register entry (an OSError raised
there once), then the next confirmation of it, counted (calls on the record store, GETs of
register entries) and timed. Also the store calls of a plain confirmation (the hot path).

    PYTHONPATH=<tree>:<tree>/tests/support python bench/m9_register_lookup.py [local|s3] [n] [rounds]
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
from kho_testing import CLERK, checked_by_ingest, incoming, make_store, new_repository, pdf_bytes

from bench.a6_race_costs import counting
from repository.records import Repository


def _confirm(repo: Repository, record_id: str, version: int, number: int) -> Any:
    md = incoming(code_number=str(number), issued_date="2026-03-02")
    return repo.complete_intake(record_id, md, expected_version=version, actor=CLERK)


def _intake(repo: Repository, seed: str) -> Any:
    return checked_by_ingest(repo, repo.create_intake("den", pdf_bytes(seed), "cv.pdf", CLERK).record_id)


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "local"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    base = Path(scratch.mkdtemp(prefix="m9-bench-"))
    repo = new_repository(make_store(kind, base, "store"), make_store(kind, base, "keys"))
    for i in range(n):
        repo.create_document("den", incoming(code_number=str(10000 + i)), None, None, CLERK)
    store = repo.store
    real_stage, real_get = store.stage, store.get
    fail = {"armed": False, "hit": False}
    register_gets: list[str] = []

    def failing(key: str, *args: Any, **kwargs: Any) -> Any:
        if fail["armed"] and key.startswith("registers/"):
            fail.update(armed=False, hit=True)
            raise OSError(28, "No space left on device")
        return real_stage(key, *args, **kwargs)

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.startswith("registers/"):
            register_gets.append(key)
        return real_get(key, *args, **kwargs)

    store.stage = failing  # type: ignore[method-assign]
    store.get = get  # type: ignore[method-assign]
    counts: Counter[str] = Counter()
    counting(store, counts)
    after_ms: list[float] = []
    after_calls: list[int] = []
    after_gets: list[int] = []
    plain_calls: list[int] = []
    for r in range(rounds):
        rec = _intake(repo, f"m9-{r}")
        fail.update(armed=True, hit=False)
        try:
            _confirm(repo, rec.record_id, rec.version, 100 + r)
        except OSError:
            pass
        assert fail["hit"], "the entry's stage was never reached"
        counts.clear()
        register_gets.clear()
        start = time.perf_counter()
        _confirm(repo, rec.record_id, rec.version, 100 + r)
        after_ms.append((time.perf_counter() - start) * 1000)
        after_calls.append(sum(counts.values()))
        after_gets.append(len(register_gets))
        plain = _intake(repo, f"m9-p{r}")  # a plain confirmation (the hot path), same counters
        counts.clear()
        _confirm(repo, plain.record_id, plain.version, 200 + r)
        plain_calls.append(sum(counts.values()))
    print(
        f"{kind} n={n} rounds={rounds}: next confirmation after a failure before its entry:"
        f" {statistics.median(after_gets)} register GETs, {statistics.median(after_calls)} store calls,"
        f" {statistics.median(after_ms):.1f} ms (median; all: {[round(x, 1) for x in after_ms]});"
        f" a plain confirmation: {statistics.median(plain_calls)} store calls"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_made()  # the S3 buckets it made
