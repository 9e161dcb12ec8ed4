"""Verification CPU per document in one process, as a pool worker spends it.

    .venv/bin/python bench/m14_verify_cpu.py TREE [N] [--corpus] [--prof]

TREE: the code tree first on ``sys.path`` (``.`` or a baseline such as ``/tmp/base-m14``). The
fast path is activated and the worker's warm-up is run as in ``_pool.worker_main``. Each document
is verified with ``verify_in_process`` and then the deferred housekeeping is run; both are
inside the measured CPU (``time.process_time``). Default: 8 warm-up documents, then N (default
96) documents of ``~/.cache/kho-bench/signed-200x3`` (``bench/bench_ingest.py --count 200``
makes them). ``--corpus``: warm up on 8 of those, then every file of
``$KHO_SHARED_DIR/corpora/pdf`` once, in name order, with the corpus trust store, so that no
document is seen twice (a document seen again would find its own checks remembered).
``--prof``: a cProfile of the measured part (``SORT``, default ``tottime``; ``TOP`` lines).
Run the trees interleaved (main, this, main, this) and compare min / median.
"""

from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FOLDER = Path(os.environ.get("KHO_BENCH_SIGNED", Path.home() / ".cache" / "kho-bench" / "signed-200x3"))
CORPUS = Path(os.environ.get("KHO_SHARED_DIR", "/work/shared")) / "corpora" / "pdf"
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def worker_like(tree: Path) -> Callable[[bytes, Any], Any]:
    """``tree`` first on ``sys.path``, the fast path and warm-up of a pool worker, and a function
    verifying one document as the worker does (its result; the housekeeping after it)."""
    sys.path.insert(0, str(tree))
    logging.disable(logging.CRITICAL)
    from ingest.signatures import _fastpath, _pool
    from ingest.signatures import verify as verification

    assert _fastpath.activate()
    _pool._warm_up()

    def verify(data: bytes, trust: Any) -> Any:
        cleanup: list = []
        result = verification.verify_in_process(data, trust, now=NOW, cleanup=cleanup)
        _pool._housekeeping(cleanup)
        return result

    return verify


def main() -> int:
    tree = Path(sys.argv[1]).resolve()
    count = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 96
    verify = worker_like(tree)
    from ingest.signatures.trust import TrustStore

    bench_trust = TrustStore.from_dir(FOLDER / "trust")
    _ = bench_trust.trust_manager
    bench_paths = sorted(FOLDER.glob("signed-*.pdf"))
    for path in bench_paths[:8]:
        verify(path.read_bytes(), bench_trust)
    if "--corpus" in sys.argv:
        trust = TrustStore.from_dir(CORPUS / "trust")
        _ = trust.trust_manager
        documents = [p.read_bytes() for p in sorted(CORPUS.glob("*.pdf"))]
    else:
        trust = bench_trust
        documents = [p.read_bytes() for p in bench_paths[8 : 8 + count]]
    profile = cProfile.Profile() if "--prof" in sys.argv else None
    start = time.process_time()
    if profile is not None:
        profile.enable()
    for data in documents:
        verify(data, trust)
    if profile is not None:
        profile.disable()
    spent = time.process_time() - start
    load = os.getloadavg()[0]
    per_document = 1000 * spent / len(documents)
    print(f"{tree}: {len(documents)} documents, CPU {per_document:.2f} ms/doc, load {load:.1f}")
    if profile is not None:
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text).sort_stats(os.environ.get("SORT", "tottime"))
        stats.print_stats(int(os.environ.get("TOP", "45")))
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
