"""Cost of the access policy on reads (a script, not a test).

    .venv/bin/python bench/bench_access.py [--records 500] [--reads 2000]

Stores N records (local folder, fsync off), then times, over the same random reads:

* ``raw load``: reading and decrypting the latest version, no policy, no audit (the baseline);
* ``get (system)``: ``Repository.get`` as Kho's own process (policy skipped, not audited);
* ``get (person)``: ``Repository.get`` as a văn thư: the record's facts (its hồ sơ grants
  included), the policy decision and the ``record:view`` audit event;
* ``decide()``: the pure policy function alone;
* ``facts+decide``: the record's facts (one listing of the hồ sơ it sits in) and the decision;
* ``audit append``: the ``record:view`` event alone (event and witness writes).

Prints p50/p95 in microseconds and reads/s for each, and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repository.policy import Action, Principal, RecordFacts, Role, decide
from repository.records import SYSTEM, Actor, Repository
from repository.storage.local import LocalStore

AGENCY = "000.00.18.H40"


def metadata(n: int) -> dict[str, str]:
    """The metadata of the ``n``-th bench document (a Công văn); other bench scripts use it."""
    return {
        "type_name": "Công văn",
        "code_number": str(100 + n),
        "code_notation": "UBND-VP",
        "organ_name": "Ủy ban nhân dân tỉnh Ninh Bình",
        "issued_date": "2026-03-02",
        "subject": f"Về việc thử nghiệm số {n}",
        "signer_position": "Chánh Văn phòng",
        "signer_full_name": "Trần Thị Hoà",
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(label: str, ids: list[str], call: Callable[[str], object]) -> None:
    samples = []
    started = time.perf_counter()
    for record_id in ids:
        t = time.perf_counter()
        call(record_id)
        samples.append((time.perf_counter() - t) * 1e6)
    total = time.perf_counter() - started
    print(
        f"{label:14s} p50 {pct(samples, 50):8.1f} µs  p95 {pct(samples, 95):8.1f} µs"
        f"  {len(ids) / total:8.0f} reads/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = Repository(
            LocalStore(base / "s", fsync=False), LocalStore(base / "k", fsync=False), agency_id=AGENCY
        )
        clerk = Actor(
            "vanthu.bench",
            "bench",
            Principal("vanthu.bench", roles=frozenset({(AGENCY, Role.VAN_THU)}), clearance=1),
        )
        writer = Actor("bench", "bench", system=True)
        ids = [
            repo.create_document("den", metadata(n), None, None, writer).record_id
            for n in range(args.records)
        ]
        rng = random.Random(7)
        reads = [rng.choice(ids) for _ in range(args.reads)]
        for record_id in reads[:50]:  # warm caches (keys, files)
            repo.get(record_id, actor=SYSTEM)
        print(f"{args.records} records, {args.reads} reads each")
        timed("raw load", reads, lambda r: repo._load(r))
        timed("get (system)", reads, lambda r: repo.get(r, actor=SYSTEM))
        timed("get (person)", reads, lambda r: repo.get(r, actor=clerk))
        facts = RecordFacts("r", "den", AGENCY, 0, "someone", frozenset(), frozenset({"UNIT-B"}))
        principal = clerk.as_principal
        timed("decide()", reads, lambda _: decide(principal, Action.RECORD_VIEW, facts))
        loaded = {r: repo._load(r) for r in set(reads)}
        timed("facts+decide", reads, lambda r: decide(principal, Action.RECORD_VIEW, repo.facts(loaded[r])))
        timed("audit append", reads, lambda r: repo.audit.append("bench", "record:view", record_id=r))
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
