"""Numbers in text are read as ASCII digits only (kho.digits.ascii_int): a superscript "²"
(str.isdigit() is true, int() refuses it), an Arabic-Indic "٣" (int() reads 3) or thousands of
digits (int() refuses more than 4,300) give no number — a coded refusal or no sort key — instead
of a ValueError that stopped indexing or answered a form with a 500."""

from __future__ import annotations

import pytest

from kho.digits import ascii_int
from kho.errors import ValidationFailed
from repository.metadata import parse_document
from search.analysis import so_ky_hieu_key
from search.documents import IndexDocument

NOT_NUMBERS = ["²", "٣", "9" * 5000, "12a", "", " 12", "-1", "1_000"]


def test_ascii_int_reads_ascii_digits_only() -> None:
    assert ascii_int("0") == 0
    assert ascii_int("007") == 7
    assert ascii_int("9" * 18) == 999_999_999_999_999_999
    assert ascii_int("9" * 19) is None
    assert ascii_int("9" * 100, max_digits=100) == int("9" * 100)
    for text in NOT_NUMBERS:
        assert ascii_int(text) is None, text


@pytest.mark.parametrize(
    ("so_ky_hieu", "expected"),
    [
        ("123/QĐ-UBND", 123),
        ("05/2026/NĐ-CP", 5),
        ("²/QĐ-UBND", None),
        ("٣/QĐ-UBND", None),
        ("9" * 5000 + "/QĐ-UBND", None),
        ("12a/QĐ", None),
    ],
)
def test_the_sort_number_is_read_from_ascii_digits_only(so_ky_hieu: str, expected: int | None) -> None:
    document = IndexDocument(id="r1", version=1, direction="den", so_ky_hieu=so_ky_hieu)
    assert document.sort_number == expected
    assert document.to_json()["so_ky_hieu"] == so_ky_hieu


def test_the_lookup_key_of_a_so_ky_hieu_with_odd_digits_is_its_folded_text() -> None:
    assert so_ky_hieu_key("05/QĐ-UBND") == so_ky_hieu_key("5/qd-ubnd")
    assert so_ky_hieu_key("²/QĐ-UBND") == so_ky_hieu_key("2/QĐ-UBND")  # folding reads ² as 2
    long = "9" * 5000 + "/QĐ-UBND"
    assert so_ky_hieu_key(long).startswith("9" * 5000)


@pytest.mark.parametrize("value", ["²", "٣", "9" * 5000])
def test_a_number_field_written_with_odd_digits_is_refused_with_a_code(value: str) -> None:
    raw = {
        "type_name": "Công văn",
        "code_number": "12",
        "code_notation": "UBND-VP",
        "issued_date": "2026-03-02",
        "organ_name": "Ủy ban nhân dân tỉnh Quảng Ngãi",
        "subject": "Về việc thử",
        "page_amount": value,
    }
    with pytest.raises(ValidationFailed) as refused:
        parse_document(raw, "den")
    codes = {(e.field, e.code) for e in refused.value.errors}
    assert ("page_amount", "FIELD_NOT_NUMBER") in codes
