"""f4: a certificate Kho itself finds unfit to say who signed must not name the signer or the
sending agency.

Each certificate here chains to the test PKI's trusted CA (pyHanko finds no trust problem),
but Kho's own checks withhold the pass: an extended key usage for a TLS server only, a name
with a Cyrillic letter or a zero-width space. The verdict was INDETERMINATE, yet the report's
``trusted`` was pyHanko's alone, so ``names_its_signer`` took the name: the văn bản đi passed
the signer gate as signed by "Nguyễn Văn An", and a TLS server certificate whose O is the
agency (an OV certificate of its web site) sealed the văn bản đến for that agency. Real
signing and verification, no mocks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kho_certificates import leaf_with_purposes
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest import testpki
from ingest.pipeline import names_its_signer, signing_agencies, signing_people
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import Indication, PdfVerification, SignerKind
from ingest.signatures.verify import _verify_pdf
from ingest.signing import SignatureRole, SignerIdentity
from ingest.testpki import TestPKI
from repository.registration import SealAgency, seal_names_sender

NOW = datetime(2026, 12, 3, tzinfo=UTC)
READERS = pytest.mark.parametrize("reader", [PdfFileReader, CachingPdfReader], ids=["stock", "fast"])
AGENCY = "Sở Tài chính tỉnh Thử Nghiệm"


def _person(name: str) -> x509.Name:
    return testpki._person_name(name, "Chủ tịch", "VĂN PHÒNG", "nvan@thunghiem.gov.vn")


def _seal(name: str) -> x509.Name:
    return testpki._name([
        (NameOID.COUNTRY_NAME, "VN"), (NameOID.ORGANIZATION_NAME, name), (NameOID.COMMON_NAME, name),
    ])


CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
TLS = [ExtendedKeyUsageOID.SERVER_AUTH]


def _verify(pki: TestPKI, trust: TrustStore, identity: SignerIdentity, reader: type[PdfFileReader]
            ) -> PdfVerification:
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, identity, at=testpki.FIXTURE_TIME)
    return _verify_pdf(signed, trust, False, NOW, reader)


@READERS
@pytest.mark.parametrize(
    ("subject", "purposes"),
    [
        (_person("Nguyễn Văn An"), TLS),
        (_person("Nguyễn Văn \u0410n"), CLIENT),  # Cyrillic А
        (_person("Nguyễn Văn\u200b An"), CLIENT),  # zero-width space
        (_person("\u00d0ỗ Văn An"), CLIENT),  # Latin eth for Đ
        (_person("Nguyễn Văn \u0131n"), CLIENT),  # Latin dotless i
    ],
    ids=["tls-server", "cyrillic", "zero-width", "eth", "dotless-i"],
)
def test_a_personal_certificate_kho_does_not_trust_names_no_signer(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader], subject: x509.Name,
    purposes: list[x509.ObjectIdentifier],
) -> None:
    serial = 0x4B484F4600 + len(str(subject)) + len(purposes)
    identity = leaf_with_purposes(pki, f"f4-person-{serial:x}", serial, subject, purposes,
                                  SignatureRole.PERSONAL)

    result = _verify(pki, pki_trust, identity, reader)

    (signature,) = result.signatures
    assert signature.intact and signature.valid and signature.trust_problem is None
    assert result.verdict.indication is Indication.INDETERMINATE
    assert signature.verdict.sub_indication == "CHAIN_CONSTRAINTS_FAILURE"
    assert signature.trusted is False
    assert not names_its_signer(signature)
    assert signing_people(result.signatures) == []
    assert signing_agencies(result.signatures)["agencies"] == []


@READERS
@pytest.mark.parametrize(
    ("name", "purposes"),
    [
        (AGENCY, TLS),
        ("Sở Tài chính tỉnh Thử Ngh\u0456ệm", CLIENT),  # Cyrillic і
        ("Sở Tà\u0131 chính tỉnh Thử Nghiệm", CLIENT),  # Latin dotless ı
    ],
    ids=["tls-server", "cyrillic", "dotless-i"],
)
def test_a_seal_certificate_kho_does_not_trust_names_no_agency(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader], name: str,
    purposes: list[x509.ObjectIdentifier],
) -> None:
    """The agency's web server certificate (O and CN the agency, EKU server authentication)
    signing a công văn: the seal must not prove the sender. A seal whose name displays like the
    agency's (a Cyrillic "і", a dotless "ı") must not prove it either: it names the look-alike,
    which the sender rule never takes for the agency and tells as a look-alike (session 25:
    naming nobody let the document in with no question, test_incoming_metadata_mismatch)."""
    serial = 0x4B484F4700 + len(purposes) + len(name.encode())
    identity = leaf_with_purposes(pki, f"f4-seal-{serial:x}", serial, _seal(name), purposes,
                                  SignatureRole.ORGANISATION)

    result = _verify(pki, pki_trust, identity, reader)

    (signature,) = result.signatures
    assert signature.signer_kind is SignerKind.ORGANISATION
    assert result.verdict.indication is Indication.INDETERMINATE
    stored = signing_agencies(result.signatures)["agencies"]
    agencies = [a for a in (SealAgency.of(i) for i in stored) if a is not None]
    if purposes is TLS:
        assert not names_its_signer(signature)
        assert stored == []
    else:
        assert [a.cn for a in agencies] == [name]
        assert seal_names_sender(AGENCY, agencies).look_alike
    assert not seal_names_sender(AGENCY, agencies).matches


@READERS
def test_a_certificate_kho_trusts_still_names_its_signer_and_agency(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The same certificates with purposes fit for signing and plain names: named as before."""
    person = leaf_with_purposes(pki, "f4-person-ok", 0x4B484F4801, _person("Nguyễn Văn An"), CLIENT,
                                SignatureRole.PERSONAL)
    seal = leaf_with_purposes(pki, "f4-seal-ok", 0x4B484F4802, _seal(AGENCY), CLIENT,
                              SignatureRole.ORGANISATION)

    signed_by_person = _verify(pki, pki_trust, person, reader)
    signed_by_seal = _verify(pki, pki_trust, seal, reader)

    assert signed_by_person.verdict.indication is Indication.TOTAL_PASSED
    assert signing_people(signed_by_person.signatures) == ["Nguyễn Văn An"]
    assert signed_by_seal.verdict.indication is Indication.TOTAL_PASSED
    stored = signing_agencies(signed_by_seal.signatures)["agencies"]
    agencies = [a for a in (SealAgency.of(i) for i in stored) if a is not None]
    assert seal_names_sender(AGENCY, agencies).matches



