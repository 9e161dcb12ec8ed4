"""Each kind of invalid metadata is rejected with its own code and a Vietnamese message."""

from __future__ import annotations

from typing import Any

import pytest
from kho_testing import incoming, outgoing

from kho.errors import ValidationFailed
from repository.metadata import normalize_maintenance, parse_document, parse_file
from repository.vocabulary import Direction, Secrecy, Urgency

INVALID_DOCUMENTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing subject", {"subject": ""}, "subject", "FIELD_REQUIRED"),
    ("missing type", {"type_name": None}, "type_name", "FIELD_REQUIRED"),
    ("unknown type", {"type_name": "Thư tình"}, "type_name", "DOCUMENT_TYPE_UNKNOWN"),
    ("number with two leading zeros", {"code_number": "005"}, "code_number", "CODE_NUMBER_INVALID"),
    ("number zero", {"code_number": "0"}, "code_number", "CODE_NUMBER_INVALID"),
    ("number with letters", {"code_number": "12a"}, "code_number", "CODE_NUMBER_INVALID"),
    (
        "notation with space",
        {"code_notation": "QĐ -UBND"},
        "code_notation",
        "CODE_NOTATION_INVALID",
    ),
    ("notation lower case", {"code_notation": "qđ-ubnd"}, "code_notation", "CODE_NOTATION_INVALID"),
    ("notation too long", {"code_notation": "QĐ-" + "A" * 40}, "code_notation", "FIELD_TOO_LONG"),
    ("subject too long", {"subject": "x" * 501}, "subject", "FIELD_TOO_LONG"),
    ("impossible date", {"issued_date": "31/02/2026"}, "issued_date", "FIELD_INVALID_DATE"),
    ("garbage date", {"issued_date": "hôm qua"}, "issued_date", "FIELD_INVALID_DATE"),
    ("bad organ id", {"organ_id": "h40 ninh binh"}, "organ_id", "ORGAN_ID_INVALID"),
    ("organ id too long", {"organ_id": "A." * 20}, "organ_id", "FIELD_TOO_LONG"),
    ("bad urgency", {"urgency": "rất gấp"}, "urgency", "URGENCY_INVALID"),
    ("bad secrecy", {"secrecy": 7}, "secrecy", "SECRECY_INVALID"),
    ("page amount too big", {"page_amount": 1000}, "page_amount", "FIELD_OUT_OF_RANGE"),
    ("page amount not a number", {"page_amount": "ba"}, "page_amount", "FIELD_NOT_NUMBER"),
    ("control characters", {"subject": "Về việc\x00 abc"}, "subject", "FIELD_CONTROL_CHARS"),
    ("unknown field", {"mau_sac": "đỏ"}, "mau_sac", "FIELD_UNKNOWN"),
    ("not text", {"subject": 12}, "subject", "FIELD_NOT_TEXT"),
    ("arrival before issue", {"arrival_date": "2026-03-01"}, "arrival_date", "DATE_ORDER_INVALID"),
]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [case[1:] for case in INVALID_DOCUMENTS],
    ids=[case[0] for case in INVALID_DOCUMENTS],
)
def test_invalid_incoming_metadata_has_its_own_code(change: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document(incoming(**change), Direction.DEN)
    assert [(e.field, e.code) for e in info.value.errors] == [(field, code)]
    assert info.value.code == code
    message = info.value.errors[0].message
    assert message and message == message.strip()
    # Messages are Vietnamese and name the field in words people use.
    assert any(ch in message for ch in "ăâđêôơưáàảãạ")


def test_all_errors_are_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document({"code_number": "5a"}, Direction.DEN)
    codes = {e.field: e.code for e in info.value.errors}
    assert codes["code_number"] == "CODE_NUMBER_INVALID"
    assert codes["subject"] == "FIELD_REQUIRED"
    assert codes["signer_full_name"] == "FIELD_REQUIRED"
    assert info.value.code == "VALIDATION_FAILED"


def test_unknown_agency_is_rejected_with_its_code() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document(
            incoming(organ_id="000.00.99.Z99"),
            Direction.DEN,
            known_organ=lambda oid: oid == "000.00.00.G22",
        )
    assert info.value.code == "ORGAN_ID_UNKNOWN"


def test_outgoing_number_comes_from_the_register() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document(outgoing(code_number="15"), Direction.DI)
    assert info.value.code == "CODE_NUMBER_ASSIGNED_BY_REGISTER"


def test_outgoing_needs_a_recipient() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document(outgoing(recipients=[]), Direction.DI)
    assert info.value.code == "FIELD_REQUIRED"
    assert info.value.errors[0].field == "recipients"


def test_valid_metadata_is_normalised() -> None:
    md = parse_document(
        incoming(
            subject="Về việc ho\u0300a gia\u0309i",  # decomposed (NFD) input
            urgency="Hoả tốc",
            secrecy="mật",
            type_name="công văn",
            issued_date="02/03/2026",
        ),
        Direction.DEN,
    )
    assert md.subject == "Về việc hòa giải"
    assert md.urgency is Urgency.HOA_TOC
    assert md.secrecy is Secrecy.MAT
    assert md.type_name == "Công văn"
    assert md.issued_date.isoformat() == "2026-03-02"
    assert md.so_ky_hieu == "1234/BNV-VP"


def test_file_metadata_rules() -> None:
    md = parse_file(
        {
            "file_code": "000.00.18.H40.2011.01.TH",
            "title": "Hồ sơ về việc xây dựng Quy chế công tác văn thư",
            "maintenance": "20 năm",
            "creator": "Nguyễn Văn An",
            "start_date": "2011-01-05",
        },
        default_organ_id="000.00.18.H40",
    )
    assert md.file_code == "000.00.18.H40.2011.01.TH"
    assert md.file_catalog == 2011
    assert md.maintenance == "20 năm"

    with pytest.raises(ValidationFailed) as info:
        parse_file(
            {
                "file_notation": "TH.01",
                "title": "",
                "maintenance": "mãi mãi",
                "creator": "A",
                "start_date": "2026-05-01",
                "end_date": "2026-04-01",
            },
            default_organ_id="000.00.18.H40",
        )
    codes = {e.field: e.code for e in info.value.errors}
    assert codes == {
        "file_notation": "FILE_NOTATION_INVALID",
        "title": "FIELD_REQUIRED",
        "maintenance": "MAINTENANCE_INVALID",
        "end_date": "DATE_ORDER_INVALID",
    }
    with pytest.raises(ValidationFailed) as info:
        parse_file({"file_code": "H40-2011-01"}, default_organ_id="000.00.18.H40")
    assert "FILE_CODE_INVALID" in {e.code for e in info.value.errors}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Vĩnh viễn", "Vĩnh viễn"),
        ("vĩnh viễn", "Vĩnh viễn"),
        ("5 năm", "05 năm"),
        ("70 năm", "70 năm"),
        ("Đến khi văn bản hết hiệu lực", "Đến khi văn bản hết hiệu lực"),
        ("100 năm", None),
        ("lâu", None),
    ],
)
def test_maintenance_values(raw: str, expected: str | None) -> None:
    assert normalize_maintenance(raw) == expected


