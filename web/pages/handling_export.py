"""Sổ theo dõi giải quyết văn bản đến (Phụ lục IV) and Báo cáo tình hình giải quyết văn bản
đến/đi (Phụ lục VI V.2, V.4) as one :class:`kho.sheets.Sheet` (the statistics row, then the
detail), written as PDF and XLSX by :mod:`kho.sheets` from the same data
(:meth:`repository.handling.HandlingService.report`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from kho import sheets
from kho.sheets import Sheet, Table
from repository.handling import COLUMN_LABELS

TRACKING_COLUMNS = (
    "Số đến",
    "Tên loại, số, ký hiệu, ngày tháng, cơ quan ban hành",
    "Đơn vị hoặc người nhận",
    "Thời hạn giải quyết",
    "Tiến độ giải quyết",
    "Số, ký hiệu văn bản trả lời",
    "Ghi chú",
)
OUTGOING_TRACKING_COLUMNS = (
    "Số đi",
    "Tên loại, số, ký hiệu, ngày tháng",
    "Nơi nhận",
    "Thời hạn trả lời",
    "Trạng thái bên nhận (QCVN 102)",
    "Văn bản trả lời",
    "Ghi chú",
)
SUMMARY_COLUMNS = ("Tổng số", *COLUMN_LABELS.values())


# the detail table's widths on landscape A4, in millimetres
TRACKING_WIDTHS_MM = (16, 70, 36, 22, 58, 36, 35)
SUMMARY_WIDTHS_MM = (25, 45, 45, 45, 45, 40)


def _d(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def build(report: dict[str, Any], agency: str, unit_name: str = "") -> Sheet:
    incoming = report["kind"] == "den"
    title = (
        "Báo cáo tình hình giải quyết văn bản đến" if incoming else "Báo cáo tình hình giải quyết văn bản đi"
    )
    lines = (
        agency,
        *((f"Đơn vị: {unit_name}",) if unit_name else ()),
        f"Từ ngày {_d(report['start'])} đến ngày {_d(report['end'])}",
    )
    totals = report["totals"]
    summary = (int(report["total"]), *(int(totals[k]) for k in COLUMN_LABELS))
    rows = tuple(
        (
            r["number"],
            f"{r['document']} — {r['subject']}",
            r["receivers"],
            r["deadline"],
            f"{r['progress']} ({COLUMN_LABELS[r['column']]})" if incoming else r["progress"],
            r["answers"],
            r["note"],
        )
        for r in report["rows"]
    )
    return Sheet(
        title,
        lines,
        TRACKING_COLUMNS if incoming else OUTGOING_TRACKING_COLUMNS,
        rows,
        widths_mm=TRACKING_WIDTHS_MM,
        landscape=True,
        preface=(Table(SUMMARY_COLUMNS, (summary,), SUMMARY_WIDTHS_MM, numbered=False),),
        table_title="SỔ THEO DÕI GIẢI QUYẾT",
        numbered=False,
        font_size=9,
    )


UNIT_COLUMNS = ("Đơn vị", *SUMMARY_COLUMNS)


def build_totals(report: dict[str, Any], agency: str, names: dict[str, str], unit_name: str = "") -> Sheet:
    """The totals-only report (:meth:`repository.handling.HandlingService.report_totals`): the
    statistics row, then one row of counts per unit; no document appears."""
    base = build({**report, "rows": []}, agency, unit_name)
    rows = tuple(
        (names.get(u, u), str(c["total"]), *(str(c["totals"][k]) for k in COLUMN_LABELS))
        for u, c in report["by_unit"].items()
    )
    return replace(
        base,
        title=base.title + " (số liệu tổng hợp)",
        columns=UNIT_COLUMNS,
        rows=rows,
        table_title="SỐ LIỆU THEO ĐƠN VỊ",
        widths_mm=(70, 25, 36, 36, 36, 36, 30),
    )


def to_xlsx(sheet: Sheet) -> bytes:
    return sheets.to_xlsx(sheet)


def to_pdf(sheet: Sheet, printed_by: str, printed_at: str) -> bytes:
    return sheets.to_pdf(sheet, printed_by, printed_at)
