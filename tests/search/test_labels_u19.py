"""search.labels: facet names and values in Vietnamese, one table for every place that shows
them (branch u19)."""

from __future__ import annotations

import pytest

from search.labels import FACET_LABELS, facet_label, facet_line, value_label
from search.query import FACETS


def test_every_facet_a_backend_counts_has_a_vietnamese_name() -> None:
    assert set(FACETS) <= set(FACET_LABELS)
    assert all(facet_label(f) != f for f in FACETS)


@pytest.mark.parametrize(
    ("facet", "value", "label"),
    [
        ("direction", "den", "Văn bản đến"),
        ("direction", "di", "Văn bản đi"),
        ("direction", "hoso", "Hồ sơ"),
        ("signature_verdict", "TOTAL-PASSED", "Hợp lệ"),
        ("signature_verdict", "TOTAL-FAILED", "Không hợp lệ"),
        ("signature_verdict", "INDETERMINATE", "Chưa xác định"),
        ("signature_verdict", "NO_SIGNATURE", "Không có chữ ký số"),
        ("retention_state", "archived", "Đã nộp lưu"),
        ("do_khan", "3", "Hỏa tốc"),
        ("do_mat", "1", "Mật"),
        ("ngay_den_from", "2026-03-02", "02/03/2026"),
        ("year", "2026", "2026"),
        ("do_mat", "9", "9"),  # an unknown level is shown as it is, not refused
    ],
)
def test_values_read_as_words(facet: str, value: str, label: str) -> None:
    assert value_label(facet, value) == label


def test_unit_and_hoso_ids_take_the_names_given_or_stay_as_they_are() -> None:
    units = {"000.00.18.H40": "Ủy ban nhân dân tỉnh Ninh Bình"}
    hoso = {"a" * 24: "01.VP — Hồ sơ kiểm kê"}
    assert value_label("unit", "000.00.18.H40", units) == "Ủy ban nhân dân tỉnh Ninh Bình"
    assert value_label("unit", "000.01.18.H40", units) == "000.01.18.H40"
    assert value_label("ho_so", "a" * 24, hoso=hoso) == "01.VP — Hồ sơ kiểm kê"
    assert value_label("ho_so", "b" * 24) == "b" * 24


def test_a_facet_on_one_line() -> None:
    line = facet_line("direction", [("den", 12), ("di", 3)])
    assert line == "Loại bản ghi: Văn bản đến (12), Văn bản đi (3)"
