from __future__ import annotations

import pytest

from kho.errors import BadFile, ValidationFailed
from repository.originals import check_original, conforming_name, name_conforms
from repository.vocabulary import (
    canonical_type,
    document_identifier,
    has_hidden_characters,
    is_organ_id,
    parse_file_code,
    parse_so_ky_hieu,
    typed_text,
)


@pytest.mark.parametrize(
    ("text", "number", "notation", "year", "type_name"),
    [
        ("123/QĐ-UBND", 123, "QĐ-UBND", None, "Quyết định"),
        ("05/UBND-VP", 5, "UBND-VP", None, "Công văn"),
        ("Số: 07/TTr-SNV", 7, "TTr-SNV", None, "Tờ trình"),
        ("02/QyĐ-UBND", 2, "QyĐ-UBND", None, "Quy định"),
        ("30/2020/NĐ-CP", 30, "NĐ-CP", 2020, "Nghị định"),
        ("01/SY-UBND", 1, "SY-UBND", None, "Bản sao y"),
    ],
)
def test_so_ky_hieu_parses(text: str, number: int, notation: str, year: int | None, type_name: str) -> None:
    parsed = parse_so_ky_hieu(text)
    assert parsed is not None
    assert (parsed.number, parsed.notation, parsed.year, parsed.type_name) == (
        number,
        notation,
        year,
        type_name,
    )


@pytest.mark.parametrize(
    "text", ["5/UBND-VP", "12 /UBND", "12/ QĐ-UBND", "12/qđ-ubnd", "QĐ-UBND", "0/UBND", ""]
)
def test_malformed_so_ky_hieu_is_refused(text: str) -> None:
    assert parse_so_ky_hieu(text) is None


def test_numbers_below_ten_print_with_a_leading_zero() -> None:
    assert str(parse_so_ky_hieu("09/UBND-VP")) == "09/UBND-VP"


def test_identifiers() -> None:
    assert is_organ_id("000.00.18.H40")
    assert is_organ_id("G09.01")
    assert not is_organ_id("000.00.18.h40")
    assert not is_organ_id("A" * 36)
    code = parse_file_code("000.00.18.H40.2011.01.TH")
    assert code is not None and (code.organ_id, code.year, code.notation) == (
        "000.00.18.H40",
        2011,
        "01.TH",
    )
    skh = parse_so_ky_hieu("7816/VPCP-TTĐT")
    assert skh is not None
    assert (
        document_identifier("000.00.00.G22", "2015-09-30", skh) == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    )


def test_type_names_fold_tone_mark_placement() -> None:
    assert canonical_type("Giấy uỷ quyền") == canonical_type("giấy ủy quyền") == "Giấy ủy quyền"
    assert canonical_type("Công văn") == "Công văn"
    assert canonical_type("Thư rác") is None


def test_file_names_are_made_conforming_and_the_original_kept() -> None:
    info = check_original(b"%PDF-1.7\n...", "Quyết định số 12/2026 về Đề án.pdf".replace("/", "-"))
    assert name_conforms(info.stored_name)
    assert info.stored_name == "Quyet_dinh_so_12-2026_ve_De_an.pdf"
    assert info.original_name == "Quyết định số 12-2026 về Đề án.pdf"
    long_name = conforming_name("Báo cáo " * 20 + ".docx", "ab" * 32)
    assert len(long_name) <= 50 and long_name.endswith(".docx")


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.pdf", "FILE_EMPTY"),
        (b"MZ\x90\x00", "virus.exe", "FILE_FORMAT_NOT_ALLOWED"),
        (b"PK\x03\x04rest", "fake.pdf", "FILE_TYPE_MISMATCH"),
        (b"\xff\xfe\x00bad", "notes.txt", "FILE_TYPE_MISMATCH"),
        (b"%PDF-1.4", "noextension", "FILE_FORMAT_NOT_ALLOWED"),
        (b"%PDF-1.4", "../etc/passwd.pdf", "FILE_NAME_INVALID"),
        # Hidden characters (the name is shown and sent back in Content-Disposition): a
        # right-to-left override, line breaks, a tab, C1 controls.
        (b"%PDF-1.4", "hoa-don\u202exslx.pdf", "FILE_NAME_INVALID"),
        (b"%PDF-1.4", "cong-van\r\nX-Evil: 1.pdf", "FILE_NAME_INVALID"),
        (b"%PDF-1.4", "cong\tvan.pdf", "FILE_NAME_INVALID"),
        (b"%PDF-1.4", "cv\x85.pdf", "FILE_NAME_INVALID"),
    ],
)
def test_bad_files_are_refused_with_their_code(data: bytes, name: str, code: str) -> None:
    with pytest.raises(BadFile) as info:
        check_original(data, name)
    assert info.value.code == code


def test_size_limit() -> None:
    with pytest.raises(BadFile) as info:
        check_original(b"%PDF-1.4" + b"0" * 2000, "big.pdf", max_bytes=1000)
    assert info.value.code == "FILE_TOO_LARGE"
    assert "MB" in info.value.message


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"], ids=["line", "paragraph"])
def test_a_one_line_text_with_a_unicode_line_separator_is_refused_as_a_line_break(separator: str) -> None:
    """(session 51, rv63's open item) U+2028/U+2029 are line breaks to a renderer that knows them
    and nothing to one that does not: a one-line field (a reason given on one line, a name)
    refuses them as it refuses CR and LF; a multi-line note keeps them, as it keeps LF."""
    text = f"Đã xác minh{separator}Người duyệt: Nguyễn Văn A"
    assert has_hidden_characters(text, line_breaks=True)
    assert not has_hidden_characters(text)
    with pytest.raises(ValidationFailed) as refused:
        typed_text(text, "reason", "Lý do", line_breaks=False)
    assert [e.code for e in refused.value.errors] == ["FIELD_CONTROL_CHARS"]
    assert typed_text(text, "note", "Ghi chú") == text
