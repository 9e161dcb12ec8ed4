"""A managed trust list with CRLs, for timing a cold ``kho verify`` against it (branch m47).

    .venv/bin/python bench/m47_managed_list.py DATA_DIR [ENTRIES]

Makes ``DATA_DIR/trust``: the shipped anchors, the test PKI's root and CA (``kho trust add``),
their two small CRLs and, when ENTRIES > 0, a CRL of the test CA listing ENTRIES serial numbers
(rv52's ``big_crl``: 100,000 entries are 2.5 MB of DER) — all through ``trustlist.add`` /
``add_crl``, so stored as ``kho trust`` stores them (PEM). Then e.g.
``bench/ab_verify_cold.py --before /tmp/base --data-dir DATA_DIR`` or
``bench/ir_verify_cold.py --tree . --data-dir DATA_DIR``. Remove DATA_DIR after.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rv52_big_crl import big_crl

from ingest.signatures import trustlist
from ingest.testpki import TestPKI


def main() -> None:
    folder = Path(sys.argv[1]) / "trust"
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    pki, now = TestPKI.build(), datetime.now(UTC)
    for name, der in (("kho-test-root", pki.root.cert_der), ("kho-test-ca", pki.ca.cert_der)):
        trustlist.add(folder, der, source="ingest/testpki.py", note="", by="bench", now=now, name=name)
    crls = [("ca", pki.ca_crl), ("root", pki.root_crl)]
    if entries:
        crls.append(("big", big_crl(pki, entries)))
    for name, data in crls:
        trustlist.add_crl(folder, data, source="ingest/testpki.py", note="", by="bench", now=now, name=name)
    print(sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()))


if __name__ == "__main__":
    main()
