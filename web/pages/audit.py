"""Kiểm toán viên: query the audit log (record, person, action, dates), export the result with
its checkpoint (CSV/PDF), access statistics for a period (III.6.a, b) and the chain check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, request

from kho.errors import (
    AccountLocked,
    AcknowledgeRefused,
    KhoError,
    LoginFailed,
    LoginRateLimited,
    PasswordChangeRequired,
    PasswordResetExpired,
    ValidationFailed,
)
from kho.timeutil import to_vn, vn_day_start
from repository.anchor import newest_signed_checkpoint
from repository.metadata import parse_date
from repository.policy import Action
from web.devices import presented
from web.heads import FileHeaders, attachment, file_response, file_route
from web.pages import audit_reports
from web.pages.common import (
    ACTION_LABELS,
    action_label,
    actor,
    current_account,
    current_actor,
    kho,
    limited,
    login_required,
    page,
)

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTIONS = (("", "Tất cả"), *ACTION_LABELS.items())
MAX_SHOWN = 500
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


class QueryInvalid(KhoError):
    code = "AUDIT_QUERY_INVALID"


def _period(args: Any) -> tuple[Any, Any]:
    try:
        start = parse_date(args.get("since") or None)
        end = parse_date(args.get("until") or None)
    except ValueError as exc:
        raise QueryInvalid(f"Ngày không hợp lệ: {exc}.") from exc
    if start and end and start > end:
        raise QueryInvalid("“Từ ngày” phải trước hoặc bằng “Đến ngày”.")
    return (
        vn_day_start(start) if start else None,
        vn_day_start(end) + timedelta(days=1) - timedelta(microseconds=1) if end else None,
    )


def _query(args: Any, who: Any = None) -> list[Any]:
    record_id = args.get("record", "").strip().lower() or None
    if record_id and (len(record_id) != 24 or any(c not in "0123456789abcdef" for c in record_id)):
        raise QueryInvalid("Mã văn bản không hợp lệ (24 chữ số thập lục phân).")
    since, until = _period(args)
    return kho().repo.audit_events(
        actor=who or actor(),
        record_id=record_id,
        user=args.get("user", "").strip().lower() or None,
        action=args.get("action") or None,
        since=since,
        until=until,
    )


QUERY_LABELS = {
    "record": "Mã văn bản",
    "user": "Người thực hiện",
    "action": "Hành động",
    "since": "Từ ngày",
    "until": "Đến ngày",
}


def _described(key: str, value: str) -> str:
    """One condition of a search of the log as the export prints it: its Vietnamese name, the
    action's name, a day as dd/mm/yyyy (the query was checked before, so the day parses)."""
    if key == "action":
        value = action_label(value)
    elif key in ("since", "until"):
        value = _day(value)
    return f"{QUERY_LABELS[key]}: {value}"


def _day(value: str) -> str:
    """A day the person typed (dd/mm/yyyy or yyyy-mm-dd, checked by ``_period``) as dd/mm/yyyy."""
    day = parse_date(value)
    return day.strftime("%d/%m/%Y") if day else value


def _query_args(args: Any = None) -> dict[str, str]:
    args = request.args if args is None else args
    return {k: v for k in ("record", "user", "action", "since", "until") if (v := args.get(k, ""))}


@bp.get("")
@login_required
def index() -> Response:
    args = request.args
    events = _query(args) if args else None
    shown = list(reversed(events))[:MAX_SHOWN] if events is not None else None
    return page("audit.html", events=shown, total=len(events) if events is not None else 0,
                actions=ACTIONS, args=args, query_args=_query_args())


def export_events(who: Any, full_name: str, args: Any, fmt: str) -> tuple[bytes, str]:
    """The query's events with the newest signed checkpoint, so the file can be checked against
    the chain later. Audited as ``audit:export``. Shared by the page and the API."""
    if fmt not in EXPORT_TYPES:
        raise QueryInvalid("Định dạng xuất không hỗ trợ: chọn CSV hoặc PDF.", code="EXPORT_FORMAT_INVALID")
    events = _query(args, who)
    repo = kho().repo
    newest = newest_signed_checkpoint(repo.audit.store, repo.anchor)
    checked = repo.anchor is not None and repo.anchor.public_key() is not None
    described = "; ".join(_described(k, v) for k, v in _query_args(args).items()) or "(toàn bộ)"
    now = to_vn(repo.clock()).strftime("%d/%m/%Y %H:%M")
    header = (
        f"Điều kiện tra cứu: {described}",
        f"Số sự kiện: {len(events)}",
        f"Người xuất: {full_name} ({who.user}) lúc {now}",
        *audit_reports.checkpoint_lines(newest, checked=checked),
    )
    repo.audit_export(who, "audit", {  # (before the file is built: a HEAD stops here, kho.head)
        "format": fmt, "filters": _query_args(args), "events": len(events),
        "checkpoint": newest.get("number") if newest else None,
    })
    if fmt == "csv":
        data = audit_reports.events_csv(events, header, action_label)
    else:
        data = audit_reports.events_pdf(events, header, action_label)
    return data, EXPORT_TYPES[fmt]


