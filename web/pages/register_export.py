"""Sổ đăng ký văn bản đến / đi as rows with the Phụ lục IV columns, and as PDF and XLSX.

The rows are computed from records without I/O (pure); the two writers only lay them out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kho.sheets import escape as _escape
from kho.sheets import fonts as _fonts
from repository.metadata import DocumentMetadata
from repository.records import Record
from repository.vocabulary import Direction, format_number

INCOMING_COLUMNS = (
    "Ngày đến",
    "Số đến",
    "Tác giả",
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung",
    "Đơn vị hoặc người nhận",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
)
OUTGOING_COLUMNS = (
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung",
    "Người ký",
    "Nơi nhận văn bản",
    "Đơn vị, người nhận bản lưu",
    "Số lượng bản",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
)


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass(frozen=True)
class RegisterSheet:
    title: str
    year: int
    incoming: bool
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    date_from: date | None
    date_to: date | None
    number_from: str
    number_to: str
    volume: str = "01"

    @property
    def header_lines(self) -> tuple[str, ...]:
        return (
            f"Năm: {self.year}",
            f"Từ ngày: {_d(self.date_from)}    Đến ngày: {_d(self.date_to)}",
            f"Từ số: {self.number_from}    Đến số: {self.number_to}",
            f"Quyển số: {self.volume}",
        )


def register_row(record: Record) -> tuple[str, ...]:
    md = record.metadata
    assert isinstance(md, DocumentMetadata)
    number = record.registration.display_number if record.registration else ""
    subject = f"{md.type_name}: {md.subject}"
    if md.direction is Direction.DEN:
        return (
            _d(md.arrival_date),
            number,
            md.organ_name,
            md.so_ky_hieu or "",
            _d(md.issued_date),
            subject,
            md.to_places or "",
            "",
            "",
            md.description or "",
        )
    return (
        md.so_ky_hieu or number,
        _d(md.issued_date),
        subject,
        f"{md.signer_position} {md.signer_full_name}".strip(),
        "; ".join(r.organ_name for r in md.recipients),
        "",
        str(md.issued_amount or ""),
        "",
        "",
        md.description or "",
    )


def build_sheet(
    title: str,
    year: int,
    records: Sequence[Record],
    *,
    incoming: bool,
    date_from: date | None = None,
    date_to: date | None = None,
    volume: str = "01",
) -> RegisterSheet:
    days: list[date] = []
    for record in records:
        md = record.metadata
        if isinstance(md, DocumentMetadata):
            day = md.arrival_date if md.direction is Direction.DEN else md.issued_date
            if day:
                days.append(day)
    numbers = [r.registration.number for r in records if r.registration]
    return RegisterSheet(
        title=title,
        year=year,
        incoming=incoming,
        columns=INCOMING_COLUMNS if incoming else OUTGOING_COLUMNS,
        rows=tuple(register_row(r) for r in records),
        date_from=date_from or (min(days) if days else None),
        date_to=date_to or (max(days) if days else None),
        number_from=format_number(min(numbers)) if numbers else "",
        number_to=format_number(max(numbers)) if numbers else "",
        volume=volume,
    )


def to_xlsx(sheet: RegisterSheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "So dang ky"
    ws.append([sheet.title.upper()])
    ws["A1"].font = Font(bold=True, size=14)
    for line in sheet.header_lines:
        ws.append([line])
    ws.append([])
    ws.append([f"({i})" for i in range(1, len(sheet.columns) + 1)])
    ws.append(list(sheet.columns))
    header_row = ws.max_row
    thin = Side(style="thin")
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for row in sheet.rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    widths = (12, 10, 24, 18, 12, 40, 22, 12, 12, 16)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(sheet: RegisterSheet, printed_by: str, printed_at: str) -> bytes:
    """A landscape A4 register with its header block, ready to sign and bind."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11, alignment=1)
    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, alignment=1)
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
    story: list = [Paragraph(sheet.title.upper(), title), Spacer(1, 4 * mm)]
    story += [Paragraph(text, line) for text in sheet.header_lines]
    story.append(Spacer(1, 6 * mm))
    table_data = [
        [Paragraph(c, head) for c in sheet.columns],
        [Paragraph(f"({i})", head) for i in range(1, len(sheet.columns) + 1)],
    ]
    table_data += [[Paragraph(_escape(v), body) for v in row] for row in sheet.rows]
    widths = [w * mm for w in (20, 16, 34, 28, 20, 70, 34, 18, 18, 15)]
    table = Table(table_data, colWidths=widths, repeatRows=2)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#eeeeee")),
            ]
        )
    )
    story.append(table)

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(regular, 8)  # type: ignore[attr-defined]
        page = canvas.getPageNumber()  # type: ignore[attr-defined]
        canvas.drawString(12 * mm, 7 * mm, f"In bởi {printed_by} lúc {printed_at} — trang {page}")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
