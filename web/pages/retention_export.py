"""The retention outputs — Danh mục hồ sơ, Mục lục văn bản trong hồ sơ, Mục lục hồ sơ, tài liệu
nộp lưu, Biên bản giao nhận (ND30 Phụ lục V) — as PDF and XLSX from the same :class:`Sheet`.

The sheets are built from the pure rules' rows (:mod:`retention.fileplan`,
:mod:`retention.closing`, :mod:`retention.service`); the two writers only lay them out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from repository.metadata import FileMetadata
from repository.records import Record
from retention.closing import CATALOGUE_COLUMNS, DocumentFacts, catalogue, page_total
from retention.fileplan import PLAN_COLUMNS, FilePlan, footer_lines, plan_rows
from retention.service import SUBMISSION_COLUMNS, handover_totals, submission_rows
from web.pages.register_export import _escape, _fonts


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

    regular, bold = _fonts()
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
    story: list = [Paragraph(_escape(sheet.title.upper()), title), Spacer(1, 3 * mm)]
    story += [Paragraph(_escape(text), line) for text in sheet.header_lines]
    story.append(Spacer(1, 5 * mm))
    if sheet.columns:
        data = [
            [Paragraph(_escape(c), head) for c in sheet.columns],
            [Paragraph(f"({i})", head) for i in range(1, len(sheet.columns) + 1)],
        ]
        data += [[Paragraph(_escape(v), body) for v in row] for row in sheet.rows]
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
    story += [Paragraph(_escape(text), left) for text in sheet.footer_lines]

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(regular, 8)  # type: ignore[attr-defined]
        page = canvas.getPageNumber()  # type: ignore[attr-defined]
        canvas.drawString(15 * mm, 7 * mm, f"In bởi {printed_by} lúc {printed_at} — trang {page}")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def words(n: int) -> str:
    """A count in Vietnamese words (for the "bằng chữ" line of the Mục lục), up to 999 999."""
    units = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]

    def below_1000(x: int, full: bool) -> str:
        h, rest = divmod(x, 100)
        t, u = divmod(rest, 10)
        out: list[str] = []
        if h or full:
            out += [units[h], "trăm"]
        if t > 1:
            out += [units[t], "mươi"]
            if u == 1:
                out.append("mốt")
            elif u == 5:
                out.append("lăm")
            elif u:
                out.append(units[u])
        elif t == 1:
            out.append("mười")
            if u:
                out.append("lăm" if u == 5 else units[u])
        elif u:
            if h or full:
                out.append("lẻ")
            out.append(units[u])
        return " ".join(out)

    if n == 0:
        return "không"
    thousands, rest = divmod(n, 1000)
    parts = []
    if thousands:
        parts.append(below_1000(thousands, False) + " nghìn")
    if rest:
        parts.append(below_1000(rest, bool(thousands)))
    return " ".join(parts)


def sheet_rows(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(r) for r in rows)


def plan_sheet(plan: FilePlan, agency_name: str) -> Sheet:
    """Danh mục hồ sơ (Phụ lục V) with its footer counts."""
    return Sheet(
        f"Danh mục hồ sơ năm {plan.year}",
        (agency_name, f"Trạng thái: {plan.state.label} — phiên bản {plan.version}"),
        PLAN_COLUMNS,
        sheet_rows(plan_rows(plan)),
        tuple(footer_lines(plan)),
        (30, 80, 25, 30, 20),
    )


def catalogue_sheet(file: Record, documents: Sequence[DocumentFacts]) -> Sheet:
    """Mục lục văn bản, tài liệu trong hồ sơ (Phụ lục V)."""
    md = file.metadata
    assert isinstance(md, FileMetadata)
    rows = catalogue(documents)
    return Sheet(
        "Mục lục văn bản, tài liệu",
        (f"Hồ sơ số: {md.file_notation} — {md.title}", f"Thời hạn bảo quản: {md.maintenance}"),
        CATALOGUE_COLUMNS,
        tuple(r.cells() for r in rows),
        (
            f"Mục lục này gồm {len(rows):02d} văn bản ({words(len(rows))} văn bản),"
            f" {page_total(documents)} trang.",
        ),
        (12, 30, 24, 60, 30, 18, 16),
        landscape=True,
    )


def submission_sheet(files: Sequence[Record], agency_name: str, prepared_by: str) -> Sheet:
    """Mục lục hồ sơ, tài liệu nộp lưu (Phụ lục V): total in figures and words, the preparer."""
    n = len(files)
    return Sheet(
        "Mục lục hồ sơ, tài liệu nộp lưu",
        (agency_name,),
        SUBMISSION_COLUMNS,
        sheet_rows(submission_rows(files)),
        (f"Mục lục này gồm: {n:02d} hồ sơ (viết bằng chữ: {words(n)} hồ sơ).", f"Người lập: {prepared_by}"),
        (12, 28, 70, 40, 25, 20, 20),
        landscape=True,
    )


def handover_sheet(files: Sequence[Record], agency_name: str, giver: str, receiver: str, day: str) -> Sheet:
    """Biên bản giao nhận hồ sơ, tài liệu (electronic: total hồ sơ, total files)."""
    totals = handover_totals(files)
    span = sorted(
        d
        for f in files
        if isinstance(f.metadata, FileMetadata)
        for d in (f.metadata.start_date, f.metadata.end_date)
        if d
    )
    period = f"{span[0]:%d/%m/%Y} - {span[-1]:%d/%m/%Y}" if span else ""
    return Sheet(
        "Biên bản giao nhận hồ sơ, tài liệu",
        (agency_name, f"Ngày {day}"),
        ("Nội dung", "Thông tin"),
        (
            ("Bên giao", giver),
            ("Bên nhận", receiver),
            ("Tên khối tài liệu", f"Hồ sơ, tài liệu nộp lưu của {agency_name}"),
            ("Thời gian của tài liệu", period),
            ("Tổng số hồ sơ", str(totals["files"])),
            ("Tổng số tệp tin", str(totals["documents"])),
            ("Tình trạng tài liệu", "Đã kiểm tra chữ ký số, mã băm, định dạng và đối chiếu danh mục hồ sơ"),
            ("Công cụ tra cứu kèm theo", "Mục lục hồ sơ, tài liệu nộp lưu"),
        ),
        ("Biên bản này được lập thành 02 bản, mỗi bên giữ 01 bản.",),
        (60, 110),
    )
