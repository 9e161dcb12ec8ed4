"""Unit tests of each extraction rule on realistic snippets (clean, OCR-noisy, interleaved)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.metadata import (
    Citation,
    detect_type_title,
    find_so_ky_hieu,
    parse_citations,
    parse_place_date,
    parse_quyen_han,
    parse_vn_date,
    person_name,
    type_from_so_ky_hieu,
)
from ingest.metadata.normalize import clean_lines, fold, quoc_hieu_span, split_columns
from repository.vocabulary import SoKyHieu


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngày 05 tháng 3 năm 2020", dt.date(2020, 3, 5)),
        ("Hà Nội, ngày 15     tháng 07 năm 2026", dt.date(2026, 7, 15)),  # OCR spacing
        ("ngảy 02 thảng 01 nãm 2021", dt.date(2021, 1, 2)),  # OCR tone marks
        ("ngay 9 thang 12 nam 2019", dt.date(2019, 12, 9)),  # no diacritics
        ("ngày 28/12/2023", dt.date(2023, 12, 28)),
        ("ngày 31 tháng 02 năm 2020", None),  # not a date
        ("ngày ….. tháng ….. năm 20...", None),  # a form placeholder
    ],
)
def test_parse_vn_date_reads_decree_dates_and_ocr_variants(text, expected):
    assert parse_vn_date(text) == expected


def test_place_date_splits_place_from_an_interleaved_so_line():
    line = "Số: 215 /2026/NĐ-CP Hà Nội, ngày 18 tháng 6 năm 2026"
    assert parse_place_date(line) == ("Hà Nội", dt.date(2026, 6, 18))
    assert parse_place_date("TP. Hồ Chí Minh, ngày 05/3/2020") == (
        "TP. Hồ Chí Minh",
        dt.date(2020, 3, 5),
    )
    assert parse_place_date("Nghị định số 125/2020/NĐ-CP ngày 19 tháng 10 năm 2020") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Số: 123/QĐ-UBND", SoKyHieu(123, "QĐ-UBND")),
        ("Số: 59   /2026/TT-BGDĐT          Hà Nội, ngày 15", SoKyHieu(59, "TT-BGDĐT", 2026)),
        ("S6: 05/BNV-VP", SoKyHieu(5, "BNV-VP")),  # OCR read "ố" as "6"
        ("Số: 7/TB-SYT", SoKyHieu(7, "TB-SYT")),  # leading zero lost: padded to 07
        ("Số: 30/2020/NÐ-CP", SoKyHieu(30, "NĐ-CP", 2020)),  # Icelandic Ð from a text layer
        ("Luật số: 12/2012/QH13", SoKyHieu(12, "QH13", 2012)),
        ("Số: ……/TB-……..", None),
    ],
)
def test_find_so_ky_hieu_after_the_label(line, expected):
    found = find_so_ky_hieu(line)
    assert (found[0] if found else None) == expected


def test_bare_so_ky_hieu_only_in_a_title_not_in_running_text():
    assert find_so_ky_hieu("THÔNG TƯ 27/2026/TT-BXD", labelled=False)[0] == SoKyHieu(
        27, "TT-BXD", 2026
    )
    assert find_so_ky_hieu("hợp đồng số 69/2020/QH14,", labelled=False) is None
    assert find_so_ky_hieu("số 97/2025/QH15;", labelled=False) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("NGHỊ ĐỊNH", ("Nghị định", "")),
        ("— NGHỊ ĐỊNH", ("Nghị định", "")),  # OCR debris before the title
        ("QUYẾT ĐỊNH", ("Quyết định", "")),
        ("THÔNG TƯ LIÊN TỊCH", ("Thông tư liên tịch", "")),
        ("LUẬT CÔNG ĐOÀN", ("Luật", "CÔNG ĐOÀN")),
        ("GIẤY UỶ QUYỀN", ("Giấy ủy quyền", "")),  # tone-mark placement
        ("QUY ĐỊNH CHUNG", None),  # a chapter heading
        ("Chương I — QUY ĐỊNH CHUNG", None),
        ("Nghị định này quy định", None),  # running text
    ],
)
def test_detect_type_title(line, expected):
    assert detect_type_title(line) == expected


def test_type_from_so_ky_hieu_uses_vocabulary_and_refuses_to_guess_legal_numbers():
    assert type_from_so_ky_hieu(SoKyHieu(15, "QĐ-BNV")) == "Quyết định"
    assert type_from_so_ky_hieu(SoKyHieu(5, "BNV-VP")) == "Công văn"
    assert type_from_so_ky_hieu(SoKyHieu(30, "NĐ-CP", 2020)) == "Nghị định"
    assert type_from_so_ky_hieu(SoKyHieu(29, "QH16", 2026)) is None  # Luật or Nghị quyết


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KT. BỘ TRƯỞNG", ("KT.", "BỘ TRƯỞNG")),
        ("TM. ỦY BAN NHÂN DÂN", ("TM.", "ỦY BAN NHÂN DÂN")),
        ("TM.CHÍNH PHỦ", ("TM.", "CHÍNH PHỦ")),
        ("Q. GIÁM ĐỐC", ("Q.", "GIÁM ĐỐC")),
        ("TUQ. CHỦ TỊCH", ("TUQ.", "CHỦ TỊCH")),
        ("ƯnNG, KT, THỦ TƯỚNG", ("KT.", "THỦ TƯỚNG")),  # OCR: comma for the dot
        ("Kt. ông Nguyễn", None),
    ],
)
def test_parse_quyen_han(text, expected):
    assert parse_quyen_han(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Thị Liên Hương", "Nguyễn Thị Liên Hương"),
        ("ĐOÀN THÁI SƠN", "Đoàn Thái Sơn"),
        ("Đại tướng Lương Tam Quang", "Lương Tam Quang"),
        ("Bùi Xuân Dũng 4", "Bùi Xuân Dũng"),  # OCR debris
        ("PHÓ THỦ TƯỚNG", None),
        ("Bộ trưởng Bộ Công an", None),
        ("GHI CHÚ PHƯƠNG PHÁP", None),  # capitals but no family name
        ("Š N", None),
    ],
)
def test_person_name(text, expected):
    found = person_name(text)
    assert (found[0] if found else None) == expected


def test_parse_citations_structures_each_cited_document():
    text = (
        "Căn cứ Luật Xử lý vi phạm hành chính số 15/2012/QH13 được sửa đổi, bổ sung bởi Luật "
        "số 67/2020/QH14; Nghị định số 29/2025/NĐ-CP ngày 24 tháng 02 năm 2025 của Chính phủ "
        "quy định chức năng; Thông tư số 10/2025/TT-BNV ngày 19/6/2025 của Bộ trưởng Bộ Nội vụ"
        " hướng dẫn"
    )
    got = [(c.loai, c.so_ky_hieu, c.ngay, c.co_quan) for c in parse_citations(text)]
    assert got == [
        ("Luật", "15/2012/QH13", None, None),
        ("Luật", "67/2020/QH14", None, None),
        ("Nghị định", "29/2025/NĐ-CP", dt.date(2025, 2, 24), "Chính phủ"),
        ("Thông tư", "10/2025/TT-BNV", dt.date(2025, 6, 19), "Bộ trưởng Bộ Nội vụ"),
    ]


def test_parse_citations_keeps_a_law_cited_by_name_and_date_only():
    (cite,) = parse_citations("Căn cứ Luật Tổ chức Chính phủ ngày 25 tháng 12 năm 2001;")
    assert cite == Citation(
        "Luật", None, dt.date(2001, 12, 25), None, "Luật Tổ chức Chính phủ ngày 25 tháng 12 năm 2001"
    )


def test_quoc_hieu_is_found_in_ocr_variants_and_split_from_the_left_column():
    assert quoc_hieu_span("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert quoc_hieu_span("CONG H0A XA HOI CHU NGHIA VIET NAM")
    assert split_columns("CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") == [
        "CHÍNH PHỦ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    ]
    assert split_columns("SỞ NỘI VỤ        Độc lập - Tự do - Hạnh phúc") == [
        "SỞ NỘI VỤ",
        "Độc lập - Tự do - Hạnh phúc",
    ]


def test_fold_keeps_length_and_clean_lines_strips_markup():
    text = "CỘNG HÒA Đ"
    assert fold(text) == "cong hoa d" and len(fold(text)) == len(text)
    assert clean_lines("_Hà Nội, ngày 05 tháng 02 năm 2010_\n\n&nbsp;\n**Số:** 08/2010/NĐ-CP") == [
        "Hà Nội, ngày 05 tháng 02 năm 2010",
        "Số: 08/2010/NĐ-CP",
    ]


def test_fold_table_equals_the_per_character_rule_on_every_bmp_character():
    from ingest.metadata.normalize import _fold_char

    text = "".join(chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c <= 0xDFFF)
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "".join(_fold_char(ch) for ch in text)
    assert fold("Ðồng ĐỨC đức") == "dong duc duc"
