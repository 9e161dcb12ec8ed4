"""The number sort reads the số of a số và ký hiệu as ASCII digits only: a superscript or
Arabic-Indic digit, or thousands of digits, give no sort number instead of stopping indexing."""

from __future__ import annotations

import pytest

from search.documents import IndexDocument


@pytest.mark.parametrize(
    ("so_ky_hieu", "expected"),
    [
        ("123/QĐ-UBND", 123),
        ("05/2026/NĐ-CP", 5),
        ("²/QĐ-UBND", None),  # isdigit() is true, int() refuses it
        ("٣/QĐ-UBND", None),  # Arabic-Indic three: int() would read it as 3
        ("9" * 5000 + "/QĐ-UBND", None),  # int() refuses more than 4,300 digits
        ("12a/QĐ", None),
    ],
)
def test_the_sort_number_is_read_from_ascii_digits_only(so_ky_hieu: str, expected: int | None) -> None:
    document = IndexDocument(id="r1", version=1, direction="den", so_ky_hieu=so_ky_hieu)
    assert document.sort_number == expected
    assert document.to_json()["so_ky_hieu"] == so_ky_hieu
