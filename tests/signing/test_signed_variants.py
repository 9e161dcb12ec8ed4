"""Each named variant, checked with real pyHanko validation against the test root."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from signing_checks import validate_all

from ingest.testpki import FIXTURE_TIME, ORGANISATION_SIGNING_DELAY, TestPKI, Variant, tamper

PERSON = "Nguyễn Văn An"
AGENCY = "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"

VariantPdf = Callable[[Variant], bytes]


def test_valid_has_personal_then_organisation_both_intact_trusted_timestamped(
    variant_pdf: VariantPdf, pki: TestPKI
) -> None:
    checked = validate_all(variant_pdf(Variant.VALID), pki)
    assert [(c.field_name, c.signer_cn) for c in checked] == [
        ("PersonalSignature", PERSON),
        ("OrganisationSignature", AGENCY),
    ]
    for c in checked:
        assert c.status.intact and c.status.valid and c.status.trusted
        assert c.status.bottom_line
        assert c.status.timestamp_validity is not None
        assert c.status.timestamp_validity.intact and c.status.timestamp_validity.trusted
    assert checked[0].status.timestamp_validity.timestamp == FIXTURE_TIME
    assert checked[1].status.timestamp_validity.timestamp == (
        FIXTURE_TIME + ORGANISATION_SIGNING_DELAY
    )
    assert checked[0].status.signer_reported_dt == FIXTURE_TIME


def test_valid_embeds_revocation_data_in_the_dss(variant_pdf: VariantPdf) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(variant_pdf(Variant.VALID))))
    assert len(list(dss.crls)) == 2  # the CA's and the root's
    assert len(list(dss.ocsps)) == 2  # personal and organisation, both "good"


def test_no_timestamp_is_valid_without_tokens(variant_pdf: VariantPdf, pki: TestPKI) -> None:
    checked = validate_all(variant_pdf(Variant.NO_TIMESTAMP), pki)
    assert [c.signer_cn for c in checked] == [PERSON, AGENCY]
    for c in checked:
        assert c.status.bottom_line
        assert c.status.timestamp_validity is None


def test_tampered_is_not_intact_for_either_signature(
    variant_pdf: VariantPdf, pki: TestPKI
) -> None:
    checked = validate_all(variant_pdf(Variant.TAMPERED), pki)
    assert len(checked) == 2
    for c in checked:
        assert c.status.valid  # the CMS signature itself still verifies...
        assert not c.status.intact  # ...but the document digest no longer matches
        assert not c.status.bottom_line


def test_tamper_changes_exactly_one_byte_inside_every_signed_range(
    variant_pdf: VariantPdf,
) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    valid = variant_pdf(Variant.VALID)
    tampered = tamper(valid)
    diffs = [i for i, (a, b) in enumerate(zip(valid, tampered, strict=True)) if a != b]
    assert len(diffs) == 1
    for sig in PdfFileReader(BytesIO(valid)).embedded_signatures:
        start1, len1, start2, len2 = sig.byte_range
        assert start1 <= diffs[0] < start1 + len1 or start2 <= diffs[0] < start2 + len2


def test_expired_signer_is_flagged_and_agency_signature_still_trusted(
    variant_pdf: VariantPdf, pki: TestPKI
) -> None:
    personal, organisation = validate_all(variant_pdf(Variant.EXPIRED), pki)
    assert personal.signer_cn == "Trần Thị Bình"
    assert personal.status.intact and personal.status.valid
    assert not personal.status.trusted
    assert personal.status.trust_problem_indic is not None
    assert personal.status.trust_problem_indic.name == "OUT_OF_BOUNDS_NO_POE"
    assert organisation.status.bottom_line


def test_revoked_signer_is_seen_revoked_from_embedded_data_offline(
    variant_pdf: VariantPdf, pki: TestPKI
) -> None:
    personal, organisation = validate_all(variant_pdf(Variant.REVOKED), pki)
    assert personal.signer_cn == "Lê Văn Cường"
    assert personal.status.intact
    assert personal.status.revoked
    assert not personal.status.bottom_line
    assert organisation.status.bottom_line


def test_revoked_signer_is_seen_revoked_from_the_crl_alone(pki: TestPKI) -> None:
    """Without the OCSP response, the CA's CRL (supplied to the verifier) is enough."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from ingest.testpki import make_variant

    data = make_variant(Variant.REVOKED, pki=pki, seed=5)
    sig = PdfFileReader(BytesIO(data)).embedded_signatures[0]
    context = ValidationContext(
        trust_roots=[pki.root.cert], allow_fetching=False, crls=[pki.ca_crl, pki.root_crl],
        moment=FIXTURE_TIME, revocation_mode="hard-fail",
    )
    status = validate_pdf_signature(sig, context)
    assert status.revoked


def test_untrusted_signer_is_intact_but_not_trusted(
    variant_pdf: VariantPdf, pki: TestPKI
) -> None:
    personal, organisation = validate_all(variant_pdf(Variant.UNTRUSTED), pki)
    assert personal.signer_cn == PERSON  # same name as the real signer...
    assert personal.status.intact and personal.status.valid
    assert not personal.status.trusted  # ...but it does not chain to the test root
    assert personal.status.trust_problem_indic.name == "NO_CERTIFICATE_CHAIN_FOUND"
    assert organisation.status.bottom_line


@pytest.mark.parametrize(
    ("variant", "signers"),
    [
        (Variant.PERSONAL_ONLY, [PERSON]),
        (Variant.ORGANISATION_ONLY, [AGENCY]),
        (Variant.WRONG_ORDER, [AGENCY, PERSON]),
    ],
)
def test_signature_sets_that_break_dieu_5_are_each_cryptographically_valid(
    variant_pdf: VariantPdf, pki: TestPKI, variant: Variant, signers: list[str]
) -> None:
    checked = validate_all(variant_pdf(variant), pki)
    assert [c.signer_cn for c in checked] == signers
    assert all(c.status.bottom_line for c in checked)


def test_every_variant_is_listed_once(variant_pdf: VariantPdf) -> None:
    assert {v.value for v in Variant} == {
        "valid", "no-timestamp", "personal-only", "organisation-only", "wrong-order",
        "tampered", "expired", "revoked", "untrusted",
    }
