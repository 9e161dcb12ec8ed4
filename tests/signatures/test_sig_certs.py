"""Shared certificate objects: one per encoding, and verdicts that do not depend on what the
process verified before."""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import x509

from ingest.signatures import Indication, TrustStore, _certs, verify_pdf
from ingest.signatures._pool import VerifierPool
from ingest.testpki import TestPKI, Variant, make_variant

MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
VARIANTS = [
    Variant.VALID,
    Variant.UNTRUSTED,  # same subject as the valid signer, another issuer
    Variant.REVOKED,
    Variant.EXPIRED,
    Variant.TAMPERED,
    Variant.NO_TIMESTAMP,
]


def test_one_object_per_encoding(pki: TestPKI) -> None:
    ca_der = pki.ca.cert_der
    first, second = x509.Certificate.load(ca_der), x509.Certificate.load(ca_der)
    _certs._shared.clear()
    assert _certs.shared(first) is first
    assert _certs.shared(second) is first
    tsa = x509.Certificate.load(pki.tsa.cert_der)
    assert _certs.shared(tsa) is tsa


def test_verdicts_do_not_depend_on_earlier_verifications(pki: TestPKI, pki_trust: TrustStore) -> None:
    documents = {variant: make_variant(variant, pki=pki) for variant in VARIANTS}
    cold = {}
    for variant, data in documents.items():
        _certs._shared.clear()
        cold[variant] = verify_pdf(data, pki_trust, now=MOMENT).to_dict()
    # warm: every certificate already shared, documents in the opposite order, twice
    for _ in range(2):
        for variant in reversed(VARIANTS):
            assert verify_pdf(documents[variant], pki_trust, now=MOMENT).to_dict() == cold[variant], variant
    assert len({c["verdict"]["indication"] for c in cold.values()}) >= 3


def test_a_certificate_one_byte_off_a_shared_one_is_judged_on_its_own(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    """Where reuse would be wrong: the signer's certificate inside the CMS replaced by one that
    differs only in the last byte of the CA's signature (same subject, issuer, serial and key,
    so anything keyed on less than the whole encoding would find the genuine one). In a
    worker that has just shared the genuine certificate it must fail as in a fresh worker."""
    genuine = make_variant(Variant.PERSONAL_ONLY, pki=pki)
    der = pki.personal.cert_der
    hexed = next(h for h in (der.hex().encode(), der.hex().upper().encode()) if h in genuine)
    forged_hex = hexed[:-1] + (b"0" if hexed[-1:] != b"0" else b"1")
    forged = genuine.replace(hexed, forged_hex)
    assert forged != genuine and len(forged) == len(genuine)
    warm = VerifierPool(1)
    fresh = VerifierPool(1)
    try:
        assert verify_pdf(genuine, pki_trust, now=MOMENT, pool=warm).verdict.indication is (
            Indication.TOTAL_PASSED
        )
        after_genuine = verify_pdf(forged, pki_trust, now=MOMENT, pool=warm)
        alone = verify_pdf(forged, pki_trust, now=MOMENT, pool=fresh)
    finally:
        warm.close()
        fresh.close()
    assert after_genuine.verdict.indication is not Indication.TOTAL_PASSED
    assert after_genuine.to_dict() == alone.to_dict()
