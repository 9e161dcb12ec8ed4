"""Xử lý văn bản đến: Việc của tôi, Phiếu giải quyết (trình, chỉ đạo, giao xử lý, tiến độ, gia
hạn, hoàn thành), theo dõi quá hạn, Sổ theo dõi giải quyết and the reports (PDF, XLSX).

No rule lives here: every step goes to :class:`repository.handling.HandlingService`, which the
API and the CLI call too."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int
from kho.errors import KhoError, PermissionDenied
from kho.timeutil import utcnow, vn_display
from repository.handling import COLUMN_LABELS, require_registered
from repository.metadata import DocumentMetadata
from repository.policy import Action, may_handle
from repository.workflow import (
    ACT_LABELS,
    STATUS_CODES,
    STATUS_LABELS,
    TASK_STATUS_LABELS,
    Act,
    answer_needed,
)
from web.heads import FileHeaders, attachment, file_response, file_route
from web.pages import handling_export
from web.pages.common import actor, display_names, kho, login_required, page

bp = Blueprint("handling", __name__)

FLAG_LABELS = {
    "overdue": "Quá hạn",
    "due_soon": "Sắp đến hạn",
    "open": "Trong hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
}
URGENCY_LABELS = {0: "", 1: "Khẩn", 2: "Thượng khẩn", 3: "Hỏa tốc"}
LIST_FIELDS = ("users", "units", "cooperate_users", "cooperate_units")


def _people_and_units() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    accounts = kho().accounts
    handlers = (a for a in accounts.accounts() if a.active and may_handle(a.roles))
    people = sorted((a.username, a.full_name) for a in handlers)
    units = sorted((u.unit_id, u.name) for u in accounts.units())
    return people, units


@bp.get("/work")
@login_required
def work() -> Response:
    who = actor()
    h = kho().handling
    sight = h.sight(who)  # one policy question per document for the page's four parts
    return page(
        "work.html",
        counts=h.counts(who, sight=sight),
        items=h.my_work(who, sight=sight),
        to_direct=h.to_direct(who, sight=sight),
        notices=h.notices(who, 20, sight=sight),
        flags=FLAG_LABELS,
        task_status=TASK_STATUS_LABELS,
        urgency=URGENCY_LABELS,
        names=display_names(),
    )


def _handling_page(
    record_id: str, errors: list[str] | None = None, status: int = 200, values: dict[str, Any] | None = None
) -> Response:
    who = actor()
    h = kho().handling
    record, state = h.state(record_id, actor=who)
    require_registered(record)  # a document at intake has no metadata to show yet
    people, units = _people_and_units()
    md = record.metadata if isinstance(record.metadata, DocumentMetadata) else None
    return page(
        "handling.html",
        status,
        record=record,
        md=md,
        state=state,
        acts=h.allowed_acts(record, state, who),
        needs_answer={t.task_id for t in state.tasks if answer_needed(state, t.task_id)},
        Act=Act,
        act_labels=ACT_LABELS,
        status_labels=STATUS_LABELS,
        task_status=TASK_STATUS_LABELS,
        status_codes=STATUS_CODES,
        people=people,
        units=units,
        names=display_names(),
        urgency=URGENCY_LABELS,
        errors=errors or [],
        values=values or {},
        today=h.today().isoformat(),
    )


@bp.get("/handling/<rid:record_id>")
@login_required
def show(record_id: str) -> Response:
    return _handling_page(record_id)


@bp.post("/handling/<rid:record_id>")
@login_required
def step(record_id: str) -> Response:
    form = request.form
    values = {k: form.get(k, "") for k in form if k != "csrf_token"}
    try:
        act = Act(form.get("act", ""))
    except ValueError:
        return _handling_page(record_id, ["Thao tác không hợp lệ."], 422, values)
    expected = ascii_int(form.get("expected_seq", ""))  # (kho.digits: "٣" is not 3)
    if expected is None:
        return _handling_page(record_id, ["Thiếu phiên bản của phiếu: hãy tải lại trang."], 422, values)
    fields: dict[str, Any] = {}
    for name in LIST_FIELDS:
        chosen = [v for v in form.getlist(name) if v.strip()]
        if chosen:
            fields[name] = chosen
    for name in ("note", "content", "task", "deadline", "ref", "organ", "code"):
        value = form.get(name, "").strip()
        if value:
            fields[name] = value
    if act is Act.DECIDE_EXTENSION:
        fields["approved"] = form.get("approved") == "yes"
    try:
        kho().handling.take(record_id, act, expected_seq=expected, actor=actor(), **fields)
    except KhoError as exc:
        return _handling_page(record_id, [f"{exc.message} (mã lỗi {exc.code})"], exc.http_status, values)
    flash(f"Đã ghi: {act.label}.", "info")
    return redirect(url_for("handling.show", record_id=record_id))  # type: ignore[return-value]


def _period() -> tuple[date, date, str, str, list[str]]:
    errors: list[str] = []
    today = kho().handling.today()
    try:
        start = date.fromisoformat(request.args.get("start") or today.replace(day=1).isoformat())
        end = date.fromisoformat(request.args.get("end") or today.isoformat())
    except ValueError:
        errors.append("Ngày không hợp lệ: dùng dạng YYYY-MM-DD.")
        start, end = today.replace(day=1), today
    if end < start:
        errors.append("“Đến ngày” phải sau “Từ ngày”.")
    kind = request.args.get("kind", "den")
    if kind not in ("den", "di"):
        errors.append("Loại báo cáo không hợp lệ.")
        kind = "den"
    return start, end, request.args.get("unit", ""), kind, errors


REPORT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _report_headers(*_: Any) -> FileHeaders:
    """The headers of the report file the request asks for (its period, kind and format)."""
    start, end, _unit, kind, _errors = _period()
    fmt = request.args.get("format", "")
    name = f"bao-cao-giai-quyet-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
    return FileHeaders(REPORT_TYPES[fmt], attachment(name))


@bp.get("/handling/reports")
@login_required
@file_route(_report_headers)
def reports() -> Response:
    who = actor()
    h = kho().handling
    start, end, unit, kind, errors = _period()
    fmt = request.args.get("format", "")
    report = None
    follow = []
    if not errors:
        try:
            report = h.report(who, start, end, unit or None, kind)
            follow = h.follow_up(who, unit or None)
        except PermissionDenied as exc:
            return page("error.html", 403, status=403, message=exc.message)
    if report is not None and fmt in ("pdf", "xlsx"):
        names = display_names()
        sheet = handling_export.build(report, kho().settings.agency_name, names.get(unit, unit))
        kho().repo.audit_export(
            who,
            "handling:report",
            {"kind": kind, "start": start.isoformat(), "end": end.isoformat(), "unit": unit, "format": fmt},
        )
        if fmt == "pdf":
            body = handling_export.to_pdf(sheet, who.user, vn_display(utcnow()))
        else:
            body = handling_export.to_xlsx(sheet)
        return file_response(body, _report_headers())
    if fmt and fmt not in ("pdf", "xlsx", "html"):
        errors.append("Định dạng không hợp lệ: chọn pdf hoặc xlsx.")
    _, units = _people_and_units()
    return page(
        "handling_reports.html",
        422 if errors else 200,
        report=report,
        follow=follow,
        errors=errors,
        start=start,
        end=end,
        unit=unit,
        kind=kind,
        units=units,
        columns=COLUMN_LABELS,
        flags=FLAG_LABELS,
        names=display_names(),
        can_report=True,
        Action=Action,
    )
