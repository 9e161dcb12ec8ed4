"""Kiểm toán viên: query the audit log (record, person, action, dates) and verify the chain."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, request

from kho.errors import KhoError
from kho.timeutil import vn_day_start
from repository.metadata import parse_date
from web.pages.common import ACTION_LABELS, actor, kho, login_required, page

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTIONS = (("", "Tất cả"), *ACTION_LABELS.items())
MAX_SHOWN = 500


class QueryInvalid(KhoError):
    code = "AUDIT_QUERY_INVALID"


@bp.get("")
@login_required
def index() -> Response:
    args = request.args
    record_id = args.get("record", "").strip().lower() or None
    if record_id and (len(record_id) != 24 or any(c not in "0123456789abcdef" for c in record_id)):
        raise QueryInvalid("Mã văn bản không hợp lệ (24 chữ số thập lục phân).")
    try:
        start = parse_date(args.get("since") or None)
        end = parse_date(args.get("until") or None)
    except ValueError as exc:
        raise QueryInvalid(f"Ngày không hợp lệ: {exc}.") from exc
    events = None
    if args:
        events = kho().repo.audit_events(
            actor=actor(),
            record_id=record_id,
            user=args.get("user", "").strip().lower() or None,
            action=args.get("action") or None,
            since=vn_day_start(start) if start else None,
            until=vn_day_start(end) + timedelta(days=1) - timedelta(microseconds=1) if end else None,
        )
    shown = list(reversed(events))[:MAX_SHOWN] if events is not None else None
    return page("audit.html", events=shown, total=len(events) if events is not None else 0,
                actions=ACTIONS, args=args)


@bp.get("/verify")
@login_required
def verify() -> Response:
    report = kho().repo.audit_verify(actor=actor())
    return page("audit_verify.html", report=report)
