"""Tables laid out as PDF (reportlab) and XLSX (openpyxl) from the same rows: the writers every
printable output of Kho shares (retention outputs, the destruction dossier), and the fonts with
Vietnamese glyphs the PDF writers register once per process."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")


def fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "KhoSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("KhoSerif", str(FONT_DIR / "LiberationSerif-Regular.ttf")))
        pdfmetrics.registerFont(TTFont("KhoSerif-Bold", str(FONT_DIR / "LiberationSerif-Bold.ttf")))
    return "KhoSerif", "KhoSerif-Bold"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Sheet:
    title: str
    header_lines: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer_lines: tuple[str, ...] = ()
    widths_mm: tuple[float, ...] = ()
    landscape: bool = False


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kho"
    ws.append([sheet.title.upper()])
    ws["A1"].font = Font(bold=True, size=14)
    for line in sheet.header_lines:
        ws.append([line])
    ws.append([])
    thin = Side(style="thin")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    if sheet.columns:
        ws.append(list(sheet.columns))
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            cell.border = box
        ws.append([f"({i})" for i in range(1, len(sheet.columns) + 1)])
        for row in sheet.rows:
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.border = box
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.append([])
    for line in sheet.footer_lines:
        ws.append([line])
    for index, width in enumerate(sheet.widths_mm or (25,) * len(sheet.columns), start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(8, width / 2.2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(sheet: Sheet, printed_by: str, printed_at: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=12)
    head = ParagraphStyle("head", fontName=bold, fontSize=10, leading=12, alignment=1)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, alignment=1)
    line = ParagraphStyle("line", fontName=regular, fontSize=11, leading=15, alignment=1)
    left = ParagraphStyle("left", fontName=regular, fontSize=11, leading=15)
    size = landscape(A4) if sheet.landscape else A4
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=15 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=sheet.title,
        author="Kho",
    )
    story: list = [Paragraph(escape(sheet.title.upper()), title), Spacer(1, 3 * mm)]
    story += [Paragraph(escape(text), line) for text in sheet.header_lines]
    story.append(Spacer(1, 5 * mm))
    if sheet.columns:
        data = [
            [Paragraph(escape(c), head) for c in sheet.columns],
            [Paragraph(f"({i})", head) for i in range(1, len(sheet.columns) + 1)],
        ]
        data += [[Paragraph(escape(v), body) for v in row] for row in sheet.rows]
        widths = [w * mm for w in sheet.widths_mm] if sheet.widths_mm else None
        table = Table(data, colWidths=widths, repeatRows=2)
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
    story.append(Spacer(1, 5 * mm))
    story += [Paragraph(escape(text), left) for text in sheet.footer_lines]

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(regular, 8)  # type: ignore[attr-defined]
        page = canvas.getPageNumber()  # type: ignore[attr-defined]
        canvas.drawString(15 * mm, 7 * mm, f"In bởi {printed_by} lúc {printed_at} — trang {page}")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