@pytest.mark.parametrize(("typed", "read"), [("5", "05"), ("9", "09"), ("05", "05"), ("10", "10")])
def test_a_number_below_ten_typed_without_its_zero_is_read_with_it(typed: str, read: str) -> None:
    md = parse_document(
        {
            "type_name": "Công văn",
            "code_number": typed,
            "code_notation": "BNV-VP",
            "organ_name": "Bộ Nội vụ",
            "issued_date": "2026-03-02",
            "subject": "Về việc thử",
            "signer_position": "Chánh Văn phòng",
            "signer_full_name": "Trần Thị Hoà",
        },
        Direction.DEN,
    )
    assert md.code_number == read
    assert md.so_ky_hieu == f"{read}/BNV-VP"


def _parse_date_by_strptime(text: str) -> object:
    """The definition: the first of the accepted formats strptime reads, years 1900-2200."""
    from datetime import datetime

    from repository.metadata import _DATE_FORMATS

    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        return parsed if 1900 <= parsed.year <= 2200 else "ValueError"
    return "ValueError"


@pytest.mark.parametrize("text", [
    "2026-03-05", " 2026-03-05 ", "2026-3-5", "2026-02-29", "2024-02-29", "2026-13-01",
    "2026-00-10", "0999-01-01", "2201-01-01", "1900-01-01", "2200-12-31", "05/03/2026",
    "5/3/2026", "05-03-2026", "2026/03/05", "31/02/2026", "20260305", "2026-W10-4",
    "2026-03-05T10:00", "١٢٣٤-01-01", "2026-03-051", "x", "",
])
def test_parse_date_reads_stored_dates_in_c_with_the_same_result(text: str) -> None:
    """Stored ``YYYY-MM-DD`` dates are read with ``date.fromisoformat`` (no strptime per date
    read): every string gives what the strptime formats give."""
    from repository.metadata import parse_date

    try:
        got: object = parse_date(text)
    except ValueError:
        got = "ValueError"
    expected = None if text == "" else _parse_date_by_strptime(text)
    assert got == expected
