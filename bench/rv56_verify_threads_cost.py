"""What parsing the anchors whole (rv56) costs a single-threaded verification.

Measures, in one process with the fast path on (as a worker), with the corpus trust list
(``corpora/pdf/trust``, 4 anchors) and one corpus document:

* ``arrival``: a worker's store arriving (:class:`_TrustStores.get`: ``from_der`` and the
  trust manager; after rv56 also the full parse of the anchors);
* ``first``/``later``: the first verification with that store, and the median of the later ones;
* ``child``: what a forked ``kho verify`` child does per document (a ``from_der`` store made
  with ``one_thread`` where the code has it, then one verification), memos emptied each time.

Run it in the tree to measure (``PYTHONPATH=<other tree>`` for another); nothing is written.
``python bench/rv56_verify_threads_cost.py [FILE] [REPEATS]``.
"""

from __future__ import annotations

import inspect
import json
import logging
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

logging.disable(logging.CRITICAL)
from ingest.signatures import _fastpath  # noqa: E402

_fastpath.activate()
from ingest.signatures import _certs, _matches, _paths, _sigcheck  # noqa: E402
from ingest.signatures._pool import _TrustStores  # noqa: E402
from ingest.signatures.trust import TrustStore  # noqa: E402
from ingest.signatures.verify import verify_in_process  # noqa: E402
from ingest.workerpool import trust_material  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pdf"
MOMENT = datetime(2026, 12, 1, tzinfo=UTC)


def _empty_memos() -> None:
    _certs._shared.clear()
    _paths.clear()
    _matches.clear()
    _sigcheck.shared_validator()._verified.clear()


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "vn-gov__194-ttg.signed.pdf"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    data = (CORPUS / name).read_bytes()
    lists = TrustStore.from_dir(CORPUS / "trust")
    material = trust_material(lists.der, lists.source, ())
    one_thread = "one_thread" in inspect.signature(TrustStore.from_der).parameters
    arrival, first, later, child = [], [], [], []
    for _ in range(repeats):
        _empty_memos()
        start = time.process_time()
        store = _TrustStores(TrustStore).get(material.digest, material.payload)
        arrival.append(time.process_time() - start)
        start = time.process_time()
        verify_in_process(data, store, now=MOMENT)
        first.append(time.process_time() - start)
        for _ in range(3):
            start = time.process_time()
            verify_in_process(data, store, now=MOMENT)
            later.append(time.process_time() - start)
        _empty_memos()
        start = time.process_time()
        kwargs = {"one_thread": True} if one_thread else {}
        store = TrustStore.from_der(lists.der, lists.source, **kwargs)
        verify_in_process(data, store, now=MOMENT)
        child.append(time.process_time() - start)
    print(json.dumps({
        "file": name, "one_thread": one_thread,
        **{key: round(statistics.median(values) * 1e3, 2) for key, values in
           (("arrival_ms", arrival), ("first_ms", first), ("later_ms", later), ("child_ms", child))},
    }))


if __name__ == "__main__":
    main()
