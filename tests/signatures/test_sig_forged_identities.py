"""Forged and misused signer identities under the test PKI's trusted CA: certificates that
chain to the trust anchor but must not make a signature "hợp lệ" (TOTAL-PASSED).

Every document is signed here with keys derived by the test PKI (never a real CA's key) and
verified with the stock pyHanko reader and with Kho's fast reader: both must give the same
verdict, and neither may pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from io import BytesIO

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kho_certificates import leaf_with_purposes
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from ingest import testpki
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.cli import format_report
from ingest.signatures.model import Indication, PdfVerification
from ingest.signatures.verify import _verify_pdf
from ingest.signing import SignatureRole, SignerIdentity, sign_pdf
from ingest.testpki import TestPKI

# The validation time: after the fixture signing time (5 March 2026), inside every leaf here.
NOW = datetime(2026, 12, 3, tzinfo=UTC)
READERS = pytest.mark.parametrize(
    "reader", [PdfFileReader, CachingPdfReader], ids=["stock", "fast"]
)


def _leaf(
    pki: TestPKI, label: str, serial: int, validity: tuple[datetime, datetime] = testpki.LEAF_VALIDITY,
    name: str = "Nguyễn Văn An",
) -> SignerIdentity:
    """A personal certificate of the test CA (the real issuer, a trusted chain)."""
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    key = testpki.derive_key(label)
    cert = testpki._leaf_cert(
        subject=testpki._person_name(name, "Chủ tịch", "VĂN PHÒNG", "nvan@thunghiem.gov.vn"),
        key=key, serial=serial, validity=validity, issuer=ca,
        issuer_key=testpki.derive_key("ca"), issuer_file="kho-test-ca",
        email="nvan@thunghiem.gov.vn",
    )
    return testpki._identity(label, cert, key, (ca,), SignatureRole.PERSONAL)


def _verify(data: bytes, trust: TrustStore, reader: type[PdfFileReader]) -> PdfVerification:
    return _verify_pdf(data, trust, False, NOW, reader)


@READERS
def test_a_signature_timestamped_before_its_certificate_was_issued_fails(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The trusted signature timestamp says 5 March 2026; the certificate is valid only from
    1 June 2026 (and is valid at the validation time). The signature existed before the
    certificate: ETSI EN 319 102-1 fails it (NOT_YET_VALID). pyHanko checks the certificate
    at the validation time only, so it was TOTAL-PASSED."""
    issued_later = _leaf(
        pki, "z2-issued-after-signing", 0x4B484F2001,
        (datetime(2026, 6, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
    )
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, issued_later, at=testpki.FIXTURE_TIME)

    result = _verify(signed, pki_trust, reader)

    (signature,) = result.signatures
    assert signature.timestamp is not None and signature.timestamp.trusted
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert signature.verdict.sub_indication == "NOT_YET_VALID"
    assert "trước khi chứng thư số của người ký có hiệu lực" in signature.verdict.explanation


@READERS
def test_a_signature_timestamped_inside_its_certificates_validity_still_passes(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The same certificate shape, valid from before the timestamp: TOTAL-PASSED."""
    in_time = _leaf(
        pki, "z2-issued-before-signing", 0x4B484F2002,
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
    )
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, in_time, at=testpki.FIXTURE_TIME)

    result = _verify(signed, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED, result.verdict


def _leaf_for(pki: TestPKI, label: str, serial: int, purposes: list[x509.ObjectIdentifier]) -> SignerIdentity:
    """A personal certificate of the test CA whose extended key usage lists ``purposes``
    (key usage digitalSignature + nonRepudiation, as a signing certificate has)."""
    subject = testpki._person_name("Nguyễn Văn An", "Chủ tịch", "VĂN PHÒNG", "nvan@thunghiem.gov.vn")
    return leaf_with_purposes(pki, label, serial, subject, purposes)


EKU = x509.oid.ExtendedKeyUsageOID


@READERS
@pytest.mark.parametrize(
    ("purposes", "named"),
    [
        ([EKU.SERVER_AUTH], "xác thực máy chủ TLS"),
        ([EKU.CODE_SIGNING], "ký mã chương trình"),
        ([EKU.TIME_STAMPING], "cấp dấu thời gian"),
        ([EKU.SERVER_AUTH, EKU.OCSP_SIGNING], "ký phản hồi OCSP"),
    ],
    ids=["tls-server", "code-signing", "time-stamping", "tls-and-ocsp"],
)
def test_a_certificate_dedicated_to_another_purpose_does_not_sign_documents(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader],
    purposes: list[x509.ObjectIdentifier], named: str,
) -> None:
    """A certificate of the trusted CA, with the signing key usages, whose extended key usage
    dedicates it to a TLS server, code, time-stamps or OCSP (RFC 5280 4.2.1.12): pyHanko does
    not check a signer's EKU, so it was TOTAL-PASSED."""
    serial = 0x4B484F2100 + len(named)
    identity = _leaf_for(pki, f"z2-eku-{named}", serial, purposes)
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, identity, at=testpki.FIXTURE_TIME)

    result = _verify(signed, pki_trust, reader)

    (signature,) = result.signatures
    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert signature.verdict.sub_indication == "CHAIN_CONSTRAINTS_FAILURE"
    assert "không phải để ký số văn bản" in signature.verdict.explanation
    assert named in signature.verdict.explanation


@READERS
def test_a_certificate_for_clients_and_servers_still_signs(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """One purpose fit for people (client authentication) beside a server one: usable."""
    identity = _leaf_for(pki, "z2-eku-mixed", 0x4B484F2199, [EKU.SERVER_AUTH, EKU.CLIENT_AUTH])
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, identity, at=testpki.FIXTURE_TIME)

    assert _verify(signed, pki_trust, reader).verdict.indication is Indication.TOTAL_PASSED


def _backdating_tsa(pki: TestPKI, issued: datetime, stamps: datetime) -> DummyTimeStamper:
    """A TSA certificate of the trusted test root (EKU timeStamping, the test TSA's key) that
    is valid only from ``issued``, stamping tokens dated ``stamps``."""
    root = x509.load_der_x509_certificate(pki.root.cert_der)
    tsa_key = serialization.load_der_private_key(pki.tsa.key_der, password=None)
    cert = (
        x509.CertificateBuilder()
        .subject_name(testpki._name([(x509.NameOID.COMMON_NAME, "Kho Test Máy chủ cấp dấu thời gian 02")]))
        .issuer_name(root.subject).public_key(tsa_key.public_key()).serial_number(0x4B484F2201)
        .not_valid_before(issued).not_valid_after(testpki.CA_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(testpki._SIGNING_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([EKU.TIME_STAMPING]), critical=True)
        .sign(testpki.derive_key("root"), testpki.hashes.SHA256(), ecdsa_deterministic=True)
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(pki.tsa.key_der),
        certs_to_embed=[pki.root.cert],
        fixed_dt=stamps,
    )


@READERS
def test_a_time_stamp_dated_before_its_tsa_certificate_proves_nothing(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The signer's certificate expired on 1 January 2024. A token of a TSA whose certificate
    (trusted root, timeStamping) exists only from 1 January 2025 says the signature was made
    on 1 June 2023. pyHanko checks the TSA certificate at the validation time, so the token
    was trusted and Kho re-validated the expired certificate at the back-dated time:
    TOTAL-PASSED. A token dated before its TSA certificate is not proof of anything."""
    signed_at = datetime(2023, 6, 1, tzinfo=UTC)
    tsa = _backdating_tsa(pki, datetime(2025, 1, 1, tzinfo=UTC), signed_at)
    document = testpki.document_for(pki.expired_personal).data
    signed = sign_pdf(
        document, pki.expired_personal, timestamper=tsa, signing_time=signed_at,
        bytes_reserved=testpki.SIGNATURE_RESERVE,
    )

    result = _verify(signed, pki_trust, reader)

    (signature,) = result.signatures
    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert signature.verdict.sub_indication == "OUT_OF_BOUNDS_NO_POE"
    assert signature.timestamp is not None
    assert (signature.timestamp.trusted, signature.timestamp.problem) == (False, "NOT_YET_VALID")
    assert any("ghi lùi ngày" in finding for finding in signature.findings)


@READERS
def test_a_time_stamp_inside_its_tsa_certificate_still_proves_the_signing_time(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The same expired certificate, stamped by the same kind of TSA certificate issued
    before the token: AdES-T, the certificate is checked at the stamped time and passes."""
    signed_at = datetime(2023, 6, 1, tzinfo=UTC)
    tsa = _backdating_tsa(pki, datetime(2021, 1, 1, tzinfo=UTC), signed_at)
    document = testpki.document_for(pki.expired_personal).data
    signed = sign_pdf(
        document, pki.expired_personal, timestamper=tsa, signing_time=signed_at,
        bytes_reserved=testpki.SIGNATURE_RESERVE,
    )

    result = _verify(signed, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED, result.verdict
    assert result.signatures[0].timestamp is not None and result.signatures[0].timestamp.trusted


@READERS
@pytest.mark.parametrize(
    ("name", "shown", "problem"),
    [
        ("Nguyễn Văn \u0410n", "Nguyễn Văn \\u0410n", "trộn chữ của nhiều hệ chữ viết"),
        ("Nguye\u0302\u0303n Văn An", "Nguye\\u0302\\u0303n Văn An", "không ở dạng Unicode chuẩn NFC"),
        ("Nguyễn\u200b Văn An", "Nguyễn\\u200B Văn An", "chứa ký tự ẩn"),
    ],
    ids=["cyrillic-a", "nfd", "zero-width-space"],
)
def test_a_certified_name_that_displays_like_another_does_not_pass(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader],
    name: str, shown: str, problem: str,
) -> None:
    """A trusted chain, but the certificate's name is "Nguyễn Văn An" only to the eye: a
    Cyrillic А, an NFD spelling, a zero-width space. It was TOTAL-PASSED and printed as
    "Nguyễn Văn An". Now the pass is withheld, and the name is shown with the odd characters
    escaped, as not verified."""
    identity = _leaf(pki, f"z2-name-{problem}", 0x4B484F2300 + len(shown), name=name)
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, identity, at=testpki.FIXTURE_TIME)

    result = _verify(signed, pki_trust, reader)

    (signature,) = result.signatures
    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert signature.verdict.sub_indication == "CHAIN_CONSTRAINTS_FAILURE"
    assert problem in signature.verdict.explanation and shown in signature.verdict.explanation
    report = format_report("qd.pdf", result)
    assert f"tên ghi trong chứng thư (chưa được xác thực): {shown}" in report
    assert f"] {name}" not in report


@READERS
def test_kho_verify_does_not_show_an_unverified_signer_as_the_signer(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The same person's name, issued by a look-alike root that is not trusted: the signature
    line said "[PersonalSignature] Nguyễn Văn An — VĂN PHÒNG, ..." as for a verified signer.
    The name is now labelled as what the certificate says, not verified; a verified signer is
    shown by name."""
    document = testpki.document_for(pki.personal).data
    forged = testpki.sign_as(document, pki, pki.untrusted_personal, at=testpki.FIXTURE_TIME)
    genuine = testpki.sign_as(document, pki, pki.personal, at=testpki.FIXTURE_TIME)

    forged_report = format_report("gia.pdf", _verify(forged, pki_trust, reader))
    genuine_report = format_report("that.pdf", _verify(genuine, pki_trust, reader))

    assert "] tên ghi trong chứng thư (chưa được xác thực): Nguyễn Văn An — VĂN PHÒNG" in forged_report
    assert "] Nguyễn Văn An" not in forged_report
    assert "] Nguyễn Văn An — VĂN PHÒNG" in genuine_report
    assert "chưa được xác thực" not in genuine_report


@READERS
def test_a_document_time_stamp_dated_before_its_tsa_certificate_does_not_pass(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """A document time-stamp (PAdES-LTA) by a TSA certificate of the trusted root that exists
    only from 1 January 2025, stating 1 June 2023: pyHanko checks the TSA certificate at the
    validation time, so it was TOTAL-PASSED."""
    signed = testpki.sign_as(testpki.document_for(pki.personal).data, pki, pki.personal,
                             at=testpki.FIXTURE_TIME)
    tsa = _backdating_tsa(pki, datetime(2025, 1, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC))
    out = BytesIO()
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    stamper = signers.PdfTimeStamper(tsa, field_name="DocTs")
    asyncio.run(stamper.async_timestamp_pdf(writer, "sha256", output=out))

    result = _verify(out.getvalue(), pki_trust, reader)

    stamp = next(s for s in result.signatures if s.field_name == "DocTs")
    assert stamp.verdict.indication is Indication.INDETERMINATE, stamp.verdict
    assert stamp.trust_problem == "NOT_YET_VALID"
    assert result.verdict.indication is not Indication.TOTAL_PASSED
