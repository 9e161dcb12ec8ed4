"""Facet names and values as people read them: one table for the search page, the document view,
the REST API's facet labels and ``kho search``.

Pure: no I/O. The names of units and hồ sơ are not here (search never reads the store or the
unit list): the caller resolves them through the access policy and passes them in; an id it
could not name is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from kho.digits import ascii_int
from repository.vocabulary import Secrecy, Urgency

FACET_LABELS: Mapping[str, str] = {
    "direction": "Loại bản ghi",
    "loai_van_ban": "Loại văn bản",
    "co_quan_ban_hanh": "Cơ quan ban hành",
    "do_khan": "Độ khẩn",
    "do_mat": "Độ mật",
    "signature_verdict": "Chữ ký số",
    "retention_state": "Trạng thái lưu trữ",
    "nguoi_ky": "Người ký",
    "ho_so": "Hồ sơ",
    "unit": "Đơn vị",
    "year": "Năm",
    "ngay_ban_hanh_from": "Ngày văn bản từ",
    "ngay_ban_hanh_to": "Ngày văn bản đến",
    "ngay_den_from": "Ngày đến từ",
    "ngay_den_to": "Ngày đến đến",
}
"""A facet's (or filter's) name in Vietnamese."""

DIRECTION_LABELS: Mapping[str, str] = {"den": "Văn bản đến", "di": "Văn bản đi", "hoso": "Hồ sơ"}

VERDICT_LABELS: Mapping[str, str] = {
    "TOTAL-PASSED": "Hợp lệ",
    "TOTAL-FAILED": "Không hợp lệ",
    "INDETERMINATE": "Chưa xác định",
    "NO_SIGNATURE": "Không có chữ ký số",
}
"""A signature verdict (the stored summary) in Vietnamese."""

RETENTION_LABELS: Mapping[str, str] = {
    "active": "Đang hiện hành",
    "archived": "Đã nộp lưu",
    "destroyed": "Đã hủy",
}


def facet_label(facet: str) -> str:
    """A facet's name as people read it (an unknown one as it is)."""
    return FACET_LABELS.get(facet, facet)


def value_label(
    facet: str,
    value: str,
    units: Mapping[str, str] | None = None,
    hoso: Mapping[str, str] | None = None,
) -> str:
    """A facet value as people read it (codes never shown raw). ``units``: unit id -> name,
    ``hoso``: hồ sơ id -> "số ký hiệu — tiêu đề", both resolved by the caller through the access
    policy; an id they do not name is shown as it is."""
    if facet == "unit":
        return (units or {}).get(value, value)
    if facet == "ho_so":
        return (hoso or {}).get(value, value)
    if facet == "direction":
        return DIRECTION_LABELS.get(value, value)
    level = ascii_int(value)  # (kho.digits: int("²") raises, int("٣") is 3; "03" is 3 as in search.query)
    if facet == "do_khan" and level in Urgency._value2member_map_:
        return Urgency(level).label
    if facet == "do_mat" and level in Secrecy._value2member_map_:
        return Secrecy(level).label
    if facet == "signature_verdict":
        return VERDICT_LABELS.get(value, value)
    if facet == "retention_state":
        return RETENTION_LABELS.get(value, value)
    if facet.endswith(("_from", "_to")) and len(value) == 10 and value[4] == "-":
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    return value


def facet_line(facet: str, counts: list[tuple[str, int]], units: Mapping[str, str] | None = None,
               hoso: Mapping[str, str] | None = None) -> str:
    """One facet on one line, e.g. ``Loại bản ghi: Văn bản đến (12), Văn bản đi (3)``."""
    shown = ", ".join(f"{value_label(facet, v, units, hoso)} ({n})" for v, n in counts)
    return f"{facet_label(facet)}: {shown}"
