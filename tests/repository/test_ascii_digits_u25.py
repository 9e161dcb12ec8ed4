"""Numbers read from people's text take ASCII digits only (kho.digits, u25).

Arabic-Indic ("٣") and full-width ("３") digits are decimal to ``str.isdecimal()`` and ``int()``
reads them as 3; the rules below must not: a thời hạn bảo quản written with them is refused
with its existing code, a printed số with them is not a số, and the duplicate guard of a số
stored before the ASCII rule is not the guard of the ASCII number it looks like. (Full-width
digits are folded to ASCII by ``kho.textkey.canonical_text`` first, as look-alikes; the rules
that read a canonical text see ASCII for them.)
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from kho_testing import incoming

from kho.errors import ValidationFailed
from repository.metadata import normalize_maintenance, parse_document, parse_file
from repository.records import duplicate_key
from repository.registration import split_code
from repository.vocabulary import Direction

FOREIGN = ("٣ năm", "１０ năm", "1٣ năm", "۵ năm", "３năm")


@pytest.mark.parametrize("text", FOREIGN)
def test_maintenance_with_foreign_digits_is_not_a_period(text: str) -> None:
    assert normalize_maintenance(text) is None


def test_maintenance_ascii_forms_still_read() -> None:
    assert normalize_maintenance("5 NĂM") == "05 năm"
    assert normalize_maintenance("20năm") == "20 năm"
    assert normalize_maintenance("Vĩnh viễn") == "Vĩnh viễn"


def test_file_with_foreign_digit_period_refused_with_its_code() -> None:
    raw = {
        "file_notation": "01.TCCB",
        "title": "Hồ sơ thử",
        "maintenance": "1٣ năm",
        "creator": "Văn phòng",
        "start_date": "2026-01-02",
    }
    with pytest.raises(ValidationFailed) as refused:
        parse_file(raw, default_organ_id="000.00.00.H40")
    codes = {e.field: e.code for e in refused.value.errors}
    assert codes.get("maintenance") == "MAINTENANCE_INVALID"


@pytest.mark.parametrize("printed", ["٣/QĐ-UBND", "۵/QĐ-UBND", "1٢/QĐ-UBND"])
def test_printed_code_with_foreign_digits_is_no_so(printed: str) -> None:
    assert split_code(printed) is None


def test_printed_year_group_with_foreign_digits_is_not_a_year() -> None:
    split = split_code("30/٢٠٢٠/NĐ-CP")
    assert split is not None and split.year == ""
    ascii_split = split_code("30/2020/NĐ-CP")
    assert ascii_split is not None and ascii_split.year == "2020"


def test_duplicate_key_does_not_read_foreign_digits_as_ascii() -> None:
    md = parse_document(incoming(code_number="03"), Direction.DEN)
    ascii_key = duplicate_key(md, 2026)
    assert duplicate_key(replace(md, code_number="3"), 2026) == ascii_key  # 03 = 3 kept
    # a số stored before the ASCII rule (kept as stored): its own key, not "3"'s
    assert duplicate_key(replace(md, code_number="٣"), 2026) != ascii_key
    assert duplicate_key(replace(md, code_number="۰۳"), 2026) != ascii_key
    # full-width "０３" is folded to "03" by canonical_text (a look-alike, kho.textkey), so it
    # is the ASCII number by that rule, not by int()
