"""The two reads of a shared certificate that wrote to it, raced directly (bench/NOTES-rv57.md).

``python bench/rv57_lazy_race.py MODE TRIALS [THREADS]``: MODE ``main`` (a certificate
prepared as main's ``_certs.shared`` did: ``native`` and ``critical_extensions`` read) or
``rv57`` (prepared by ``_asn1.read_whole``). Each trial loads the certificates afresh,
prepares them, then THREADS threads (default 8) released together by a barrier each read:

* ``self_signed`` of the self-signed signer of ``dss__dss-2236_replace.pdf`` (no key
  identifier: ``"maybe"`` alone);
* ``dump()`` of the issuer name of the time-stamping authority's certificate in
  ``dss__doc-firmado-T.pdf`` (128 octets: header ``30 81 80``) and that name's attribute values.

Prints how many reads differed from one thread alone (or raised). Switch interval 1 µs during
the trials. Writes nothing.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from pathlib import Path

from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures._asn1 import read_whole

MODE, TRIALS = sys.argv[1], int(sys.argv[2])
THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 8
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pdf"


def _signature(name: str) -> object:
    reader = PdfFileReader(io.BytesIO((CORPUS / name).read_bytes()))
    return reader.embedded_signatures[0]


SELF_SIGNED = _signature("dss__dss-2236_replace.pdf").signer_cert.dump()  # type: ignore[attr-defined]
_token = _signature("dss__doc-firmado-T.pdf").signer_info["unsigned_attrs"][0]["values"][0]  # type: ignore[attr-defined]
TSA = _token["content"]["certificates"][0].chosen.dump()


def prepared(der: bytes) -> x509.Certificate:
    cert = x509.Certificate.load(der)
    if MODE == "rv57":
        read_whole(cert)
    else:
        _ = cert.native
        _ = cert.critical_extensions
    return cert


def name_read(cert: x509.Certificate) -> tuple[bytes, tuple[str, ...]]:
    name = cert.issuer
    return name.chosen.dump(), tuple(str(atv["value"].native) for rdn in name.chosen for atv in rdn)


def race(read, der: bytes) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(reads unlike one thread alone, trials with any)"""
    alone = read(prepared(der))
    wrong = trials = 0
    for _ in range(TRIALS):
        cert = prepared(der)
        barrier = threading.Barrier(THREADS, timeout=600)
        got: list[object] = [None] * THREADS

        def work(index: int, cert: x509.Certificate = cert, barrier: threading.Barrier = barrier,
                 got: list[object] = got) -> None:
            barrier.wait()
            try:
                got[index] = read(cert)
            except Exception as exc:
                got[index] = f"{type(exc).__name__}: {exc}"

        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for one in threads:
            one.start()
        for one in threads:
            one.join(600)
        bad = sum(1 for one in got if one != alone)
        wrong += bad
        trials += bool(bad)
    return wrong, trials


def main() -> None:
    sys.setswitchinterval(1e-6)
    try:
        self_signed = race(lambda cert: cert.self_signed, SELF_SIGNED)
        dumped = race(name_read, TSA)
    finally:
        sys.setswitchinterval(0.005)
    print(json.dumps({
        "mode": MODE, "trials": TRIALS, "threads": THREADS,
        "self_signed_wrong_reads": self_signed[0], "self_signed_trials_wrong": self_signed[1],
        "name_dump_wrong_reads": dumped[0], "name_dump_trials_wrong": dumped[1],
    }))


if __name__ == "__main__":
    main()
