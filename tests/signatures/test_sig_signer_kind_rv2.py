"""rv2 (review of f4): an organisation seal whose name starts with a word before the
organisation word is still an organisation's.

f4 made a name shaped like a person's (2-6 capitalised words, as seal names written in title
case or in capitals are) an organisation only when it *starts* with an organisation word. Real
Vietnamese agencies name themselves with the organisation word second: "Cảng vụ Hàng hải",
"Thư viện Quốc gia", "Tỉnh đoàn", "Công đoàn", "Chi bộ". Their seals (CN the agency, O the
ministry above it, no MST) became PERSONAL on f4: the NĐ 30 check then said the agency had not
signed a document it had sealed. On main they were organisations."""

from __future__ import annotations

import pytest

from ingest.signatures.model import SignerKind
from ingest.signatures.rules import classify_signer, nd30_check

SEALS = [
    "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI", "Cảng Vụ Hàng Hải Quảng Ngãi", "THƯ VIỆN QUỐC GIA VIỆT NAM",
    "Thư Viện Tỉnh Quảng Ngãi", "TỈNH ĐOÀN QUẢNG NGÃI", "Thành Đoàn Hà Nội", "Huyện Đoàn Ba Tơ",
    "CÔNG ĐOÀN NGÀNH Y TẾ", "Chi Bộ Văn Phòng", "Hiệp Hội Doanh Nghiệp Tỉnh Quảng Ngãi",
    "Nông Trường Sông Hậu", "Giáo Hội Phật Giáo Việt Nam", "Cơ Sở Cai Nghiện Ma Túy",
    "Sư Đoàn Bộ Binh",
]
PEOPLE = [
    "Lê Trường Sơn", "Nguyễn Trường Giang", "Lâm Trường Giang", "Trần Văn Sở", "Lê Thị Cúc",
    "Nguyễn Bảo Ngọc", "Vũ Văn Phong", "Chu Văn Hội", "Thân Văn Bộ", "Công Phượng Nguyễn",
]


@pytest.mark.parametrize("name", SEALS)
def test_a_seal_named_with_the_organisation_word_second_is_an_organisation(name: str) -> None:
    subject = {"common_name": name, "organization_name": "BỘ GIAO THÔNG VẬN TẢI"}
    assert classify_signer(subject) is SignerKind.ORGANISATION
    person = classify_signer({"common_name": "Nguyễn Văn An", "organization_name": name})
    assert nd30_check([person, classify_signer(subject)]).ok


@pytest.mark.parametrize("name", PEOPLE)
def test_people_stay_people(name: str) -> None:
    subject = {"common_name": name, "organization_name": "CẢNG VỤ HÀNG HẢI QUẢNG NGÃI"}
    assert classify_signer(subject) is SignerKind.PERSONAL