@bp.get("/export.<fmt>")
@login_required
@file_route(lambda stop, fmt: _export_headers(fmt))
def export(fmt: str) -> Response:
    data, _media_type = export_events(actor(), current_account().full_name, request.args, fmt)
    return file_response(data, _export_headers(fmt))


def _export_headers(fmt: str) -> FileHeaders:
    return FileHeaders(EXPORT_TYPES[fmt], attachment(f"nhat-ky.{fmt}"))


def access_statistics(args: Any, who: Any = None) -> tuple[audit_reports.AccessStats, dict[str, str]]:
    """Access counts for the period in ``args`` (since/until, dd/mm/yyyy or yyyy-mm-dd)."""
    since, until = _period(args)
    who = who or actor()
    kho().repo.authorize(who, Action.AUDIT_READ)
    events = kho().repo.audit_events(actor=who, since=since, until=until)
    accounts = kho().accounts
    units_of = {a.username: sorted(a.units) for a in accounts.accounts()}
    names = {u.unit_id: u.name for u in accounts.units()}
    return audit_reports.access_stats(events, units_of), names


def _period_label(args: Any) -> str:
    since, until = args.get("since"), args.get("until")
    return f"từ {_day(since) if since else '(đầu)'} đến {_day(until) if until else '(nay)'}"


@bp.get("/stats")
@login_required
def stats() -> Response:
    result, names = access_statistics(request.args) if request.args else (None, {})
    return page("audit_stats.html", stats=result, unit_names=names, args=request.args,
                query_args={k: v for k in ("since", "until") if (v := request.args.get(k, ""))})


STATS_HEADERS = FileHeaders("text/csv; charset=utf-8", attachment("thong-ke-truy-cap.csv"))


@bp.get("/stats.csv")
@login_required
@file_route(lambda stop: STATS_HEADERS)
def stats_export() -> Response:
    result, names = access_statistics(request.args)
    period = _period_label(request.args)
    kho().repo.audit_export(actor(), "stats", {  # (before the file: a HEAD stops here, kho.head)
        "format": "csv", "since": request.args.get("since"), "until": request.args.get("until"),
        "total": result.total,
    })
    data = audit_reports.stats_csv(result, period, action_label, lambda u: names.get(u, u))
    return file_response(data, STATS_HEADERS)


