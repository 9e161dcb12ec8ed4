"""rv52: the per-document cost of a large trust-list CRL in the verification pool.

Verifies one real test-PKI signature N times through the shared pool (``verify_pdf``) with the
trust list's anchors alone and with the same anchors plus a CRL of ENTRIES entries (the signer not
listed), interleaved, and prints the median and quartiles of each, and the bytes the pool's
workers read per document (``rchar`` of ``/proc/PID/io``: the request, the CRL if it is sent
again; m46). No files are written.

    .venv/bin/python bench/rv52_big_crl.py [ENTRIES] [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization

from ingest.signatures import TrustStore, _pool, verify_pdf
from ingest.testpki import TestPKI, document_for, sign_as

MOMENT = datetime(2026, 6, 1, tzinfo=UTC)


def big_crl(pki: TestPKI, entries: int) -> bytes:
    ca = cx509.load_der_x509_certificate(pki.ca.cert_der)
    key = serialization.load_der_private_key(pki.ca.key_der, password=None)
    when = MOMENT - timedelta(days=30)
    revoked = [
        cx509.RevokedCertificateBuilder().serial_number(number).revocation_date(when).build()
        for number in range(10**12, 10**12 + entries)
    ]  # given at once: add_revoked_certificate copies the list each time
    builder = cx509.CertificateRevocationListBuilder(
        issuer_name=ca.subject, last_update=MOMENT - timedelta(days=1),
        next_update=MOMENT + timedelta(days=6), revoked_certificates=revoked,
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def workers_read() -> int:
    """Bytes read so far by the shared pool's idle workers (0 where ``/proc`` is absent)."""
    total = 0
    for pid in _pool.shared_pool().idle_worker_cpu(settle=0.5):
        try:
            with open(f"/proc/{pid}/io", encoding="ascii") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))
        except (OSError, StopIteration):
            pass
    return total


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    pki = TestPKI.build()
    started = time.perf_counter()
    crl = big_crl(pki, entries)
    print(f"CRL: {entries} entries, {len(crl) / 1e6:.1f} MB, built in {time.perf_counter() - started:.1f} s")
    anchors = (pki.root.cert_der, pki.ca.cert_der)
    plain = TrustStore.from_der(anchors, "bench")
    listed = TrustStore.from_der(anchors, "bench", (crl,))
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=MOMENT - timedelta(days=2))
    for store in (plain, listed):  # warm every worker of the pool with both stores
        for _ in range(4):
            verify_pdf(signed, store, now=MOMENT)
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(rounds):
        for name, store in (("without", plain), ("with", listed)):
            started = time.perf_counter()
            verdict = verify_pdf(signed, store, now=MOMENT).verdict.indication.value
            times[name].append((time.perf_counter() - started) * 1000)
    half = rounds // 2  # the later half: each worker has indexed the CRL (after 32 lookups a store)
    for name, values in [*times.items(), *((f"{k}, later half", v[half:]) for k, v in times.items())]:
        q = statistics.quantiles(values, n=4)
        middle = statistics.median(values)
        print(f"{name}: median {middle:.1f} ms, quartiles {q[0]:.1f}-{q[2]:.1f} ms ({verdict})")
    # then, apart from the timed rounds (reading /proc waits for the worker's housekeeping):
    # what the workers read per document, interleaved as above
    read: dict[str, list[int]] = {"without": [], "with": []}
    for _ in range(10):
        for name, store in (("without", plain), ("with", listed)):
            before = workers_read()
            verify_pdf(signed, store, now=MOMENT)
            read[name].append(workers_read() - before)
    print(f"document {len(signed)} bytes, CRL {len(crl)} bytes")
    for name, values in read.items():
        middle = statistics.median(values)
        print(f"{name}: workers read median {middle:.0f} bytes a document, max {max(values)}")


if __name__ == "__main__":
    main()
