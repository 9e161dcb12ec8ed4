"""Danh mục hồ sơ (/plans), closing and nộp lưu of a hồ sơ (/files/<id>/…), the lưu trữ viên's
nộp lưu inbox (/archive). Views only call :class:`retention.service.RetentionService`."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int
from kho.errors import KhoError, ValidationFailed
from kho.timeutil import utcnow, vn_display
from repository.metadata import FileMetadata
from repository.records import Record
from retention.fileplan import PLAN_COLUMNS, footer_lines, plan_rows
from retention.service import FILE_STATE_LABELS, FileState, RetentionService
from web.heads import FileHeaders, attachment, file_response, file_route
from web.pages.common import actor, current_account, display_names, kho, login_required, page
from web.pages.retention_export import (
    catalogue_sheet,
    handover_sheet,
    plan_sheet,
    submission_sheet,
    to_pdf,
    to_xlsx,
)

bp = Blueprint("retention", __name__)

MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xml": "application/xml",
}


@bp.app_template_global()
def file_state_label(state: str) -> str:
    return FILE_STATE_LABELS.get(state, state)


def service() -> RetentionService:
    return kho().retention


def _back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values))  # type: ignore[return-value]


def _refused(error: KhoError) -> None:
    if isinstance(error, ValidationFailed) and len(error.errors) > 1:
        for item in error.errors:
            flash(f"{item.message} [{item.code}]", "error")
    else:
        flash(f"{error.message} [{error.code}]", "error")


def _version() -> int:
    version = ascii_int(request.form.get("expected_version", ""))
    if version is None:
        raise KhoError("Thiếu phiên bản đang xem; hãy tải lại trang.", code="FIELD_INVALID")
    return version


def _download(data: bytes, name: str, fmt: str) -> Response:
    return file_response(data, _download_headers(name, fmt))


def _catalogue_name(fmt: str) -> str:
    return "ho-so" if fmt == "xml" else "muc-luc"


def _download_headers(name: str, fmt: str) -> FileHeaders:
    return FileHeaders(MEDIA[fmt], attachment(f"{name}.{fmt}"))


def _sheet_bytes(sheet: Any, fmt: str) -> bytes:
    return to_pdf(sheet, actor().user, vn_display(utcnow())) if fmt == "pdf" else to_xlsx(sheet)


# -- Danh mục hồ sơ ----------------------------------------------------------------------------
def parse_lines(headings: str, items: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The plan form: one đề mục per line ``I | Tổng hợp | TH``, one hồ sơ per line
    ``01.TH | Tiêu đề | Thời hạn | Người lập | Đề mục | Ghi chú`` (an empty period is proposed
    from the retention schedule)."""
    out_h = []
    for line in headings.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if any(cells):
            cells += [""] * (3 - len(cells))
            out_h.append({"number": cells[0], "title": cells[1], "abbreviation": cells[2]})
    out_i = []
    for line in items.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if not any(cells):
            continue
        cells += [""] * (6 - len(cells))
        item = {
            "notation": cells[0],
            "title": cells[1],
            "maintenance": cells[2],
            "creator": cells[3],
            "heading": cells[4],
            "note": cells[5],
        }
        if not item["maintenance"] and item["title"]:
            proposal = service().propose(item["title"])
            if proposal is not None:
                item["maintenance"] = proposal.retention.label
                item["schedule_code"] = proposal.code
        out_i.append(item)
    return out_h, out_i


@bp.get("/plans")
@login_required
def plans() -> Response:
    return _plans_page()


def _plans_page(values: dict[str, str] | None = None, status: int = 200) -> Response:
    year = vn_display(utcnow())[6:10]
    return page(
        "plans.html",
        status,
        plans=service().plans(),
        schedule=service().schedule(),
        values=values or {"year": year, "headings": "", "items": ""},
    )


@bp.post("/plans")
@login_required
def plan_draft() -> Response:
    values = {k: request.form.get(k, "") for k in ("year", "headings", "items", "expected_version")}
    headings, items = parse_lines(values["headings"], values["items"])
    year_number = ascii_int(values["year"].strip())
    year: Any = values["year"] if year_number is None else year_number
    expected = ascii_int(values["expected_version"])
    try:
        plan = service().draft_plan(
            {"year": year, "headings": headings, "items": items}, actor=actor(), expected_version=expected
        )
    except KhoError as error:
        _refused(error)
        return _plans_page(values, error.http_status)
    flash(f"Đã lưu dự thảo danh mục hồ sơ năm {plan.year} (phiên bản {plan.version}).", "info")
    return _back("retention.plan_show", year=plan.year)


