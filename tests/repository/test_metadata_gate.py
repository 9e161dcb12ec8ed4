"""The metadata gate's rule (pure): what a văn thư types for a văn bản đến against what its own
PDF says (the trusted agency signatures' names, the số/ký hiệu and date read from its text).
Spelling is not a mismatch; another agency, a look-alike of the agency, another số or date is."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from kho_testing import incoming, outgoing, seal_extra

from repository.metadata import DocumentMetadata, parse_document
from repository.registration import PdfIdentity, metadata_gate, metadata_mismatches
from repository.vocabulary import Direction

SEAL = "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"
READ = {
    "so_ky_hieu": {"value": "52/QĐ-UBND", "confidence": 0.95, "so": 52, "ky_hieu": "QĐ-UBND"},
    "ngay_ban_hanh": {"value": "2026-03-05", "confidence": 0.95},
}
SAYS = PdfIdentity.read(seal_extra(SEAL), READ)


def typed(**fields: Any) -> DocumentMetadata:
    base = {"organ_name": "Ủy ban nhân dân tỉnh Thử Nghiệm", "code_number": "52", "code_notation": "QĐ-UBND"}
    return parse_document(incoming(**{**base, "issued_date": "2026-03-05", **fields}), Direction.DEN)


@pytest.mark.parametrize(
    "organ",
    [
        "Ủy ban nhân dân tỉnh Thử Nghiệm",
        "Uỷ ban nhân dân tỉnh Thử nghiệm",  # tone mark on the y
        "UBND tỉnh Thử Nghiệm",
        "UBND TỈNH THỬ NGHIỆM.",
        unicodedata.normalize("NFD", "Ủy ban nhân dân tỉnh Thử Nghiệm"),
        "Ủy  ban nhân dân\ttỉnh Thử Nghiệm",
    ],
)
def test_the_sender_spelled_otherwise_is_the_same_agency(organ: str) -> None:
    assert metadata_mismatches(typed(organ_name=organ), SAYS) == ()


@pytest.mark.parametrize(
    ("organ", "look_alike"),
    [
        ("Bộ Nội vụ", False),
        ("Ủy ban nhân dân huyện Thử Nghiệm", False),  # a neighbouring agency
        ("Ủy ban nhân dân tỉnh Thư Nghiệm", False),  # another mark: another name
        ("Ủy ban nhân dân tỉnh \u0422hử Nghiệm", True),  # a Cyrillic Т
        ("Ủy ban nhân dân tỉnh Th\u0443̉ Nghiệm", False),  # not even alike: a Cyrillic у (y)
    ],
)
def test_another_agency_or_a_look_alike_is_a_mismatch(organ: str, look_alike: bool) -> None:
    [found] = metadata_mismatches(typed(organ_name=organ), SAYS)
    assert (found.field, found.typed, found.found) == ("organ_name", organ, SEAL)
    assert found.look_alike is look_alike


def test_a_certificate_that_only_reads_like_the_agency_is_not_the_agency() -> None:
    forged = PdfIdentity.read(seal_extra("ỦY BAN NHÂN DÂN TỈNH \u0422HỬ NGHIỆM"), {})
    [found] = metadata_mismatches(typed(), forged)
    assert found.look_alike
    gate = metadata_gate(typed(), forged, None)
    assert not gate.allowed and "U+0422" in gate.message


@pytest.mark.parametrize(
    ("fields", "printed", "agrees"),
    [
        ({}, "52/QĐ-UBND", True),
        ({"code_number": "5"}, "05/QĐ-UBND", True),
        ({"code_number": "53"}, "52/QĐ-UBND", False),
        ({"code_notation": "QĐ-UBND-VP"}, "52/QĐ-UBND", False),
        ({"code_number": "30", "code_notation": "NĐ-CP"}, "30/2020/NĐ-CP", True),
        ({"code_number": "30", "code_notation": "NĐ-CP"}, "31/2020/NĐ-CP", False),
    ],
)
def test_the_so_ky_hieu_is_compared_as_printed(fields: dict[str, str], printed: str, agrees: bool) -> None:
    says = PdfIdentity.read({}, {"so_ky_hieu": {"value": printed, "confidence": 0.8}})
    found = metadata_mismatches(typed(**fields), says)
    assert (found == ()) is agrees
    if not agrees:
        assert [m.field for m in found] == ["code"] and found[0].found == printed


def test_another_date_is_a_mismatch() -> None:
    [found] = metadata_mismatches(typed(issued_date="2026-03-02"), SAYS)
    assert (found.field, found.typed, found.found) == ("issued_date", "02/03/2026", "05/03/2026")


@pytest.mark.parametrize(
    ("extra", "read"),
    [
        ({}, {}),  # no signature, nothing read
        (seal_extra(), {}),  # signed, but by no trusted agency
        ({}, {k: {**v, "confidence": 0.6} for k, v in READ.items()}),  # read, not confidently
        ({"signature_organisations": "BỘ NỘI VỤ"}, {"so_ky_hieu": "52", "ngay_ban_hanh": {"value": "5/3"}}),
    ],
)
def test_where_the_pdf_says_nothing_nothing_is_asked(extra: dict[str, Any], read: dict[str, Any]) -> None:
    md = typed(organ_name="Bộ Nội vụ", code_number="1234", code_notation="BNV-VP", issued_date="2026-03-02")
    says = PdfIdentity.read(extra, read)
    assert metadata_mismatches(md, says) == ()
    assert metadata_gate(md, says, None).allowed


def test_an_outgoing_document_is_not_decided_here() -> None:
    md = parse_document(outgoing(organ_name="Bộ Nội vụ"), Direction.DI, numbered_by_register=True)
    assert metadata_mismatches(md, SAYS) == ()


def test_the_gate_refuses_with_each_field_and_takes_a_reason() -> None:
    md = typed(organ_name="Bộ Nội vụ", code_number="1234", code_notation="BNV-VP", issued_date="2026-03-02")
    refused = metadata_gate(md, SAYS, "  ")
    assert not refused.allowed and refused.code == "METADATA_MISMATCH"
    assert [m.field for m in refused.mismatches] == ["organ_name", "code", "issued_date"]
    assert unicodedata.is_normalized("NFC", refused.message)
    for said in ("Bộ Nội vụ", SEAL, "1234/BNV-VP", "52/QĐ-UBND", "02/03/2026", "05/03/2026", "lý do"):
        assert said in refused.message
    passed = metadata_gate(md, SAYS, "Đã xác minh qua điện thoại")
    assert passed.allowed and passed.override and passed.mismatches == refused.mismatches
