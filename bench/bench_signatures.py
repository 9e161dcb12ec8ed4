"""Time signature verification on the real multi-signature Vietnamese documents.

    .venv/bin/python bench/bench_signatures.py [MANIFEST] [--trust DIR] [--repeat N] [--plain]

Documents: every ``vn-*`` manifest row with two or more signatures (``signed xN``, N >= 2).
Prints per-document times (best of ``--repeat``) and the mean. ``--plain`` times plain pyHanko
use (stock reader, one ``validate_pdf_signature`` call per signature) for comparison.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.signatures import TrustStore, verify_pdf

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared")) / (
    "corpora/pdf/MANIFEST.tsv"
)


def multi_signature_documents(manifest: Path) -> list[Path]:
    with manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        match = re.match(r"signed x(\d+)", row["signature_status"])
        if row["file"].startswith("vn-") and match and int(match.group(1)) >= 2:
            out.append(manifest.parent / row["file"])
    return out


def plain_pyhanko(data: bytes, trust: TrustStore) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(BytesIO(data), strict=False)
    for sig in reader.embedded_signatures:
        validate_pdf_signature(sig, ValidationContext(trust_roots=list(trust.anchors)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path, nargs="?", default=DEFAULT_MANIFEST)
    parser.add_argument("--trust", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    trust = TrustStore.from_dir(args.trust or args.manifest.parent / "trust")
    docs = multi_signature_documents(args.manifest)
    times = []
    for path in docs:
        data = path.read_bytes()
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            if args.plain:
                plain_pyhanko(data, trust)
            else:
                verify_pdf(data, trust)
            best = min(best, time.perf_counter() - t0)
        times.append(best)
        print(f"{best * 1000:9.1f} ms  {path.name}")
    mean = sum(times) / len(times)
    label = "plain pyHanko" if args.plain else "verify_pdf"
    print(f"{label}: mean {mean * 1000:.1f} ms per document over {len(times)} documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
