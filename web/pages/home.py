"""Trang chủ: the person's work with counts."""

from __future__ import annotations

from flask import Blueprint, Response

from kho.errors import PermissionDenied
from web.pages.common import actor, kho, login_required, page

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> Response:
    who = actor()
    service = kho().repo
    waiting: int | None
    try:
        waiting = len(service.intake_queue(actor=who))
    except PermissionDenied:
        waiting = None
    files = [
        r for r in service.records() if r.kind == "hoso" and r.created_by == who.user and r.state == "active"
    ]
    notifications = sorted(kho().accounts.notifications(who.user), key=lambda n: n.at, reverse=True)
    return page(
        "home.html",
        work=kho().handling.counts(who),
        waiting=waiting,
        files=files,
        notifications=notifications[:10],
        notification_count=len(notifications),
        due_alerts=kho().retention.alerts(actor=who),
    )