@bp.get("/plans/<int:year>")
@login_required
def plan_show(year: int) -> Response:
    me = actor()
    plan = service().plan(year)
    return page(
        "plan.html",
        plan=plan,
        columns=PLAN_COLUMNS,
        rows=plan_rows(plan),
        footer=footer_lines(plan),
        author=service().is_plan_author(plan, me),
    )


@bp.post("/plans/<int:year>/<any(approve, issue):step>")
@login_required
def plan_step(year: int, step: str) -> Response:
    try:
        call = service().approve_plan if step == "approve" else service().issue_plan
        plan = call(year, expected_version=_version(), actor=actor())
        flash(f"Danh mục hồ sơ năm {year}: {plan.state.label.lower()}.", "info")
    except KhoError as error:
        _refused(error)
    return _back("retention.plan_show", year=year)


@bp.get("/plans/<int:year>.<any(pdf, xlsx):fmt>")
@login_required
@file_route(lambda stop, year, fmt: _download_headers(f"danh-muc-ho-so-{year}", fmt))
def plan_export(year: int, fmt: str) -> Response:
    plan = service().export_plan(year, actor=actor(), fmt=fmt)
    return _download(
        _sheet_bytes(plan_sheet(plan, kho().settings.agency_name), fmt), f"danh-muc-ho-so-{year}", fmt
    )


@bp.post("/plans/<int:year>/open")
@login_required
def plan_open(year: int) -> Response:
    try:
        file = service().open_file(year, request.form.get("notation", ""), actor=actor())
    except KhoError as error:
        _refused(error)
        return _back("retention.plan_show", year=year)
    flash("Đã mở hồ sơ theo danh mục.", "info")
    return _back("files.show", file_id=file.record_id)


