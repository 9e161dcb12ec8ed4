"""CPU cost of reading the whole audit log with events withheld (a script, not a test).

    .venv/bin/python bench/bench_audit_withheld.py [--records 500] [--views 4] [--runs 7]

Stores N documents (local folder, fsync off), one in ten Mật, each viewed ``--views`` times,
then measures the CPU time (user+sys of this process, ``time.process_time``) of
``Repository.audit_events`` over the whole log, median of ``--runs``, for:

* ``cleared``: a kiểm toán viên cleared for Tuyệt mật (nothing can be withheld: no lookup);
* ``below``: a kiểm toán viên cleared for Thường (the Mật ones' events are withheld). The
  repository has its audit index file, as an installation does (``<data>/audit-index.sqlite``):
  the first query reads each record once and notes its secrecy in the index; the later ones
  (the median) read none. ``first`` is that first query, ``loads`` the store GETs per query.

Load on the machine changes wall time, not this CPU count much.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_access import metadata

from repository.policy import Principal, Role
from repository.records import Actor, Repository, is_withheld
from repository.storage.local import LocalStore

AGENCY = "000.00.18.H40"


def _metadata(n: int) -> dict[str, object]:
    """bench_access's document, one in ten of them Mật."""
    return {**metadata(n), "secrecy": 1 if n % 10 == 0 else 0}


def auditor(name: str, clearance: int) -> Actor:
    principal = Principal(name, roles=frozenset({(AGENCY, Role.KIEM_TOAN)}), clearance=clearance)
    return Actor(name, "bench", principal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        store = LocalStore(base / "s", fsync=False)
        repo = Repository(
            store,
            LocalStore(base / "k", fsync=False),
            agency_id=AGENCY,
            audit_index=base / "audit-index.sqlite",
        )
        gets = 0
        plain_get = store.get

        def counting_get(key: str) -> bytes:
            nonlocal gets
            if key.startswith("records/"):
                gets += 1
            return plain_get(key)

        store.get = counting_get  # type: ignore[method-assign]  # a count in the bench only
        writer = Actor("bench", "bench", system=True)
        ids = [
            repo.create_document("den", _metadata(n), None, None, writer).record_id
            for n in range(args.records)
        ]
        for record_id in ids:
            for _ in range(args.views):
                repo.audit.append("vanthu.bench", "record:view", record_id=record_id, version=1)
        for label, who in (("cleared", auditor("kt.top", 3)), ("below", auditor("kt.low", 0))):
            samples, shown, loads = [], [], []
            for _ in range(args.runs):
                gets = 0
                started = time.process_time()
                shown = repo.audit_events(actor=who, action="record:view")
                samples.append(time.process_time() - started)
                loads.append(gets)
            hidden = sum(1 for e in shown if is_withheld(e))
            print(
                f"{label:8s} events {len(shown):6d}  withheld {hidden:5d}"
                f"  CPU first {samples[0] * 1000:8.1f} ms  median of the rest"
                f" {statistics.median(samples[1:]) * 1000:8.1f} ms  record GETs first {loads[0]}"
                f" later {loads[-1]}  (runs {args.runs})"
            )


if __name__ == "__main__":
    main()
