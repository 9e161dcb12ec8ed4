"""Trang chủ: the person's work with counts."""

from __future__ import annotations

from flask import Blueprint, Response

from repository.policy import Action
from web.pages.common import actor, allowed, kho, login_required, page
from web.worklists import files_in_progress, intake_count

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> Response:
    who = actor()
    waiting = intake_count(kho(), who) if allowed(Action.INTAKE_LIST) else None
    files = files_in_progress(kho(), who)
    notifications = sorted(kho().notifications(who), key=lambda n: n.at, reverse=True)
    return page(
        "home.html",
        work=kho().handling.counts(who),
        waiting=waiting,
        files=files,
        notifications=notifications[:10],
        notification_count=len(notifications),
        due_alerts=kho().retention.alerts(actor=who),
    )
