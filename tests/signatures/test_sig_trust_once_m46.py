"""m46: the trust list's material (anchors and CRLs) goes to a verification worker once, named by
its digest after that, and a worker keeps at most two trust stores.

Against real verification workers (``VerifierPool``, ``python -m ingest.signatures._worker``),
real test-PKI signatures and real CRLs signed by the test CA. What a worker was sent is read
from the kernel's count of the bytes the worker process read (``rchar`` of
``/proc/PID/io``): nothing of the pool is instrumented."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from kho_crls import make_crl, serial

from ingest.signatures import Indication, PdfVerification, TrustStore, trustlist, verify_pdf
from ingest.signatures.combined import verify_and_read_text
from ingest.signatures.rules import SAFE_CRYPTO
from ingest.testpki import REVOCATION_TIME, TestPKI, document_for, sign_as
from ingest.text import TextSettings
from ingest.workerpool import Limits, VerifierPool, _Worker

# what m46 added, imported where it is used: the first two tests also run against the code before
# it (bench/NOTES-m46.md: what failed there)
MATERIAL_UNKNOWN = "material-unknown"

AFTER = REVOCATION_TIME + timedelta(days=90)  # the signing and validation time
ENTRIES = 20_000  # ~0.5 MB of DER, larger than any request without it


def big_crl(pki: TestPKI, listed: int) -> bytes:
    """A CRL of the test CA with ENTRIES serials, ``listed`` among them (revoked before AFTER)."""
    ca = cx509.load_der_x509_certificate(pki.ca.cert_der)
    key = serialization.load_der_private_key(pki.ca.key_der, password=None)
    revoked = [
        cx509.RevokedCertificateBuilder().serial_number(number).revocation_date(REVOCATION_TIME).build()
        for number in (*range(10**12, 10**12 + ENTRIES), listed)
    ]
    builder = cx509.CertificateRevocationListBuilder(
        issuer_name=ca.subject, last_update=AFTER - timedelta(days=1),
        next_update=AFTER + timedelta(days=6), revoked_certificates=revoked,
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def crl(pki: TestPKI) -> bytes:
    return big_crl(pki, serial(pki.revoked_personal.cert_der))


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return sign_as(document_for(pki.revoked_personal).data, pki, pki.revoked_personal, at=AFTER)


def _worker_pid(pool: VerifierPool) -> int:
    (pid,) = pool.idle_worker_cpu()
    return pid


def _read_bytes(pid: int) -> int:
    """Bytes process ``pid`` has read so far (``rchar``: pipes included)."""
    with open(f"/proc/{pid}/io", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))


def _found(result: PdfVerification) -> tuple[Indication, str | None]:
    return result.verdict.indication, result.verdict.sub_indication


REVOKED = (Indication.TOTAL_FAILED, "REVOKED")


def test_a_warm_worker_is_sent_the_crl_once_and_a_replaced_worker_again(
    pki: TestPKI, crl: bytes, signed: bytes
) -> None:
    trust = TrustStore.from_der((pki.root.cert_der, pki.ca.cert_der), "test", (crl,))
    pool = VerifierPool(1, Limits(timeout=600, memory_mb=2048))
    try:
        assert _found(verify_pdf(signed, trust, now=AFTER, pool=pool)) == REVOKED
        pid = _worker_pid(pool)
        read: list[int] = []
        for _ in range(3):
            before = _read_bytes(pid)
            assert _found(verify_pdf(signed, trust, now=AFTER, pool=pool)) == REVOKED
            read.append(_read_bytes(pid) - before)
        # each document is the document and a few hundred bytes, never the CRL again
        assert all(n < len(signed) + len(crl) // 4 for n in read), (read, len(crl))

        os.kill(pid, signal.SIGKILL)  # the worker dies between documents (out of memory, a crash)
        deadline = time.monotonic() + 60
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        verify_pdf(signed, trust, now=AFTER, pool=pool)  # found dead: that document is INDETERMINATE
        assert _found(verify_pdf(signed, trust, now=AFTER, pool=pool)) == REVOKED  # a new worker
        replaced = _worker_pid(pool)
        assert replaced != pid
        assert _read_bytes(replaced) >= len(crl)  # it was sent the CRL
    finally:
        pool.close()


def test_the_next_document_after_a_crl_is_added_or_removed_gets_the_new_verdict(
    pki: TestPKI, tmp_path: Path, signed: bytes
) -> None:
    """A warm worker (its store and validated-path memory), a managed trust list changed with
    ``add_crl`` and ``remove_crl``: the next document, verification-only or combined with the
    text layer, has the new verdict each time, and a list changed back finds its store again."""
    directory = tmp_path / "trust"
    for name, der in (("kho-test-root", pki.root.cert_der), ("kho-test-ca", pki.ca.cert_der)):
        trustlist.add(directory, der, source="ingest/testpki.py", note="", by="qt", now=AFTER, name=name)
    small = make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME},
                     this_update=AFTER - timedelta(days=1), next_update=AFTER + timedelta(days=6))
    pool = VerifierPool(1, Limits(timeout=600, memory_mb=2048))

    def both(trust: TrustStore) -> set[tuple[Indication, str | None]]:
        read = verify_and_read_text(signed, trust, allow_fetching=False, policy=SAFE_CRYPTO,
                                    settings=TextSettings(), pool=pool, now=AFTER)
        assert read is not None
        return {_found(verify_pdf(signed, trust, now=AFTER, pool=pool)), _found(read.verification)}

    try:
        for _ in range(2):
            assert both(trustlist.read(directory).store()) == {(Indication.TOTAL_PASSED, None)}
        entry = trustlist.add_crl(directory, small, source="https://ca.kho.test/ca.crl",
                                  note="", by="qt", now=AFTER)
        assert both(trustlist.read(directory).store()) == {REVOKED}
        trustlist.remove_crl(directory, entry.sha256[:16])
        assert both(trustlist.read(directory).store()) == {(Indication.TOTAL_PASSED, None)}
        trustlist.add_crl(directory, small, source="https://ca.kho.test/ca.crl", note="", by="qt", now=AFTER)
        assert both(trustlist.read(directory).store()) == {REVOKED}
    finally:
        pool.close()


def _materials(pki: TestPKI, count: int) -> list[Any]:
    from ingest.workerpool import trust_material

    return [trust_material((pki.root.cert_der, pki.ca.cert_der), f"list {n}") for n in range(count)]


def _ask(worker: _Worker, data: bytes, digest: str, payload: object) -> tuple[str, object]:
    reply = worker.call(data, (digest, payload, False, AFTER, SAFE_CRYPTO, None), 600, 60)
    assert isinstance(reply, tuple) and len(reply) == 2
    return reply[0], reply[1]


def test_a_worker_keeps_the_two_latest_trust_stores_and_asks_for_an_evicted_one(
    pki: TestPKI, signed: bytes
) -> None:
    first, second, third = _materials(pki, 3)
    worker = _Worker(2048)
    try:
        for material in (first, second, third):
            assert _ask(worker, signed, material.digest, material.payload)[0] == "ok"
        assert _ask(worker, signed, first.digest, None) == (MATERIAL_UNKNOWN, first.digest)
        assert _ask(worker, signed, second.digest, None)[0] == "ok"
        assert _ask(worker, signed, third.digest, None)[0] == "ok"
    finally:
        worker.stop()


def test_the_kept_stores_are_bounded_and_the_least_recently_used_goes() -> None:
    from ingest.signatures._pool import _TrustStores
    from ingest.workerpool import trust_material

    stores = _TrustStores(TrustStore)
    made = [trust_material((), f"list {n}") for n in range(5)]
    for material in made[:3]:
        assert isinstance(stores.get(material.digest, material.payload), TrustStore)
    assert stores.digests() == (made[1].digest, made[2].digest)
    assert isinstance(stores.get(made[1].digest, None), TrustStore)  # used: kept over made[2]
    stores.get(made[3].digest, made[3].payload)
    assert stores.digests() == (made[1].digest, made[3].digest)


def test_a_digest_can_only_select_the_material_sent_with_it(pki: TestPKI, signed: bytes, crl: bytes) -> None:
    """A request naming a digest the worker was never sent, or material under another
    material's digest, gets no verification: the worker asks for the material, or refuses it
    and keeps nothing; the pool's own exchange never lets one stand for another."""
    from ingest.workerpool import trust_material

    plain = trust_material((pki.root.cert_der, pki.ca.cert_der), "test")
    listed = trust_material((pki.root.cert_der, pki.ca.cert_der), "test", (crl,))
    worker = _Worker(2048)
    try:
        assert _ask(worker, signed, "0" * 64, None) == (MATERIAL_UNKNOWN, "0" * 64)
        assert _ask(worker, signed, listed.digest, None) == (MATERIAL_UNKNOWN, listed.digest)
        status, detail = _ask(worker, signed, listed.digest, plain.payload)  # forged: not the CRL's
        assert status == "error" and "digest" in str(detail)
        assert _ask(worker, signed, listed.digest, None)[0] == MATERIAL_UNKNOWN
        assert _ask(worker, signed, plain.digest, None)[0] == MATERIAL_UNKNOWN  # nothing kept
        assert _ask(worker, signed, 42, None)[0] == MATERIAL_UNKNOWN  # not even a digest
        status, payload = _ask(worker, signed, listed.digest, listed.payload)
        assert status == "ok"
        assert _found(PdfVerification.from_dict(payload)) == REVOKED  # type: ignore[arg-type]
    finally:
        worker.stop()
