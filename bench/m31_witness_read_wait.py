"""How long the audit witness read holds up a register number on S3 (m31, issue 14).

One repository on the test gateway takes numbers alternately with the read started ahead
(``S3Store.reads_are_round_trips``, the default) and without (the read made in place, as
before m31). Off: the time of the in-place read. On: the time ``_cached_head`` waits for the
read started beside the register entry (0 when it finished behind the entry). Needs the env of
``scripts/services.sh env``.

    .venv/bin/python bench/m31_witness_read_wait.py [numbers, default 400]
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from kho_testing import CLERK, make_store, new_repository, outgoing

from repository import audit
from repository.storage.local import LocalStore


class _Timed:
    def __init__(self, future: Future[Any], into: list[float]) -> None:
        self.future, self.into = future, into

    def result(self) -> Any:
        started = time.perf_counter()
        try:
            return self.future.result()
        finally:
            self.into.append((time.perf_counter() - started) * 1000)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    tmp = Path(scratch.mkdtemp(prefix="m31wait"))
    store = make_store("s3", tmp, "m31wait")
    repo = new_repository(store, LocalStore(tmp / "k"))
    for _ in range(3):
        repo.create_document("di", outgoing(), None, None, CLERK)
    waits: dict[bool, list[float]] = {True: [], False: []}
    real_read, real_ahead = audit.read_witness_tagged, audit.AuditLog._read_ahead

    def timed_read(s: Any) -> audit.WitnessRead:
        started = time.perf_counter()
        try:
            return real_read(s)
        finally:
            waits[False].append((time.perf_counter() - started) * 1000)

    def timed_ahead(log: audit.AuditLog) -> Any:
        future = real_ahead(log)
        return _Timed(future, waits[True]) if future is not None else None

    audit.AuditLog._read_ahead = timed_ahead  # type: ignore[method-assign]
    for i in range(count):
        ahead = i % 2 == 0
        store.reads_are_round_trips = ahead
        audit.read_witness_tagged = real_read if ahead else timed_read
        repo.create_document("di", outgoing(), None, None, CLERK)
    for ahead, times in waits.items():
        tenths = statistics.quantiles(times, n=10)
        print(
            f"read ahead {'on ' if ahead else 'off'}: {len(times)} numbers, witness read on the critical"
            f" path: median {statistics.median(times):.3f} ms, p10 {tenths[0]:.3f}, p90 {tenths[-1]:.3f},"
            f" mean {statistics.mean(times):.3f}"
        )


if __name__ == "__main__":
    main()
