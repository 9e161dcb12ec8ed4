"""The general signing API: roles, field names, signing time, PKCS#12, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from signing_checks import validate_all

from ingest.pdfgen import render_pdf, sample_document
from ingest.signing import SignatureRole, SignerIdentity, SigningFailed, sign_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, timestamper


@pytest.fixture(scope="module")
def blank() -> bytes:
    return render_pdf(sample_document(21, 1)).data


def test_default_field_names_follow_the_role_and_never_collide(
    pki: TestPKI, blank: bytes
) -> None:
    once = sign_pdf(blank, pki.personal, signing_time=FIXTURE_TIME)
    twice = sign_pdf(once, pki.personal, signing_time=FIXTURE_TIME)
    thrice = sign_pdf(twice, pki.organisation, signing_time=FIXTURE_TIME)
    names = [s.field_name for s in PdfFileReader(BytesIO(thrice)).embedded_signatures]
    assert names == ["PersonalSignature", "PersonalSignature2", "OrganisationSignature"]


def test_signature_is_pades_with_the_given_signing_time_and_reason(
    pki: TestPKI, blank: bytes
) -> None:
    moment = datetime(2026, 3, 6, 1, 2, 3, tzinfo=UTC)
    data = sign_pdf(blank, pki.personal, signing_time=moment, reason="Ban hành",
                    field_name="ChuKy1", timestamper=timestamper(pki, moment))
    sig = PdfFileReader(BytesIO(data)).embedded_signatures[0]
    assert sig.field_name == "ChuKy1"
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.sig_object["/Reason"] == "Ban hành"
    assert sig.md_algorithm == "sha256"
    (checked,) = validate_all(data, pki)
    assert checked.status.signer_reported_dt == moment
    assert checked.status.timestamp_validity.timestamp == moment
    assert checked.status.bottom_line


def test_identity_from_pkcs12_signs_like_the_original(pki: TestPKI, blank: bytes) -> None:
    from cryptography import x509

    key = serialization.load_der_private_key(pki.organisation.key_der, password=None)
    p12 = pkcs12.serialize_key_and_certificates(
        b"vanthu", key, x509.load_der_x509_certificate(pki.organisation.cert_der),
        [x509.load_der_x509_certificate(d) for d in pki.organisation.chain_der],
        serialization.BestAvailableEncryption(b"mat-khau"),
    )
    identity = SignerIdentity.from_pkcs12(p12, b"mat-khau", role=SignatureRole.ORGANISATION)
    assert identity.cert_der == pki.organisation.cert_der
    assert set(identity.chain_der) == set(pki.organisation.chain_der)
    data = sign_pdf(blank, identity, signing_time=FIXTURE_TIME)
    (checked,) = validate_all(data, pki)
    assert checked.field_name == "OrganisationSignature"
    assert checked.status.bottom_line


def test_wrong_pkcs12_password_is_a_coded_error(pki: TestPKI) -> None:
    from cryptography import x509

    key = serialization.load_der_private_key(pki.personal.key_der, password=None)
    p12 = pkcs12.serialize_key_and_certificates(
        b"x", key, x509.load_der_x509_certificate(pki.personal.cert_der), None,
        serialization.BestAvailableEncryption(b"dung"),
    )
    with pytest.raises(SigningFailed) as info:
        SignerIdentity.from_pkcs12(p12, b"sai")
    assert info.value.code == "SIGNING_FAILED"
    assert isinstance(info.value.__cause__, ValueError)


def test_unreadable_pdf_is_a_coded_error(pki: TestPKI) -> None:
    with pytest.raises(SigningFailed) as info:
        sign_pdf(b"%PDF-1.7\nnot really a pdf", pki.personal)
    assert info.value.code == "SIGNING_FAILED"
    assert info.value.__cause__ is not None


def test_signing_does_not_change_earlier_revisions(pki: TestPKI, blank: bytes) -> None:
    once = sign_pdf(blank, pki.personal, signing_time=FIXTURE_TIME)
    twice = sign_pdf(once, pki.organisation, signing_time=FIXTURE_TIME)
    assert once.startswith(blank)
    assert twice.startswith(once)
