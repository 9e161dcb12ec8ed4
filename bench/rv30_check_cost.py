"""CPU cost of rv30's checks on the real multi-signature corpus documents, and the whole
verification of each beside it.

    PYTHONPATH=<tree> <tree>/.venv/bin/python <tree>/bench/rv30_check_cost.py [runs]

For each ``vn-*`` corpus document signed two or more times: CPU ms min / median of ``runs``
(default 5) of

- ``pictures_added`` (rv30: comments showing a picture or stamp) from the last signed
  revision, and ``need_appearances_turned_on`` (rv30) from the first, when the tree has them
  ("-" on main); the reader is opened once per document and ``replaced_appearances`` runs
  first, untimed, as in the verifier;
- the signature-field enumeration with rv30's one-field-per-signature grouping (``fields``:
  ``enumerate_sig_fields`` alone on main);
- the whole in-process verification (``_verify_pdf``, fast reader).
"""

from __future__ import annotations

import os
import sys
from io import BytesIO
from pathlib import Path

from pyhanko.sign.fields import enumerate_sig_fields
from rv25_check_cost import CORPUS, MOMENT, _cpu  # the same timing and corpus as rv25

from ingest.signatures import TrustStore, _annotations, verify
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf


def _fields(reader: CachingPdfReader) -> object:
    fields = list(enumerate_sig_fields(reader, filled_status=True))
    group = getattr(verify, "_one_field_per_signature", None)
    return fields if group is None else group(reader, fields)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    trust = TrustStore.from_dir(CORPUS / "trust")
    pictures = getattr(_annotations, "pictures_added", None)
    redrawn = getattr(_annotations, "need_appearances_turned_on", None)
    print(f"tree: {Path(_annotations.__file__).parents[2]}  runs: {runs}  load: {os.getloadavg()[0]:.1f}")
    heads = ("pictures min/med", "needapp min/med", "fields min/med", "verify min/med")
    print(f"{'document':44} {'sigs':>4} " + " ".join(f"{h:>18}" for h in heads))
    for path in sorted(CORPUS.glob("vn-*.pdf")):
        data = path.read_bytes()
        reader = CachingPdfReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) < 2:
            continue
        first = min(s.signed_revision for s in signatures)
        last = max(s.signed_revision for s in signatures)
        _annotations.replaced_appearances(reader, first)  # runs just before them in the verifier
        picture_cost = "-" if pictures is None else _cpu(runs, pictures, reader, last)
        redraw_cost = "-" if redrawn is None else _cpu(runs, redrawn, reader, first)
        fields = _cpu(runs, _fields, reader)
        whole = _cpu(runs, _verify_pdf, data, trust, False, MOMENT, CachingPdfReader)
        print(
            f"{path.name[:44]:44} {len(signatures):4d} {picture_cost:>18} {redraw_cost:>18} "
            f"{fields:>18} {whole:>18}"
        )


if __name__ == "__main__":
    main()
