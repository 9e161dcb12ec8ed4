"""rv2 (review of f4): an organisation seal whose name starts with a word before the
organisation word is still an organisation's.

f4 made a name shaped like a person's (2-6 capitalised words, as seal names written in title
case or in capitals are) an organisation only when it *starts* with an organisation word. Real
Vietnamese agencies name themselves with the organisation word second: "Cảng vụ Hàng hải",
"Thư viện Quốc gia", "Tỉnh đoàn", "Công đoàn", "Chi bộ". Their seals (CN the agency, O the
ministry above it, no MST) became PERSONAL on f4: the NĐ 30 check then said the agency had not
signed a document it had sealed. On main they were organisations."""

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
from ingest.signatures.rules import (
    classify_signer,
    nd30_check,
)
from ingest.signatures.verify import _verify_pdf
from ingest.signing import SignatureRole, SignerIdentity
from ingest.testpki import TestPKI
from repository.registration import SealAgency, seal_names_sender

NOW = datetime(2026, 12, 4, tzinfo=UTC)
PORT, MINISTRY = "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI", "BỘ GIAO THÔNG VẬN TẢI"

SEALS = [
    "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI", "Cảng Vụ Hàng Hải Quảng Ngãi", "THƯ VIỆN QUỐC GIA VIỆT NAM",
    "Thư Viện Tỉnh Quảng Ngãi", "TỈNH ĐOÀN QUẢNG NGÃI", "Thành Đoàn Hà Nội", "Huyện Đoàn Ba Tơ",
    "CÔNG ĐOÀN NGÀNH Y TẾ", "Chi Bộ Văn Phòng", "Hiệp Hội Doanh Nghiệp Tỉnh Quảng Ngãi",
    "Nông Trường Sông Hậu", "Giáo Hội Phật Giáo Việt Nam", "Cơ Sở Cai Nghiện Ma Túy",
    "Sư Đoàn Bộ Binh",
    # guards, organisations on main and f4 too: Đoàn as the organisation word
    "Đoàn Luật Sư Tỉnh Quảng Ngãi", "Đoàn Thanh Niên Cộng Sản", "Đoàn Văn Công Quân Khu",
    "ĐOÀN VĂN NGHỆ QUÂN ĐỘI",
]
PEOPLE = [
    "Lê Trường Sơn", "Nguyễn Trường Giang", "Lâm Trường Giang", "Trần Văn Sở", "Lê Thị Cúc",
    "Nguyễn Bảo Ngọc", "Vũ Văn Phong", "Chu Văn Hội", "Thân Văn Bộ", "Công Phượng Nguyễn",
]
# Đoàn and Doãn, surnames that are (or fold like) the organisation word "Đoàn": organisations
# on main and on f4
SURNAMED_DOAN = [
    "Đoàn Văn Hội", "Đoàn Thị Hương", "ĐOÀN VĂN HẬU", "Doãn Thị Hương", "Doãn Văn Tuấn",
    "DOÃN QUỐC KHÁNH", "Doãn Hội",
]


@pytest.mark.parametrize("name", SEALS)
def test_a_seal_named_with_the_organisation_word_second_is_an_organisation(name: str) -> None:
    subject = {"common_name": name, "organization_name": "BỘ GIAO THÔNG VẬN TẢI"}
    assert classify_signer(subject) is SignerKind.ORGANISATION
    person = classify_signer({"common_name": "Nguyễn Văn An", "organization_name": name})
    assert nd30_check([person, classify_signer(subject)]).ok


@pytest.mark.parametrize("name", SURNAMED_DOAN)
def test_a_person_surnamed_doan_is_a_person(name: str) -> None:
    """Two personal certificates, Nguyễn Văn An's and Đoàn Văn Hội's, are not the person and
    the agency (NĐ 30), and Đoàn Văn Hội is among the people the văn bản đi gate compares."""
    subject = {"common_name": name, "organizational_unit_name": "VĂN PHÒNG",
               "organization_name": "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"}
    assert classify_signer(subject) is SignerKind.PERSONAL
    assert not nd30_check([SignerKind.PERSONAL, classify_signer(subject)]).ok


@pytest.mark.parametrize("name", PEOPLE)
def test_people_stay_people(name: str) -> None:
    subject = {"common_name": name, "organization_name": "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI"}
    assert classify_signer(subject) is SignerKind.PERSONAL


def test_the_sha1_allowance_for_seals_still_reaches_the_port_authoritys_seal() -> None:
    """KHO_SIGNATURE_SHA1_SEALS_UNTIL accepts SHA-1 in agency seals: on f4 the Cảng vụ's seal
    was a person's and its SHA-1 signature INDETERMINATE."""
    kind = classify_signer({"common_name": PORT, "organization_name": MINISTRY})
    verdict = sha1_seal_verdict(kind, NOW)
    assert verdict.indication is Indication.TOTAL_PASSED


def _seal(pki: TestPKI, name: str, serial: int) -> SignerIdentity:
    """An agency seal as VGCA issues them: CN the agency, O the ministry above it, no MST;
    issued by the trusted test CA."""
    return vgca_leaf(pki, f"rv2-seal-{serial:x}", serial, [
        (NameOID.COUNTRY_NAME, "VN"), (NameOID.ORGANIZATION_NAME, MINISTRY), (NameOID.COMMON_NAME, name),
    ], SignatureRole.ORGANISATION, "cv@qn.gov.vn")


def test_the_port_authoritys_seal_names_the_port_authority(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    """Nguyễn Văn An signs, then the Cảng vụ seals. On f4 the seal was a "person": the NĐ 30
    check said the agency had not signed, "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI" was among the people
    the văn bản đi gate compares, and the stored agencies were the ministry (the O) alone, so a
    văn bản đến typed as from the Cảng vụ did not match its own seal."""
    seal = _seal(pki, PORT, 0x4B48525601)
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_personal_then_organisation(document, pki, organisation=seal)

    result = _verify_pdf(signed, pki_trust, False, NOW, CachingPdfReader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert [s.signer_kind for s in result.signatures] == [
        SignerKind.PERSONAL, SignerKind.ORGANISATION]
    assert result.nd30.ok
    assert signing_people(result.signatures) == ["Nguyễn Văn An"]
    stored = signing_agencies(result.signatures)["agencies"]
    agencies = [a for a in (SealAgency.of(i) for i in stored) if a is not None]
    assert seal_names_sender("Cảng vụ Hàng hải Quảng Ngãi", agencies).matches


@pytest.mark.parametrize(
    "name",
    [
        "NHÀ XUẤT BẢN TƯ PHÁP",
        "Nhà Xuất Bản Tư Pháp",
        "ĐỒN BIÊN PHÒNG SA HUỲNH",
        "Đồn Biên Phòng Sa Huỳnh",
    ],
)
def test_a_seal_that_starts_with_no_surname_is_an_organisations_as_on_main(name: str) -> None:
    # f4's rule (and rv2's list of organisation heads) read any name shaped like a person's
    # that does not start with an organisation word as a person's; only a name starting with a
    # surname is read so now.
    assert classify_signer({"common_name": name}) is SignerKind.ORGANISATION
