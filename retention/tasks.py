"""Celery tasks of the scheduled operations (see ``BEAT_JOBS`` in :mod:`ingest.celery_app`).

Each operations task opens the installation from the environment, runs the same function the
``kho`` command runs (:mod:`retention.operations`) as :data:`~retention.operations.SCHEDULER`, and
returns a small summary. A failure is logged and audited as ``<job>:failed`` (with the error
code), so a backup that did not happen is visible in the log an auditor reads, not only in a
worker's output.

Every task here has a soft and a hard time limit (backup and fixity their own, the others
``KHO_PERIODIC_*``): past the soft one the run stops, is logged and audited ``<job>:failed`` with
``<JOB>_TIMEOUT``; past the hard one the same is recorded by :data:`TIMED_OUT_TASK`.

``kho.retention.due_alerts`` runs daily: every closed hồ sơ due for nộp lưu within 30 days (or
overdue, or kept past its approval) notifies its holder and the lưu trữ viên once
(Phụ lục VI III.5.b). :func:`run_due_alerts` is the task's body, callable with any installation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from billiard.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery import Task

from ingest.celery_app import app, ingest_queue
from kho.config import Settings, process_settings
from kho.errors import AuditSealKeyMissing, KhoError
from kho.timelimit import SoftTimeLimit, forget_lost_limit
from kho.timeutil import utcnow, vn_date
from repository.policy import Role
from repository.records import Actor, Repository
from retention.operations import SCHEDULER, notify_operators, run_backup, run_capacity, run_fixity
from retention.submission import Alert

if TYPE_CHECKING:
    from repository.accounts import AccountService
    from retention.service import RetentionService

logger = logging.getLogger(__name__)


def run_due_alerts(
    accounts: AccountService, retention: RetentionService, settings: Settings | None = None
) -> list[Alert]:
    """Send the due alerts; a claim left by a run that ended unfinished is taken over once the
    periodic hard time limit (``KHO_PERIODIC_TIME_LIMIT``, a process setting) has passed since it
    (``settings`` given: a scheduled run; None: the service's default)."""
    archivists = [
        Actor(user=a.username, source="retention", principal=accounts.principal_of(a))
        for a in accounts.accounts()
        if a.active and a.has_role(Role.LUU_TRU)
    ]
    limit = (
        {}
        if settings is None
        else {"abandoned_after": timedelta(seconds=process_settings().periodic_time_limit)}
    )
    return retention.send_alerts(
        lambda user, kind, message, record_id: accounts.notify(user, kind, message, record_id=record_id),
        archivists,
        **limit,
    )


def _due_alerts(repo: Repository, settings: Settings) -> dict[str, Any]:
    from repository.service import open_accounts
    from retention.service import RetentionService

    sent = run_due_alerts(open_accounts(repo, settings), RetentionService(repo), settings)
    return {"ok": True, "sent": len(sent)}


def _repository(settings: Settings) -> Repository:
    from repository.service import open_repository

    return open_repository(settings)


def _guarded(
    job: str, repo: Repository, settings: Settings, step: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run a scheduled job; a failure is logged, audited as ``<job>:failed`` and left as a
    notification for every active quản trị and lưu trữ viên of the agency's own unit (not a
    phòng's: ``notify_operators(agency_only=True)``; a backup that did not happen must
    reach a person, not only a worker's log; ``notified`` in the event says who). Past its soft
    time limit (backup, fixity: ``KHO_BACKUP_SOFT_TIME_LIMIT``, ``KHO_FIXITY_SOFT_TIME_LIMIT``)
    the run stops and is recorded the same way with ``BACKUP_TIMEOUT`` / ``FIXITY_TIMEOUT``."""
    try:
        return step()
    except (SoftTimeLimit, SoftTimeLimitExceeded):
        return _record_failure(job, repo, settings, timeout_error(job, hard=False))
    except KhoError as exc:
        return _record_failure(job, repo, settings, exc)


def _record_failure(job: str, repo: Repository, settings: Settings, exc: KhoError) -> dict[str, Any]:
    logger.error("%s failed: [%s] %s", job, exc.code, exc)
    label = JOB_LABELS.get(job, job)
    notified, failed = notify_operators(
        repo, settings, job, f"Việc định kỳ “{label}” không chạy được: [{exc.code}] {exc}",
        agency_only=True,  # the installation's job: the agency's operators', not a phòng's
    )
    try:
        repo.audit.append(
            SCHEDULER.user, f"{job}:failed", source=SCHEDULER.source,
            details={"code": exc.code, "message": str(exc), "notified": notified, "notify_failed": failed},
        )
    except AuditSealKeyMissing as refused:  # a worker without KHO_MASTER_KEY writes no event (rv22):
        logger.error("%s failure not audited: [%s] %s", job, refused.code, refused)  # told above
    return {"ok": False, "code": exc.code}


JOB_LABELS = {
    "backup": "sao lưu",
    "fixity": "kiểm tra toàn vẹn",
    "capacity": "kiểm tra dung lượng",
    "due_alerts": "nhắc hạn nộp lưu",
    "handling_deadlines": "đánh dấu hạn xử lý văn bản",
}

_TIMEOUT_OUTCOME = {
    "backup": "bản sao đang làm dở không có tệp kê khai (manifest) nên không phải là một bản sao lưu "
    "và không được dùng để khôi phục; nếu bản sao kho đã xong mà bản sao kho khóa chưa xong, lệnh "
    "khôi phục từ chối bản sao kho đó (RESTORE_KEYS_BEHIND) và chỉ ra bản sao dùng được; các bản sao "
    "lưu trước vẫn nguyên vẹn. Lần sao lưu sau sẽ chép tiếp (những gì đã chép không phải chép lại)",
    "fixity": "lần kiểm tra này không có kết quả và không được tính là đã kiểm tra (những bản gốc "
    "đã sửa từ bản sao lưu trong lần này vẫn có trong nhật ký); hãy chạy lại bằng “kho fixity”",
    "capacity": "lần kiểm tra này không có kết quả và không ghi cảnh báo nào; hãy xem dung lượng "
    "bằng “kho status”, lần kiểm tra định kỳ sau chạy lại từ đầu",
    "due_alerts": "những hồ sơ đã được nhắc trong lần này không bị nhắc lại; những hồ sơ chưa được "
    "nhắc (kể cả hồ sơ đang nhắc dở) sẽ được nhắc ở lần chạy sau",
    "handling_deadlines": "các đánh dấu hạn được ghi cả lô một lần nên hoặc đã ghi hết hoặc chưa "
    "ghi gì (thông báo trong Kho đi cùng); một số thư điện tử báo hạn có thể chưa gửi. Hãy chạy "
    "lại bằng “kho handling flag”",
}


def timeout_error(job: str, *, hard: bool) -> KhoError:
    """A scheduled run stopped at its time limit (soft: interrupted; hard: its process killed),
    in Vietnamese, with the limit and what is left of the run. Backup and fixity have limits of
    their own; every other job the periodic ones (``KHO_PERIODIC_*``)."""
    limits = process_settings()
    soft, killed = {
        "backup": (limits.backup_soft_time_limit, limits.backup_time_limit),
        "fixity": (limits.fixity_soft_time_limit, limits.fixity_time_limit),
    }.get(job, (limits.periodic_soft_time_limit, limits.periodic_time_limit))
    seconds = killed if hard else soft
    how = "tiến trình đã bị dừng" if hard else "đã ngừng"
    return KhoError(
        f"Việc {JOB_LABELS[job]} định kỳ vượt quá giới hạn thời gian {seconds} giây; {how}. "
        f"{_TIMEOUT_OUTCOME[job][0].upper()}{_TIMEOUT_OUTCOME[job][1:]}.",
        code=f"{job.upper()}_TIMEOUT",
        limit_seconds=seconds,
    )


TIMED_OUT_TASK = "kho.retention.timed_out"


class ScheduledTask(Task):  # type: ignore[misc]
    """The scheduled tasks' class: a run its hard time limit killed is recorded."""

    job = ""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Past the hard limit Celery kills the pool process and calls this in the worker's main
        # process, which must not open a store (it forks the next pool processes): a task of its
        # own records the run (as the ingest task's ``kho.ingest.timed_out``).
        if isinstance(exc, TimeLimitExceeded):
            logger.error("%s: killed at the task time limit", self.job)
            self.app.send_task(TIMED_OUT_TASK, args=[self.job], queue=ingest_queue())


@app.task(name=TIMED_OUT_TASK)
def scheduled_timed_out(job: str) -> dict[str, Any]:
    """Record a scheduled run killed at its hard time limit (sent by
    :class:`ScheduledTask`): audited ``<job>:failed`` with ``<JOB>_TIMEOUT``, operators told."""
    if job not in _TIMEOUT_OUTCOME:
        raise ValueError(job)
    settings = Settings.from_env()
    return _failure_recorded(job, settings, timeout_error(job, hard=True))


def _failure_recorded(job: str, settings: Settings, error: KhoError) -> dict[str, Any]:
    """:func:`_record_failure` in an installation opened for it, closed after (its event's head
    noted outside the store before the task ends: :meth:`Repository.close`)."""
    repo = _repository(settings)
    try:
        return _record_failure(job, repo, settings, error)
    finally:
        repo.close()


def _scheduled(job: str, step: Callable[[Repository, Settings], dict[str, Any]]) -> dict[str, Any]:
    """Open the installation and run ``step`` under :func:`_guarded`. The soft time limit landing
    while the installation opens (a slow store) is recorded too: the limit fires once, so the
    installation is opened again to record it (the hard limit still bounds that)."""
    forget_lost_limit()  # one lost in the task before, which then finished, is not this run's
    try:
        settings = Settings.from_env()
        repo = _repository(settings)
    except (SoftTimeLimit, SoftTimeLimitExceeded):
        settings = Settings.from_env()
        return _failure_recorded(job, settings, timeout_error(job, hard=False))
    try:
        return _guarded(job, repo, settings, lambda: step(repo, settings))
    finally:
        repo.close()  # the run's last written head noted outside the store now, not by a timer


def _backup(repo: Repository, settings: Settings) -> dict[str, Any]:
    done = run_backup(repo, settings, SCHEDULER, now=utcnow())
    return {"ok": True, "copies": [c["backup_id"] for c in done.copies]}


def _fixity(repo: Repository, settings: Settings) -> dict[str, Any]:
    today: date = vn_date(utcnow())
    report = run_fixity(repo, settings, SCHEDULER, today=today)
    return {"ok": not report.unrepaired, "checked": report.checked, "damaged": len(report.damaged)}


def _capacity(repo: Repository, settings: Settings) -> dict[str, Any]:
    found = run_capacity(repo, settings, SCHEDULER)
    return {"ok": True, "levels": {c.name: c.level for c in found}}


@app.task(name="kho.retention.backup", base=ScheduledTask, job="backup", acks_late=False)
def scheduled_backup() -> dict[str, Any]:
    """The daily backup: store to every ``KHO_BACKUP_URLS``, keys to ``KHO_BACKUP_KEYS_URL``."""
    return _scheduled("backup", _backup)


@app.task(name="kho.retention.fixity", base=ScheduledTask, job="fixity", acks_late=False)
def scheduled_fixity() -> dict[str, Any]:
    """Today's share of the originals (``KHO_FIXITY_PERIOD_DAYS``), repaired from the copies."""
    return _scheduled("fixity", _fixity)


@app.task(name="kho.retention.capacity", base=ScheduledTask, job="capacity", acks_late=False)
def scheduled_capacity() -> dict[str, Any]:
    """Capacity of the store, key store and backups; an alert event over the thresholds."""
    return _scheduled("capacity", _capacity)


@app.task(name="kho.retention.due_alerts", base=ScheduledTask, job="due_alerts")
def due_alerts() -> int:
    """Today's nộp lưu alerts (:func:`run_due_alerts`): how many were sent. Stopped at its time
    limit, the run is recorded ``due_alerts:failed`` (DUE_ALERTS_TIMEOUT) and 0 returned; an
    alert not yet sent whole is sent by the next run (:meth:`RetentionService.send_alerts`)."""
    outcome = _scheduled("due_alerts", _due_alerts)
    return int(outcome.get("sent", 0))


def run_handling_deadlines(step: Callable[[Settings], dict[str, int]]) -> dict[str, Any]:
    """The handling deadline job (:mod:`ingest.handling_tasks`) under the same guard as the
    other scheduled jobs: past its time limit recorded ``handling_deadlines:failed``."""
    return _scheduled("handling_deadlines", lambda _repo, settings: {"ok": True, **step(settings)})
