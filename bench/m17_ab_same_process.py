"""m17's verification-worker cuts against the former code, in one process, batches alternating.

    .venv/bin/python bench/m17_ab_same_process.py [ROUNDS] [--batch 16]

One process set up as a verification worker (fast path, ``_pool._warm_up``), each document as
the worker answers an ingest's "verify + text layer" request (``combined_reply``, the reply
pickled, the housekeeping after it). Batches of bench documents (``~/.cache/kho-bench/
signed-1000x3``, ``bench/bench_ingest.py --count 1000`` makes them) alternate A B B A per round:

* A: this tree as it is;
* B: the same process with m17's three cuts undone: the former recursion-headroom count
  (carried up through every level), the collector's permanent generation emptied
  (``gc.unfreeze``), and the subject-value name checks not remembered.

Prints, per round, CPU ms per document of A and B (``time.process_time``), then the mean of
B − A and in how many rounds A was lower. The load of other processes shifts both alike.

``--documents N``: instead, N pairs of documents one by one, A then B then B then A..., with
only the two function swaps (the headroom count, the name memo; the collector is left as the
worker has it): the mean of B − A over the pairs with its standard error.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ab_worker import alternate_batches, verification_worker

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-1000x3"


def _headroom_before() -> int:
    """``_reader._headroom`` before m17."""
    reached = 0

    def down(level: int) -> None:
        nonlocal reached
        reached = level
        down(level + 1)

    try:
        down(1)
    except RecursionError:
        pass
    return reached


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", type=int, nargs="?", default=10)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--documents", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    from ingest.signatures import _reader, rules

    one, documents = verification_worker(FOLDER, 2 * args.documents or 4 * args.batch * args.rounds)
    headroom, value_problems = _reader._headroom, rules._value_problems

    def use(current: bool) -> None:
        gc.collect()
        if current:
            _reader._headroom, rules._value_problems = headroom, value_problems
            gc.freeze()
        else:
            gc.unfreeze()
            _reader._headroom = _headroom_before
            rules._value_problems = value_problems.__wrapped__  # type: ignore[attr-defined]

    if args.documents:
        return _by_document(args.documents, documents, one, headroom, value_problems)
    alternate_batches(one, documents, use, args.rounds, args.batch)
    return 0


def _by_document(
    pairs: int,
    documents: Iterator[bytes],
    one: Callable[[bytes], None],
    headroom: Callable[[], int],
    value_problems: Callable[[str], tuple[str, ...]],
) -> int:
    from ingest.signatures import _reader, rules

    differences: list[float] = []
    for number in range(pairs):
        times = {}
        for current in (True, False) if number % 2 == 0 else (False, True):
            if current:
                _reader._headroom, rules._value_problems = headroom, value_problems
            else:
                _reader._headroom = _headroom_before
                rules._value_problems = value_problems.__wrapped__  # type: ignore[attr-defined]
            data = next(documents)
            start = time.process_time()
            one(data)
            times[current] = (time.process_time() - start) * 1000
        differences.append(times[False] - times[True])
    error = statistics.stdev(differences) / len(differences) ** 0.5
    print(
        f"{pairs} pairs: B-A mean {statistics.mean(differences):+.3f} ms/doc "
        f"(standard error {error:.3f}), median {statistics.median(differences):+.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