# -- closing and nộp lưu of one hồ sơ ----------------------------------------------------------
def _day(name: str) -> date:
    raw = request.form.get(name, "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            from datetime import datetime

            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise KhoError("Ngày không hợp lệ (dd/mm/yyyy).", code="DATE_INVALID")


@bp.post("/files/<rid:file_id>/<any(close, reopen, submit, keep):step>")
@login_required
def file_step(file_id: str, step: str) -> Response:
    s, who = service(), actor()
    try:
        version = _version()
        if step == "close":
            s.close_file(file_id, end_date=_day("end_date"), expected_version=version, actor=who)
            flash("Đã kết thúc hồ sơ; mục lục văn bản đã được lập.", "info")
        elif step == "reopen":
            s.reopen_file(file_id, reason=request.form.get("reason", ""), expected_version=version, actor=who)
            flash("Đã mở lại hồ sơ.", "info")
        elif step == "submit":
            s.submit(file_id, expected_version=version, actor=who)
            flash("Đã nộp lưu hồ sơ; chờ lưu trữ tiếp nhận.", "info")
        else:
            s.keep(
                file_id,
                until=_day("until"),
                reason=request.form.get("reason", ""),
                expected_version=version,
                actor=who,
            )
            flash("Đã duyệt giữ lại hồ sơ.", "info")
    except KhoError as error:
        _refused(error)
        for finding in error.details.get("findings", []):
            if finding.get("blocking") and finding["message"] not in error.message:
                flash(finding["message"], "error")
    return _back("files.show", file_id=file_id)


@bp.get("/files/<rid:file_id>/catalogue.<any(pdf, xlsx, xml):fmt>")
@login_required
@file_route(lambda stop, file_id, fmt: _download_headers(f"{_catalogue_name(fmt)}-{file_id}", fmt))
def file_export(file_id: str, fmt: str) -> Response:
    s, who = service(), actor()
    if fmt == "xml":
        return _download(s.export_file_xml(file_id, actor=who), f"{_catalogue_name(fmt)}-{file_id}", fmt)
    file, docs = s.catalogue(file_id, actor=who)
    kho().repo.audit_export(who, "file", {"record_id": file_id, "format": fmt})
    return _download(_sheet_bytes(catalogue_sheet(file, docs), fmt), f"{_catalogue_name(fmt)}-{file_id}", fmt)


# -- the lưu trữ viên's nộp lưu inbox ----------------------------------------------------------
@bp.get("/archive")
@login_required
def archive() -> Response:
    s, who = service(), actor()
    return page(
        "archive.html", inbox=s.inbox(actor=who), archived=s.archived(actor=who), names=display_names()
    )


@bp.get("/archive/<rid:file_id>")
@login_required
def archive_review(file_id: str) -> Response:
    s = service()
    # The review reads the hồ sơ and its documents by the archive's rule; the ordinary read
    # (:meth:`RetentionService.catalogue`) refused the hồ sơ of a phòng below (review rv40).
    review = s.review(file_id, actor=actor())
    from retention.closing import CATALOGUE_COLUMNS, catalogue

    return page(
        "archive_review.html",
        review=review,
        file=review.file,
        md=review.file.metadata,
        submission=s.submission_of(review.file),
        columns=CATALOGUE_COLUMNS,
        rows=catalogue(list(review.documents)),
        submitted=review.file.state == FileState.SUBMITTED,
        names=display_names(),
    )


@bp.post("/archive/<rid:file_id>/<any(accept, return):step>")
@login_required
def archive_step(file_id: str, step: str) -> Response:
    s, who = service(), actor()
    try:
        if step == "accept":
            s.accept(file_id, expected_version=_version(), actor=who)
            flash("Đã tiếp nhận hồ sơ vào lưu trữ cơ quan.", "info")
        else:
            s.return_file(
                file_id, reason=request.form.get("reason", ""), expected_version=_version(), actor=who
            )
            flash("Đã trả lại hồ sơ kèm lý do.", "info")
            return _back("retention.archive")
    except KhoError as error:
        _refused(error)
        return _back("retention.archive_review", file_id=file_id)
    return _back("retention.archive")


@bp.get("/archive/<any('muc-luc', 'bien-ban'):what>.<any(pdf, xlsx):fmt>")
@login_required
@file_route(lambda stop, what, fmt: _download_headers(what, fmt))
def archive_export(what: str, fmt: str) -> Response:
    who = actor()
    files: list[Record] = service().archived(actor=who)
    year = request.args.get("year", "")
    year_number = ascii_int(year)
    if year_number is not None:
        files = [
            f
            for f in files
            if isinstance(f.metadata, FileMetadata) and f.metadata.file_catalog == year_number
        ]
    agency = kho().settings.agency_name
    # The person's name: the account the session's checks read for this request (m29).
    full_name = current_account().full_name
    kho().repo.audit_export(who, "submission", {"what": what, "format": fmt, "files": len(files)})
    if what == "muc-luc":
        sheet = submission_sheet(files, agency, full_name)
    else:
        sheet = handover_sheet(
            files, agency, "Các đơn vị, cá nhân nộp lưu", full_name, vn_display(utcnow())[:10]
        )
    return _download(_sheet_bytes(sheet, fmt), what, fmt)


# -- the retention schedule table (quản trị) -----------------------------------------------------
def schedule_lines(entries: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{e['code']} | {e['title']} | {e['maintenance']} | {', '.join(e.get('keywords', []))}"
        for e in entries
    )


def parse_schedule_lines(text_: str) -> list[dict[str, Any]]:
    """One entry per line: ``Mã | Nhóm hồ sơ, tài liệu | Thời hạn | từ khóa, từ khóa``."""
    out = []
    for line in text_.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if not any(cells):
            continue
        cells += [""] * (4 - len(cells))
        keywords = [k.strip() for k in cells[3].split(",") if k.strip()]
        out.append({"code": cells[0], "title": cells[1], "maintenance": cells[2], "keywords": keywords})
    return out


@bp.get("/retention/schedule")
@login_required
def schedule() -> Response:
    return _schedule_page()


def _schedule_page(lines: str | None = None, note: str = "", status: int = 200) -> Response:
    actor()
    current = service().schedule()
    return page(
        "schedule.html",
        status,
        schedule=current,
        lines=lines if lines is not None else schedule_lines([e.to_dict() for e in current.entries]),
        note=note,
    )


@bp.post("/retention/schedule")
@login_required
def schedule_edit() -> Response:
    lines, note = request.form.get("lines", ""), request.form.get("note", "")
    try:
        new = service().edit_schedule(
            parse_schedule_lines(lines), expected_version=_version(), note=note, actor=actor()
        )
    except KhoError as error:
        _refused(error)
        return _schedule_page(lines, note, error.http_status)
    flash(f"Đã lưu bảng thời hạn bảo quản, phiên bản {new.version}.", "info")
    return _back("retention.schedule")