REPORT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def handling_totals(
    args: Any, who: Any = None, installation: Any = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The processing report as figures only (Phụ lục VI V.2 đến, V.4 đi) for the period in
    ``args`` (start/end, dd/mm/yyyy or yyyy-mm-dd; default: this month), ``kind`` and ``unit``;
    the policy decides the level (:func:`repository.policy.report_detail`). Shared with the API."""
    who = who or actor()
    k = installation or kho()
    today = k.handling.today()
    try:
        start = parse_date(args.get("start") or None) or today.replace(day=1)
        end = parse_date(args.get("end") or None) or today
    except ValueError as exc:
        raise QueryInvalid(f"Ngày không hợp lệ: {exc}.") from exc
    if end < start:
        raise QueryInvalid("“Đến ngày” phải sau hoặc bằng “Từ ngày”.")
    kind = args.get("kind") or "den"
    if kind not in ("den", "di"):
        raise QueryInvalid("Loại báo cáo phải là văn bản đến (den) hoặc văn bản đi (di).")
    names = {u.unit_id: u.name for u in k.accounts.units()}
    unit = args.get("unit") or None
    if unit is not None and unit not in names:
        raise QueryInvalid("Đơn vị không có trong danh mục.", code="UNIT_NOT_FOUND")
    report = k.handling.report_totals(who, start, end, unit, kind)
    return report, names


def _report_headers(report: dict[str, Any], fmt: str) -> FileHeaders:
    name = f"bao-cao-giai-quyet-{report['kind']}-{report['start']:%Y%m%d}-{report['end']:%Y%m%d}.{fmt}"
    return FileHeaders(REPORT_TYPES[fmt], attachment(name))


@bp.get("/handling-reports")
@login_required
@file_route(lambda stop: _report_headers(handling_totals(request.args)[0], request.args.get("format", "")))
def handling_reports() -> Response:
    """Báo cáo tình hình giải quyết văn bản for the kiểm toán viên: totals only (no rows)."""
    from web.pages import handling_export

    who = actor()
    report, names = handling_totals(request.args, who)
    fmt = request.args.get("format", "")
    period = {k: v for k in ("start", "end", "kind", "unit") if (v := request.args.get(k, ""))}
    if fmt:
        if fmt not in REPORT_TYPES:
            raise QueryInvalid(
                "Định dạng xuất không hỗ trợ: chọn PDF hoặc XLSX.", code="EXPORT_FORMAT_INVALID"
            )
        unit = report["unit"]
        kho().repo.audit_export(who, "handling:report-totals", {  # (a HEAD stops here, kho.head)
            "format": fmt, "kind": report["kind"], "start": report["start"].isoformat(),
            "end": report["end"].isoformat(), "unit": unit, "total": report["total"],
        })
        sheet = handling_export.build_totals(report, kho().settings.agency_name, names, names.get(unit, unit))
        if fmt == "pdf":
            now = to_vn(kho().repo.clock()).strftime("%d/%m/%Y %H:%M")
            data = handling_export.to_pdf(sheet, who.user, now)
        else:
            data = handling_export.to_xlsx(sheet)
        shown = _report_headers(report, fmt)
        response = Response(data, mimetype=shown.media_type)
        response.headers["Content-Disposition"] = shown.disposition
        return response
    from repository.handling import COLUMN_LABELS

    return page("audit_handling.html", report=report, names=names, columns=COLUMN_LABELS,
                units=sorted(names.items(), key=lambda kv: kv[1]), args=request.args, query_args=period)


@bp.get("/verify")
@login_required
def verify() -> Response:
    from repository.acknowledge import findings_digest

    report = kho().repo.audit_verify(actor=actor())
    return page("audit_verify.html", report=report, digest=findings_digest(report.findings))


def _acknowledge_page(*args: Any, **context: Any) -> Response:
    """The acknowledgement page; its reason field's ``maxlength`` is the rule's limit
    (:data:`~repository.acknowledge.REASON_MAX`)."""
    from repository.acknowledge import REASON_MAX

    return page("audit_acknowledge.html", *args, reason_max=REASON_MAX, **context)


@bp.route("/acknowledge", methods=["GET", "POST"])
def acknowledge() -> Response:
    """The auditor's acknowledgement of the log's findings (``kho audit acknowledge``).

    Not behind a session: while the log is broken every login is refused (its event cannot be
    written), the auditor's too. The form asks for the auditor's password every time; the
    password is checked without recording a login, and the login is recorded inside the one
    acknowledgement event. Only role ``kiem_toan`` gets past the password (403 otherwise, also
    while the log refuses events); findings are shown only to them. Without the digest, the
    findings and their digest are shown and nothing is written."""
    from repository.acknowledge import findings_digest

    if request.method == "GET":
        who = current_actor()
        return _acknowledge_page(username=who.user if who is not None else "")
    form = request.form
    username = form.get("username", "").strip().lower()
    ip = request.remote_addr or ""
    refused = (LoginFailed, AccountLocked, PasswordChangeRequired, PasswordResetExpired)
    try:
        account = limited(
            username,
            lambda: kho().accounts.authenticate_unrecorded(
                username, form.get("password", ""), ip, presented(username)
            ),
            failures=refused,
        )
    except LoginRateLimited:
        abort(429)
    except refused as exc:
        return _acknowledge_page(401, username=username, error=exc.message)
    who = kho().actor_of(account, ip)
    repo = kho().repo
    repo.authorize_acknowledge(who)
    digest = form.get("findings", "").strip()
    reason = form.get("reason", "")
    if not digest:
        report = repo.audit_verify(actor=who)
        return _acknowledge_page(
            username=username, report=report, reason=reason, digest=findings_digest(report.findings)
        )
    try:
        event, cp, report = repo.audit_acknowledge(
            actor=who, digest=digest, reason=reason, login={"user": account.username, "method": "password",
                                                            "source": ip, "via": "web"},
        )
    except (AcknowledgeRefused, ValidationFailed) as exc:  # ValidationFailed: a line break in the reason
        report = repo.audit_verify(actor=who)
        return _acknowledge_page(
            exc.http_status, username=username, report=report, reason=reason,
            digest=findings_digest(report.findings), error=f"[{exc.code}] {exc.message}",
        )
    return _acknowledge_page(username=username, report=report, event=event, checkpoint=cp)
