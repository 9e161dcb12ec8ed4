"""Sổ đăng ký on screen, printed (PDF) and exported (XLSX) with the Phụ lục IV columns."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, Response, request

from kho.errors import KhoError
from kho.timeutil import utcnow, vn_date, vn_display
from repository.metadata import parse_date
from repository.registers import (
    INCOMING,
    SERIES_LABELS,
    is_incoming_series,
    number_ranges,
    register_year,
    series_label,
)
from web.heads import FileHeaders, attachment, file_response, file_route
from web.pages.common import actor, kho, login_required, page
from web.pages.register_export import build_sheet, to_pdf, to_xlsx

bp = Blueprint("registers", __name__, url_prefix="/registers")


class DateInvalid(KhoError):
    code = "DATE_INVALID"


def _args() -> tuple[str, int, date | None, date | None, str]:
    series = request.args.get("series", INCOMING).strip() or INCOMING
    year = register_year(request.args.get("year") or vn_date(utcnow()).year)
    try:
        start = parse_date(request.args.get("from") or None)
        end = parse_date(request.args.get("to") or None)
    except ValueError as exc:
        raise DateInvalid(f"Ngày không hợp lệ: {exc}.") from exc
    volume = (request.args.get("volume") or "01").strip()[:10]
    return series, year, start, end, volume


def _sheet(export: str | None = None):  # type: ignore[no-untyped-def]
    """The register sheet; ``export`` (a format) records that it leaves Kho as a file."""
    series, year, start, end, volume = _args()
    rows = kho().repo.register(series, year, date_from=start, date_to=end, actor=actor())
    if export is not None:
        kho().repo.audit_export(
            actor(), "register", {"series": series, "year": year, "format": export, "count": len(rows)}
        )
    incoming = is_incoming_series(series)
    # u36: the printed sổ explains a gap in its numbering too (NĐ 30/2020: numbers run on
    # through the year), with the page's note under the same access rule.
    note = kho().repo.register_note(series, year, actor=actor())
    return build_sheet(
        series_label(series),
        year,
        rows,
        incoming=incoming,
        date_from=start,
        date_to=end,
        volume=volume,
        note=note["message"] if note is not None else "",
    ), series


@bp.get("")
@login_required
def index() -> Response:
    sheet, series = _sheet()
    # m64's note, as `kho register list` prints it: numbers given before a backup whose
    # documents the restored copy does not hold (skipped, never given again).
    lost = kho().repo.register_note(series, _args()[1], actor=actor())
    return page(
        "register.html",
        sheet=sheet,
        series=series,
        choices=SERIES_LABELS,
        query=request.query_string.decode(),
        args=request.args,
        lost_numbers=number_ranges(lost["numbers"]) if lost is not None else None,
        lost_explained=lost["message"] if lost is not None else None,
    )


def _filename(series: str, year: int, ext: str) -> str:
    return f"so-dang-ky-{re.sub(r'[^a-z0-9-]', '', series.lower()) or 'so'}-{year}.{ext}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pdf_headers(*_: Any) -> FileHeaders:
    series, year, *_rest = _args()
    return FileHeaders("application/pdf", attachment(_filename(series, year, "pdf"), inline=True))


def _xlsx_headers(*_: Any) -> FileHeaders:
    series, year, *_rest = _args()
    return FileHeaders(XLSX, attachment(_filename(series, year, "xlsx")))


@bp.get("/print.pdf")
@login_required
@file_route(_pdf_headers)
def print_pdf() -> Response:
    sheet, _ = _sheet(export="pdf")
    return file_response(to_pdf(sheet, actor().user, vn_display(utcnow())), _pdf_headers())


@bp.get("/export.xlsx")
@login_required
@file_route(_xlsx_headers)
def export_xlsx() -> Response:
    sheet, _ = _sheet(export="xlsx")
    return file_response(to_xlsx(sheet), _xlsx_headers())