@pytest.mark.parametrize(
    ("change", "identifies"),
    [
        ({}, True),
        ({"trust_problem": "NO_CERTIFICATE_CHAIN_FOUND"}, False),
        ({"revoked_before_timestamp": True}, False),
        # a trusted timestamp older than the certificate (TOTAL-FAILED/NOT_YET_VALID)
        ({"best_signature_time": datetime(2026, 3, 5, tzinfo=UTC)}, False),
        ({"key_purposes": ("server_auth",)}, False),
        ({"key_purposes": ("server_auth", "client_auth")}, True),
        ({"signer_subject": {"common_name": "Nguyễn Văn \u0410n"}}, False),
        ({"signer_subject": {"common_name": "Nguyễn Văn An"}}, True),
    ],
)
def test_which_certificates_identify_their_signer(change: dict[str, object], identifies: bool) -> None:
    """The pure rule behind a report's ``trusted``: each of Kho's findings against the
    certificate takes the name away, as pyHanko's trust problem does."""
    from dataclasses import replace

    from ingest.signatures.rules import SignatureFacts, certificate_identifies_signer, signature_verdict

    base = SignatureFacts(
        intact=True, valid=True, coverage="ENTIRE_FILE", digest_algorithm="sha256",
        best_signature_time=NOW, certificate_valid_from=datetime(2026, 6, 1, tzinfo=UTC),
    )
    facts = replace(base, **change)  # type: ignore[arg-type]
    assert certificate_identifies_signer(facts) is identifies
    # the verdict agrees: what does not identify its signer never passes
    assert (signature_verdict(facts)[0].indication is Indication.TOTAL_PASSED) is identifies


@pytest.mark.parametrize(
    ("name", "escaped", "code"),
    [
        ("\u00d0ỗ Văn An", "\\u00D0ỗ Văn An", "U+00D0"),  # eth
        ("\u0189OÀN VĂN AN", "\\u0189OÀN VĂN AN", "U+0189"),  # African D
        ("Sở Tà\u0131 chính", "Sở Tà\\u0131 chính", "U+0131"),  # dotless i
    ],
)
def test_a_latin_letter_drawn_like_a_vietnamese_one_is_a_name_problem(
    name: str, escaped: str, code: str
) -> None:
    """One script, NFC, nothing invisible: the checks of name_problems found nothing and a
    trusted "\u00d0ỗ Văn An" was TOTAL-PASSED, shown as "Đỗ Văn An" reads."""
    from ingest.signatures.rules import SignatureFacts, name_problems, shown_name, signature_verdict

    (problem,) = name_problems({"common_name": name})
    assert code in problem and escaped in problem
    assert shown_name(name) == escaped
    facts = SignatureFacts(intact=True, valid=True, coverage="ENTIRE_FILE", digest_algorithm="sha256",
                           signer_subject={"common_name": name})
    verdict, _ = signature_verdict(facts)
    assert verdict.indication is Indication.INDETERMINATE
    assert verdict.sub_indication == "CHAIN_CONSTRAINTS_FAILURE"


@pytest.mark.parametrize("name", ["Nguyễn Văn An", "Đỗ Văn An", "Müller Hans", "Sở Tài chính"])
def test_vietnamese_and_foreign_latin_names_have_no_name_problem(name: str) -> None:
    from ingest.signatures.rules import name_problems, shown_name

    assert name_problems({"common_name": name}) == ()
    assert shown_name(name) == name


def test_a_seals_name_problem_leaves_its_name_to_the_sender_rule() -> None:
    """A seal's look-alike name still names (the sender rule refuses it as a look-alike); its
    other findings still take the name away; a person's look-alike name names nobody."""
    from dataclasses import replace

    from ingest.signatures.rules import SignatureFacts, certificate_identifies_signer

    base = SignatureFacts(
        intact=True, valid=True, coverage="ENTIRE_FILE", digest_algorithm="sha256",
        best_signature_time=NOW, certificate_valid_from=datetime(2026, 6, 1, tzinfo=UTC),
    )
    look_alike = replace(base, signer_subject={"common_name": "Sở Tài chính tỉnh Thử Ngh\u0456ệm"})
    assert certificate_identifies_signer(look_alike, seal=True)
    assert not certificate_identifies_signer(look_alike)
    assert not certificate_identifies_signer(replace(look_alike, key_purposes=("server_auth",)), seal=True)
    unchained = replace(look_alike, trust_problem="NO_CERTIFICATE_CHAIN_FOUND")
    assert not certificate_identifies_signer(unchained, seal=True)
