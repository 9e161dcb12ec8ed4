"""f4: a personal certificate whose holder's name folds like an organisation word is a person's.

:func:`classify_signer` looked for organisation words in the name with its marks folded away,
anywhere in it: "Vũ" (a surname) folds like "Vụ", "Phong" like "Phòng", "Văn Phong" like
"Văn phòng", "Bảo" like "Báo", "Quý" like "Quỹ", "Cúc" like "Cục", "Trương" and "Trường" like
"Trường". A personal certificate without person attributes (VGCA's: CN the name, the unit in
OU/O) of "Vũ Văn Phong" was an organisation seal: two personal signatures passed the NĐ 30
check as "the person and the agency", the real signer was missing from the signers the
văn bản đi gate compares, and the SHA-1 allowance for agency seals reached a person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.x509.oid import NameOID
from kho_certificates import sha1_seal_verdict, vgca_leaf

from ingest import testpki
from ingest.pipeline import signing_agencies, signing_people
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import Indication, SignerKind
from ingest.signatures.rules import classify_signer
from ingest.signatures.verify import _verify_pdf
from ingest.signing import SignatureRole, SignerIdentity
from ingest.testpki import TestPKI

NOW = datetime(2026, 12, 3, tzinfo=UTC)
UNIT, AGENCY = "VĂN PHÒNG", "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"

PEOPLE = [
    "Vũ Văn Phong", "VŨ VĂN PHONG", "Trần Quốc Bảo", "Nguyễn Văn Bảo", "Lê Thị Cúc", "Trần Quý",
    "Trương Văn Trường", "Lê Văn Trường", "Phạm Thị Hội", "Nguyễn Hữu Vụ", "Hoàng Văn Bàn",
    "Bồ Văn Sơ", "Phạm Bá Sở", "Đỗ Văn Bộ", "Nguyễn Văn Viên", "Vũ Hội",
]
ORGANISATIONS = [
    "Vụ Pháp chế", "Vụ Pháp Chế", "Phòng Tư Pháp", "Văn Phòng Chính Phủ", "Báo Nhân Dân",
    "Bảo Hiểm Xã Hội", "Quỹ Bảo Vệ Môi Trường", "Trường Đại Học Luật", "Viện Khoa Học",
    "Cục Thuế", "Bộ Tư Pháp", "SỞ TÀI CHÍNH", "Hội Nông Dân", "Ban Quản Lý Dự Án",
    "Ngân Hàng Phong Phú", "Ủy ban nhân dân tỉnh Quảng Ngãi", "CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ",
    # written without marks: "VU" may be either, read as before
    "VU VAN PHONG", "BO TU PHAP",
]


@pytest.mark.parametrize("name", PEOPLE)
def test_a_persons_name_that_folds_like_an_organisation_word_is_a_person(name: str) -> None:
    assert classify_signer({"common_name": name, "organizational_unit_name": UNIT,
                            "organization_name": AGENCY}) is SignerKind.PERSONAL


@pytest.mark.parametrize("name", ORGANISATIONS)
def test_an_organisations_name_is_still_an_organisation(name: str) -> None:
    assert classify_signer({"common_name": name}) is SignerKind.ORGANISATION


def test_the_sha1_allowance_for_seals_does_not_reach_a_person() -> None:
    """KHO_SIGNATURE_SHA1_SEALS_UNTIL accepts SHA-1 in agency seals only."""
    kind = classify_signer({"common_name": "Vũ Văn Phong", "organization_name": AGENCY})
    verdict = sha1_seal_verdict(kind, NOW)
    assert verdict.indication is Indication.INDETERMINATE
    assert verdict.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def _person_without_title(pki: TestPKI, name: str, serial: int) -> SignerIdentity:
    """A personal certificate as VGCA issues them: the name in CN, the unit in OU and O, no
    title or given name; issued by the trusted test CA."""
    return vgca_leaf(pki, f"f4-kind-{serial:x}", serial, [
        (NameOID.COUNTRY_NAME, "VN"), (NameOID.ORGANIZATION_NAME, AGENCY),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, UNIT), (NameOID.COMMON_NAME, name),
    ], SignatureRole.PERSONAL, "vvp@thunghiem.gov.vn")


def test_two_personal_signatures_are_not_the_person_and_the_agency(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    """Nguyễn Văn An signs, then Vũ Văn Phong with his own personal certificate; no seal. The
    NĐ 30 check said both the person's and the agency's signature were there, and the
    signers the văn bản đi gate compares lacked Vũ Văn Phong."""
    phong = _person_without_title(pki, "Vũ Văn Phong", 0x4B484F4901)
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_personal_then_organisation(document, pki, organisation=phong)

    result = _verify_pdf(signed, pki_trust, False, NOW, CachingPdfReader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert [s.signer_kind for s in result.signatures] == [SignerKind.PERSONAL, SignerKind.PERSONAL]
    assert not result.nd30.ok and not result.nd30.has_organisation
    assert "Thiếu chữ ký số của cơ quan" in result.nd30.message
    assert signing_people(result.signatures) == ["Nguyễn Văn An", "Vũ Văn Phong"]
    # no seal: the agency is the O of the personal certificates, never a person's name
    assert [a["o"] for a in signing_agencies(result.signatures)["agencies"]] == [AGENCY]
    assert all(a["kind"] == "personal" for a in signing_agencies(result.signatures)["agencies"])
