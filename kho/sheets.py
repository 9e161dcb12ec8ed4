"""Tables laid out as PDF (reportlab) and XLSX (openpyxl) from the same rows: the writers every
printable output of Kho shares (registers, handling reports, retention outputs, the destruction
dossier), and the fonts with Vietnamese glyphs the PDF writers register once per process."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kho.xmltext import SHOWN_INSTEAD, shown_line, shown_text, xml_safe

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")


SHOWN_FONT = "KhoShown"
"""The font U+FFFD "�" is drawn in (Liberation has no glyph for it: reportlab drew its empty
.notdef box, and a reader copying the text got U+0000): DejaVu Sans, when installed
(``fonts-dejavu-core``, in the image and ``scripts/install-system.sh``)."""
SHOWN_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "KhoSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("KhoSerif", str(FONT_DIR / "LiberationSerif-Regular.ttf")))
        pdfmetrics.registerFont(TTFont("KhoSerif-Bold", str(FONT_DIR / "LiberationSerif-Bold.ttf")))
        if SHOWN_FONT_FILE.is_file():
            pdfmetrics.registerFont(TTFont(SHOWN_FONT, str(SHOWN_FONT_FILE)))
    return "KhoSerif", "KhoSerif-Bold"


def _shown_font() -> str | None:
    from reportlab.pdfbase import pdfmetrics

    return SHOWN_FONT if SHOWN_FONT in pdfmetrics.getRegisteredFontNames() else None


def escape(text: str) -> str:
    """``text`` as the markup of a reportlab ``Paragraph`` (every PDF of Kho writes its texts
    through here, after :func:`fonts`): shown by :func:`kho.xmltext.shown_text` (a control
    character or U+202E of a text stored before the input rules is drawn "�", in
    :data:`SHOWN_FONT`, not as nothing or reversed), ``&<>`` escaped."""
    markup = shown_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    font = _shown_font()
    if font is None or SHOWN_INSTEAD not in markup:
        return markup
    return markup.replace(SHOWN_INSTEAD, f'<font name="{font}">{SHOWN_INSTEAD}</font>')


def draw_line(canvas: Any, x: float, y: float, text: str, font: str, size: float) -> None:
    """``text`` drawn on one line of a reportlab canvas (a footer, a print mark), shown by
    :func:`kho.xmltext.shown_line`, each "�" in :data:`SHOWN_FONT` (see :func:`escape`)."""
    shown_font = _shown_font() or font
    line = canvas.beginText(x, y)
    for part in re.split(f"({SHOWN_INSTEAD})", shown_line(text)):
        if part:
            line.setFont(shown_font if part == SHOWN_INSTEAD else font, size)
            line.textOut(part)
    canvas.drawText(line)


SPLIT_IN_ROW = 1
"""``splitInRow`` of every PDF table: a row taller than a page (a trích yếu of thousands of
characters, a word of hundreds that reportlab breaks into many lines) goes on over the next page;
without it reportlab raised ``LayoutError`` and the page answered 500."""


Cell = str | int
"""A cell: text, or a count that a spreadsheet should sum as a number."""


@dataclass(frozen=True)
class Table:
    """A table of a sheet: column names, rows, and its widths on paper (millimetres; a
    spreadsheet column is about a third as wide in its own unit)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths_mm: tuple[float, ...] = ()
    title: str = ""
    """A line printed above the table."""
    numbered: bool = True
    """A row "(1) (2) …" under the column names, as the appendices of the decree print them."""


