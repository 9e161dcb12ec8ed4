"""CPU cost of verifying person + agency documents (the test PKI, trusted) in process:
the shape whose later changes (the agency's signature) make rv18's drawn-over check run.

    PYTHONPATH=<tree> .venv/bin/python <tree>/bench/rv18_overlay_cost.py [runs]

Prints CPU ms min / median per document for 1-, 5- and 20-page documents, fast reader."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import scratch

from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import TestPKI, Variant, make_variant

logging.disable(logging.CRITICAL)
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    pki = TestPKI.build()
    trust = TrustStore.from_dir(pki.write_trust_dir(Path(scratch.mkdtemp())))
    for pages in (1, 5, 20):
        data = make_variant(Variant.VALID, pki=pki, pages=pages)
        times, verdict = [], None
        for _ in range(runs):
            start = time.process_time()
            verdict = _verify_pdf(data, trust, False, MOMENT, CachingPdfReader).verdict
            times.append((time.process_time() - start) * 1000)
        times.sort()
        print(
            f"{pages:3d} pages, person + agency: CPU ms min {times[0]:7.1f} median "
            f"{times[len(times) // 2]:7.1f}  ({verdict.indication.value if verdict else '?'})"
        )


if __name__ == "__main__":
    main()
