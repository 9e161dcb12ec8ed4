"""The retention outputs — Danh mục hồ sơ, Mục lục văn bản trong hồ sơ, Mục lục hồ sơ, tài liệu
nộp lưu, Biên bản giao nhận (ND30 Phụ lục V) — as PDF and XLSX from the same :class:`Sheet`.

The sheets are built from the pure rules' rows (:mod:`retention.fileplan`,
:mod:`retention.closing`, :mod:`retention.service`); the two writers only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence

from kho.sheets import Sheet as Sheet  # the writers live in kho.sheets; re-exported for callers
from kho.sheets import to_pdf as to_pdf
from kho.sheets import to_xlsx as to_xlsx
from repository.metadata import FileMetadata
from repository.records import Record
from retention.closing import CATALOGUE_COLUMNS, DocumentFacts, catalogue, page_total
from retention.fileplan import PLAN_COLUMNS, FilePlan, footer_lines, plan_rows
from retention.service import SUBMISSION_COLUMNS, handover_totals, submission_rows


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