@dataclass(frozen=True)
class Sheet:
    """A printable output: a title, header lines, one main table (``columns``, ``rows``), the
    tables printed before it (``preface``, e.g. a statistics row) and footer lines."""

    title: str
    header_lines: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    footer_lines: tuple[str, ...] = ()
    widths_mm: tuple[float, ...] = ()
    landscape: bool = False
    preface: tuple[Table, ...] = ()
    table_title: str = ""
    numbered: bool = True
    font_size: float = 10

    @property
    def tables(self) -> tuple[Table, ...]:
        main = Table(self.columns, self.rows, self.widths_mm, self.table_title, self.numbered)
        return (*self.preface, main) if self.columns else self.preface


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell of text as a formula (OWASP "CSV injection")."""


def csv_cell(value: Cell) -> Cell:
    """A cell of a CSV export: text as a person reading it is shown (:func:`kho.xmltext.shown_text`:
    a control character or U+202E is "�"), and text that a spreadsheet would then run as a formula
    (a trích yếu, a unit name typed as ``=HYPERLINK(…)`` or ``@SUM(…)``) gets a leading apostrophe,
    which spreadsheets show as text and hide; numbers are unchanged."""
    if not isinstance(value, str):
        return value
    value = shown_text(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xml_text(value: Cell) -> Cell:
    """A cell of an XLSX or DOCX export: text as XML can carry it (:func:`kho.xmltext.xml_safe`:
    a control character in a query, or in a text stored before such characters were refused, is
    shown as U+FFFD "�", so the export is written and says something was there); numbers unchanged."""
    if isinstance(value, str):
        return xml_safe(value)
    return value


def append_row(ws: Any, values: Sequence[Cell]) -> None:
    """Append a row to an openpyxl sheet with its text kept as text: openpyxl stores a string
    starting with ``=`` as a formula (and ``#N/A`` as an error), so a trích yếu typed or received
    as ``=HYPERLINK(…)`` would run in the reader's spreadsheet. The text itself is written
    exactly (the register shows what was registered), but for what XML cannot carry
    (:func:`xml_text`)."""
    ws.append([xml_text(value) for value in values])
    if values:
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Kho"
    append_row(ws, [sheet.title.upper()])
    ws["A1"].font = Font(bold=True, size=14)
    for line in sheet.header_lines:
        append_row(ws, [line])
    thin = Side(style="thin")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    widths: dict[int, float] = {}
    tables = sheet.tables
    for table in tables:
        append_row(ws, [])
        if table.title:
            append_row(ws, [table.title])
            ws.cell(ws.max_row, 1).font = Font(bold=True)
        append_row(ws, list(table.columns))
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            cell.border = box
        if table.numbered:
            append_row(ws, [f"({i})" for i in range(1, len(table.columns) + 1)])
        for row in table.rows:
            append_row(ws, list(row))
            for cell in ws[ws.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.border = box
        if sheet.columns and table is tables[-1]:  # the main table's names repeat on each page
            ws.print_title_rows = f"{header_row}:{header_row}"
        for index, width in enumerate(table.widths_mm or (25,) * len(table.columns), start=1):
            widths[index] = max(widths.get(index, 0), width)
    append_row(ws, [])
    for line in sheet.footer_lines:
        append_row(ws, [line])
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index)].width = max(8, width / 2.2)
    if sheet.landscape:
        ws.page_setup.orientation = "landscape"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(sheet: Sheet, printed_by: str, printed_at: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    regular, bold = fonts()
    size, leading = sheet.font_size, sheet.font_size + 2
    body = ParagraphStyle("body", fontName=regular, fontSize=size, leading=leading)
    head = ParagraphStyle("head", fontName=bold, fontSize=size, leading=leading, alignment=1)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, alignment=1)
    line = ParagraphStyle("line", fontName=regular, fontSize=11, leading=15, alignment=1)
    left = ParagraphStyle("left", fontName=regular, fontSize=11, leading=15)
    caption = ParagraphStyle("caption", fontName=bold, fontSize=11, leading=15)
    margin = 12 * mm if sheet.landscape else 15 * mm
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4) if sheet.landscape else A4,
        leftMargin=margin,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=shown_line(sheet.title),
        author="Kho",
    )
    story: list = [Paragraph(escape(sheet.title.upper()), title), Spacer(1, 3 * mm)]
    story += [Paragraph(escape(text), line) for text in sheet.header_lines]
    story.append(Spacer(1, 5 * mm))
    for table in sheet.tables:
        if table.title:
            story.append(Paragraph(escape(table.title), caption))
        head_rows = [[Paragraph(escape(c), head) for c in table.columns]]
        if table.numbered:
            head_rows.append([Paragraph(f"({i})", head) for i in range(1, len(table.columns) + 1)])
        data = head_rows + [[Paragraph(escape(str(v)), body) for v in row] for row in table.rows]
        widths = [w * mm for w in table.widths_mm] if table.widths_mm else None
        grid = PdfTable(data, colWidths=widths, repeatRows=len(head_rows), splitInRow=SPLIT_IN_ROW)
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, len(head_rows) - 1), colors.HexColor("#eeeeee")),
                ]
            )
        )
        story += [grid, Spacer(1, 5 * mm)]
    story += [Paragraph(escape(text), left) for text in sheet.footer_lines]

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        page = canvas.getPageNumber()  # type: ignore[attr-defined]
        draw_line(canvas, margin, 7 * mm, f"In bởi {printed_by} lúc {printed_at} — trang {page}", regular, 8)
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
