"""CPU cost of rv25's checks on the real multi-signature corpus documents, and the whole
verification of each beside it.

    PYTHONPATH=<tree> <tree>/.venv/bin/python <tree>/bench/rv25_check_cost.py [runs]

For each ``vn-*`` corpus document signed two or more times: CPU ms min / median of ``runs``
(default 5) of

- ``unsigned_signature_appearances`` (rv25: signature fields drawn after signing) on the
  earliest signed revision, when the tree has it ("-" on main);
- ``_structure.audit`` from the end of the earliest signed revision (rv25 adds the
  table / ``/XRefStm`` comparison of hybrid sections);
- the whole in-process verification (``_verify_pdf``, fast reader).

The reader is opened once per document for the first two (as the verifier has it open), and
``replaced_appearances`` runs first, untimed, as it does in the verifier just before the new
check (it reads the same page tree and widgets: cold, the new check alone read 19 ms of
objects on the 65-page ``vn-gov__03``)."""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from ingest.signatures import TrustStore, _annotations, _structure
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf

logging.disable(logging.CRITICAL)
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
CORPUS = Path(os.environ.get("KHO_SHARED_DIR", "/work/shared")) / "corpora" / "pdf"


def _cpu(runs: int, action: Callable[..., object], *args: object) -> str:
    times = []
    for _ in range(runs):
        start = time.process_time()
        action(*args)
        times.append((time.process_time() - start) * 1000)
    return f"{min(times):7.2f} / {statistics.median(times):7.2f}"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    trust = TrustStore.from_dir(CORPUS / "trust")
    check = getattr(_annotations, "unsigned_signature_appearances", None)
    print(f"tree: {Path(_annotations.__file__).parents[2]}  runs: {runs}  load: {os.getloadavg()[0]:.1f}")
    heads = ("pictures min/med", "audit min/med", "verify min/med")
    print(f"{'document':48} {'sigs':>4} " + " ".join(f"{h:>18}" for h in heads))
    for path in sorted(CORPUS.glob("vn-*.pdf")):
        data = path.read_bytes()
        reader = CachingPdfReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) < 2:
            continue
        first = min(s.signed_revision for s in signatures)
        first_end = min(sum(list(s.sig_object["/ByteRange"])[-2:]) for s in signatures)
        _annotations.replaced_appearances(reader, first)  # runs just before it in the verifier
        pictures = "-" if check is None else _cpu(runs, check, reader, first)
        audit = _cpu(runs, _structure.audit, data, first_end, reader)
        verify = _cpu(runs, _verify_pdf, data, trust, False, MOMENT, CachingPdfReader)
        print(f"{path.name[:48]:48} {len(signatures):4d} {pictures:>18} {audit:>18} {verify:>18}")


if __name__ == "__main__":
    main()
