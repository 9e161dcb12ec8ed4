"""m48: what a trust store costs to build and to answer its first revocation lookups, with no
CRL and with one CRL of ENTRIES entries (rv52's, the signer not listed), made the way a
verification worker makes it (:meth:`TrustStore.from_der`). Prints the median of ROUNDS fresh
stores for: the build, the first lookup, the slowest later one (the one that indexes the CRL),
and the median of the last ten. No files are written.

    .venv/bin/python bench/m48_trust_crl_cost.py [ENTRIES] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time

from asn1crypto import x509
from rv52_big_crl import big_crl

from ingest.signatures import TrustStore
from ingest.testpki import TestPKI

LOOKUPS = 64
"""Lookups per store: past the index (each lookup of a path of two anchors and a leaf is two
CRL checks, and the store indexes after _INDEX_AFTER checks)."""


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def one_round(anchors: tuple[bytes, ...], crls: tuple[bytes, ...], leaf: bytes) -> dict[str, float]:
    started = time.perf_counter()
    store = TrustStore.from_der(anchors, "bench", crls)
    times = {"build": _ms(started)}
    path = [store.anchors[1], x509.Certificate.load(leaf)]
    each = []
    for _ in range(LOOKUPS):
        started = time.perf_counter()
        assert store.revocation(path) is None
        each.append(_ms(started))
    times["first lookup"] = each[0]
    times["slowest later lookup (indexes)"] = max(each[1:])
    times["last 10 lookups, median"] = statistics.median(each[-10:])
    return times


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    pki = TestPKI.build()
    crl = big_crl(pki, entries)
    anchors = (pki.root.cert_der, pki.ca.cert_der)
    for name, crls in (("no CRL", ()), (f"CRL of {entries} entries", (crl,))):
        runs = [one_round(anchors, crls, pki.personal.cert_der) for _ in range(rounds)]
        cells = ", ".join(f"{key} {statistics.median(r[key] for r in runs):.3f} ms" for key in runs[0])
        print(f"{name} (median of {rounds}): {cells}")


if __name__ == "__main__":
    main()
