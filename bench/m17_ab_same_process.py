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
import io
import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-1000x3"
NOW = datetime(2026, 12, 5, tzinfo=UTC)


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
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    logging.disable(logging.CRITICAL)
    from ingest.signatures import _fastpath, _pool, _reader, rules
    from ingest.signatures.combined import combined_reply
    from ingest.signatures.trust import TrustStore
    from ingest.text.settings import TextSettings

    assert _fastpath.activate()
    _pool._warm_up()
    trust = TrustStore.from_dir(FOLDER / "trust")
    _ = trust.trust_manager
    settings = TextSettings.from_env()
    paths = sorted(FOLDER.glob("signed-*.pdf"))
    needed = 8 + (2 * args.documents or 4 * args.batch * args.rounds)
    if len(paths) < needed:
        raise SystemExit(f"{needed} documents needed in {FOLDER}, {len(paths)} found")
    documents = iter(p.read_bytes() for p in paths)

    def one(data: bytes) -> None:
        cleanup: list[Callable[[], None]] = []
        reply = combined_reply(data, trust, False, NOW, rules.SAFE_CRYPTO, settings, cleanup)
        assert reply[0] == "ok", reply
        _pool._send(io.BytesIO(), reply)
        _pool._housekeeping(cleanup)

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

    def batch(current: bool) -> float:
        use(current)
        docs = [next(documents) for _ in range(args.batch)]
        start = time.process_time()
        for data in docs:
            one(data)
        return (time.process_time() - start) / len(docs) * 1000

    for _ in range(8):
        one(next(documents))
    if args.documents:
        return _by_document(args.documents, documents, one, headroom, value_problems)
    differences: list[float] = []
    a_lower = 0
    for number in range(1, args.rounds + 1):
        a1, b1, b2, a2 = batch(True), batch(False), batch(False), batch(True)
        a, b = (a1 + a2) / 2, (b1 + b2) / 2
        differences.append(b - a)
        a_lower += a < b
        print(f"round {number}: A {a:.2f}  B {b:.2f}  B-A {b - a:+.2f} ms/doc")
    print(
        f"B-A mean {statistics.mean(differences):+.2f} ms/doc, median "
        f"{statistics.median(differences):+.2f}; A lower in {a_lower} of {args.rounds} rounds"
    )
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
