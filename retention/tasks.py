"""Celery tasks of the retention module (scheduled by the beat block in :mod:`ingest.celery_app`).

``kho.retention.due_alerts`` runs daily: every closed hồ sơ due for nộp lưu within 30 days (or
overdue, or kept past its approval) notifies its holder and the lưu trữ viên once
(Phụ lục VI III.5.b). :func:`run_due_alerts` is the task's body, callable with any installation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.celery_app import app
from repository.policy import Role
from retention.submission import Alert

if TYPE_CHECKING:
    from web.context import Kho


def run_due_alerts(kho: Kho) -> list[Alert]:
    archivists = [a.username for a in kho.accounts.accounts() if a.active and a.has_role(Role.LUU_TRU)]
    return kho.retention.send_alerts(
        lambda user, kind, message: kho.accounts.notify(user, kind, message), archivists
    )


@app.task(name="kho.retention.due_alerts")
def due_alerts() -> int:
    from kho.config import Settings
    from web.context import Kho

    kho = Kho(Settings.from_env(), follow_index=False)
    try:
        return len(run_due_alerts(kho))
    finally:
        kho.close()
