"""Search results as a table with the columns a person chose, written as PDF, DOCX or XLSX.

Pure layout: the hits come from a query the access policy already filtered.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from search.query import Hit

COLUMNS: dict[str, str] = {
    "so_ky_hieu": "Số, ký hiệu",
    "ngay_ban_hanh": "Ngày văn bản",
    "ngay_den": "Ngày đến",
    "loai_van_ban": "Loại văn bản",
    "co_quan_ban_hanh": "Cơ quan ban hành",
    "trich_yeu": "Trích yếu",
    "direction": "Loại bản ghi",
}
DEFAULT_COLUMNS = ("so_ky_hieu", "ngay_ban_hanh", "loai_van_ban", "co_quan_ban_hanh", "trich_yeu")
DIRECTIONS = {"den": "Văn bản đến", "di": "Văn bản đi", "hoso": "Hồ sơ"}
FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORT_MAX = 1000
"""Rows in one export (a larger result is cut, and the file says so)."""


def chosen_columns(requested: Sequence[str]) -> tuple[str, ...]:
    """The known columns among ``requested`` in the order asked; the default set if none."""
    picked = tuple(dict.fromkeys(c for c in requested if c in COLUMNS))
    return picked or DEFAULT_COLUMNS


def cell(hit: Hit, column: str) -> str:
    if column in ("ngay_ban_hanh", "ngay_den"):
        day = getattr(hit, column)
        return day.strftime("%d/%m/%Y") if day else ""
    if column == "direction":
        return DIRECTIONS.get(hit.direction, hit.direction)
    if column == "trich_yeu":
        return hit.trich_yeu or hit.title or ""
    return str(getattr(hit, column) or "")


@dataclass(frozen=True)
class ResultTable:
    title: str
    lines: tuple[str, ...]
    """Header lines: the query, the filters, who exported it and when, how many rows."""
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def build_table(
    hits: Sequence[Hit], columns: Sequence[str], *, query: str, filters: str, total: int, by: str, at: str
) -> ResultTable:
    cols = chosen_columns(columns)
    lines = [f"Từ khóa: {query or '(không có)'}", f"Điều kiện lọc: {filters or '(không có)'}"]
    shown = len(hits)
    lines.append(
        f"Số kết quả: {total}" + (f" (xuất {shown} kết quả đầu tiên)" if shown < total else "")
    )
    lines.append(f"Người xuất: {by} lúc {at}")
    return ResultTable(
        "KẾT QUẢ TÌM KIẾM VĂN BẢN",
        tuple(lines),
        tuple(COLUMNS[c] for c in cols),
        tuple(tuple(cell(h, c) for c in cols) for h in hits),
    )


def to_xlsx(table: ResultTable) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from kho.sheets import append_row

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Ket qua"
    append_row(ws, [table.title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in table.lines:
        append_row(ws, [line])
    append_row(ws, [])
    append_row(ws, ["STT", *table.columns])
    for cell_ in ws[ws.max_row]:
        cell_.font = Font(bold=True)
    for number, row in enumerate(table.rows, start=1):
        append_row(ws, [number, *row])
        for cell_ in ws[ws.max_row]:
            cell_.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_docx(table: ResultTable) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    from kho.sheets import xml_text

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"  # type: ignore[attr-defined]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    document.add_heading(table.title, level=1)
    for line in table.lines:
        document.add_paragraph(xml_text(line))
    grid = document.add_table(rows=1, cols=len(table.columns) + 1)
    grid.style = "Table Grid"
    for index, name in enumerate(("STT", *table.columns)):
        grid.rows[0].cells[index].text = name
    for number, row in enumerate(table.rows, start=1):
        cells = grid.add_row().cells
        for index, value in enumerate((str(number), *row)):
            cells[index].text = str(xml_text(value))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def to_pdf(table: ResultTable) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from kho.sheets import SPLIT_IN_ROW
    from kho.sheets import escape as _escape
    from kho.sheets import fonts as _fonts

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=11)
    head = ParagraphStyle("head", fontName=bold, fontSize=9, leading=11)
    title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=1)
    line = ParagraphStyle("line", fontName=regular, fontSize=10, leading=13)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
        bottomMargin=12 * mm, title=table.title, author="Kho",
    )
    story: list = [Paragraph(table.title, title), Spacer(1, 3 * mm)]
    story += [Paragraph(_escape(text), line) for text in table.lines]
    story.append(Spacer(1, 4 * mm))
    data = [[Paragraph(c, head) for c in ("STT", *table.columns)]]
    data += [[Paragraph(_escape(v), body) for v in (str(n), *row)] for n, row in enumerate(table.rows, 1)]
    usable = landscape(A4)[0] - 24 * mm
    widths = [12 * mm] + [(usable - 12 * mm) / max(1, len(table.columns))] * len(table.columns)
    grid = Table(data, colWidths=widths, repeatRows=1, splitInRow=SPLIT_IN_ROW)
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ]))
    story.append(grid)
    doc.build(story)
    return out.getvalue()


WRITERS = {"pdf": to_pdf, "docx": to_docx, "xlsx": to_xlsx}
