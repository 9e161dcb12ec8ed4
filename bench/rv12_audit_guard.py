"""What a20's audit guard (:mod:`web.cross_site`) costs per audit append (review rv12).

Three measures, min/median of 3 rounds, interleaved in the same minutes:

* the guard alone (``_guard([draft])``) outside a request (the CLI, workers), and inside a GET
  request with ``Sec-Fetch-Site: same-origin`` (the common page case: one header lookup);
* a whole ``AuditLog.append`` on a local store (fsync off) with the guard unset (a20's base) and
  set, alternating, so the guard's share of an append is seen beside the append itself.

    .venv/bin/python bench/rv12_audit_guard.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask

from repository.audit import AuditLog, EventDraft
from repository.storage.local import LocalStore
from web import cross_site

N_GUARD = 200_000
N_APPEND = 400


def _per_call(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    draft = [EventDraft("khuedt.ubnd", "content:download", record_id="0" * 24)]
    app = Flask("bench")
    work = Path(scratch.mkdtemp())
    log = AuditLog(LocalStore(work / "store", fsync=False))
    rows: dict[str, list[float]] = {k: [] for k in ("guard, no request", "guard, GET same-origin",
                                                     "append, no guard", "append, guard (GET same-origin)")}
    for _ in range(3):
        rows["guard, no request"].append(_per_call(lambda: cross_site._guard(draft), N_GUARD))
        with app.test_request_context("/records/x", headers={"Sec-Fetch-Site": "same-origin"}):
            rows["guard, GET same-origin"].append(_per_call(lambda: cross_site._guard(draft), N_GUARD))
            def append() -> None:
                log.append("khuedt.ubnd", "content:download", record_id="0" * 24)

            log.guard = None
            rows["append, no guard"].append(_per_call(append, N_APPEND))
            log.guard = cross_site._guard
            rows["append, guard (GET same-origin)"].append(_per_call(append, N_APPEND))
    for name, values in rows.items():
        print(f"{name:34s} µs per call: min {min(values):9.2f}  median {statistics.median(values):9.2f}")


if __name__ == "__main__":
    main()
