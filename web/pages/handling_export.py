"""Sổ theo dõi giải quyết văn bản đến (Phụ lục IV) and Báo cáo tình hình giải quyết văn bản
đến/đi (Phụ lục VI V.2, V.4) as one :class:`Sheet`, written as PDF (reportlab) and XLSX
(openpyxl) from the same data (:meth:`repository.handling.HandlingService.report`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from kho.sheets import escape as _escape
from kho.sheets import fonts as _fonts
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


@dataclass(frozen=True)
class Sheet:
    title: str
    lines: tuple[str, ...]
    summary: tuple[str, ...]
    """One row under :data:`SUMMARY_COLUMNS`: the statistics (III.1.l)."""
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    table_title: str = "SỔ THEO DÕI GIẢI QUYẾT"
    widths_mm: tuple[int, ...] = (16, 70, 36, 22, 58, 36, 35)
    widths_xlsx: tuple[int, ...] = (10, 48, 24, 14, 34, 20, 24)


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
    summary = (str(report["total"]), *(str(totals[k]) for k in COLUMN_LABELS))
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
    return Sheet(title, lines, summary, TRACKING_COLUMNS if incoming else OUTGOING_TRACKING_COLUMNS, rows)


UNIT_COLUMNS = ("Đơn vị", *SUMMARY_COLUMNS)


def build_totals(report: dict[str, Any], agency: str, names: dict[str, str], unit_name: str = "") -> Sheet:
    """The totals-only report (:meth:`repository.handling.HandlingService.report_totals`): the
    statistics row, then one row of counts per unit; no document appears."""
    base = build({**report, "rows": []}, agency, unit_name)
    rows = tuple(
        (names.get(u, u), str(c["total"]), *(str(c["totals"][k]) for k in COLUMN_LABELS))
        for u, c in report["by_unit"].items()
    )
    return Sheet(
        base.title + " (số liệu tổng hợp)",
        base.lines,
        base.summary,
        UNIT_COLUMNS,
        rows,
        table_title="SỐ LIỆU THEO ĐƠN VỊ",
        widths_mm=(70, 25, 36, 36, 36, 36, 30),
        widths_xlsx=(40, 10, 20, 20, 20, 20, 16),
    )


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    thin = Side(style="thin")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    ws = book.active
    assert ws is not None
    ws.title = "Bao cao"
    ws.append([sheet.title.upper()])
    ws["A1"].font = Font(bold=True, size=14)
    for line in sheet.lines:
        ws.append([line])
    ws.append([])
    ws.append(list(SUMMARY_COLUMNS))
    for cell in ws[ws.max_row]:
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    ws.append([int(v) for v in sheet.summary])
    for cell in ws[ws.max_row]:
        cell.border = box
    ws.append([])
    ws.append([sheet.table_title])
    ws.append(list(sheet.columns))
    header = ws.max_row
    for cell in ws[header]:
        cell.font, cell.border = Font(bold=True), box
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in sheet.rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            cell.alignment, cell.border = Alignment(wrap_text=True, vertical="top"), box
    for index, width in enumerate(sheet.widths_xlsx, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = f"{header}:{header}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(sheet: Sheet, printed_by: str, printed_at: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11, alignment=1)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, alignment=1)
    line = ParagraphStyle("line", fontName=regular, fontSize=11, leading=15, alignment=1)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=sheet.title,
        author="Kho",
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ]
    )
    story: list = [Paragraph(_escape(sheet.title.upper()), title), Spacer(1, 3 * mm)]
    story += [Paragraph(_escape(t), line) for t in sheet.lines]
    story.append(Spacer(1, 5 * mm))
    summary = Table(
        [[Paragraph(c, head) for c in SUMMARY_COLUMNS], [Paragraph(v, body) for v in sheet.summary]],
        colWidths=[w * mm for w in (25, 45, 45, 45, 45, 40)],
    )
    summary.setStyle(grid)
    story += [summary, Spacer(1, 6 * mm)]
    data = [[Paragraph(c, head) for c in sheet.columns]]
    data += [[Paragraph(_escape(v), body) for v in row] for row in sheet.rows]
    table = Table(data, colWidths=[w * mm for w in sheet.widths_mm], repeatRows=1)
    table.setStyle(grid)
    story.append(table)

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.drawString(
            12 * mm, 7 * mm, f"In bởi {printed_by} lúc {printed_at} — trang {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
