"""Shared certificate objects: one per encoding, and verdicts that do not depend on what the
process verified before."""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import x509

from ingest.signatures import TrustStore, _certs, verify_pdf
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
