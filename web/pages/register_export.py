"""Sổ đăng ký văn bản đến / đi as rows with the Phụ lục IV columns, and as PDF and XLSX.

The rows are computed from records without I/O (pure); the two writers only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kho import sheets
from kho.sheets import Sheet
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
    note: str = ""
    """Why numbers are missing from the register (u36: a restore's numbers lost in a backup)."""

    @property
    def header_lines(self) -> tuple[str, ...]:
        return (
            f"Năm: {self.year}",
            f"Từ ngày: {_d(self.date_from)}    Đến ngày: {_d(self.date_to)}",
            f"Từ số: {self.number_from}    Đến số: {self.number_to}",
            f"Quyển số: {self.volume}",
            *((f"Ghi chú: {self.note}",) if self.note else ()),
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
    note: str = "",
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
        note=note,
    )


# Phụ lục IV's register on landscape A4, in millimetres
_WIDTHS_MM = (20, 16, 34, 28, 20, 70, 34, 18, 18, 15)


def as_sheet(sheet: RegisterSheet) -> Sheet:
    return Sheet(
        sheet.title,
        sheet.header_lines,
        sheet.columns,
        sheet.rows,
        widths_mm=_WIDTHS_MM,
        landscape=True,
        font_size=9,
    )


def to_xlsx(sheet: RegisterSheet) -> bytes:
    return sheets.to_xlsx(as_sheet(sheet))


def to_pdf(sheet: RegisterSheet, printed_by: str, printed_at: str) -> bytes:
    """A landscape A4 register with its header block, ready to sign and bind."""
    return sheets.to_pdf(as_sheet(sheet), printed_by, printed_at)
