"""The Celery application of Kho's workers, and the Celery beat schedule.

    KHO_BROKER_URL=redis://127.0.0.1:6379/0 celery -A ingest.celery_app worker --pool=prefork -c 2
    KHO_BROKER_URL=redis://127.0.0.1:6379/0 celery -A ingest.celery_app beat -s /data/celerybeat-schedule

The periodic jobs are :data:`BEAT_JOBS`: one :class:`BeatJob` per task, its time taken from a
setting (``HH:MM`` daily in Vietnam time, ``<N>s|m|h`` every N, ``off``); to add a job, add an
entry there (and its task to ``include``). Exactly one beat process runs per installation.

The broker comes from ``KHO_BROKER_URL`` (empty: ``memory://``, only useful in-process).
Tasks are acknowledged after they finish (``task_acks_late``) and re-queued when a worker dies
mid-task (``task_reject_on_worker_lost``); every pipeline step is idempotent, so running a
task twice is harmless. One task is prefetched per worker process: documents are slow and
uneven (OCR), so a worker must not sit on a queue of them. The ingest task has a soft and a hard
time limit (``KHO_TASK_SOFT_TIME_LIMIT``, ``KHO_TASK_TIME_LIMIT``): past either its job ends
``lỗi`` with INGEST_TIMEOUT (:mod:`ingest.tasks`). The scheduled backup and fixity tasks have
their own (``KHO_BACKUP_*``, ``KHO_FIXITY_*``), and every other task (capacity, nộp lưu alerts,
handling deadlines, …) the periodic ones (``KHO_PERIODIC_*``, Celery's default limits): past
either the run is audited ``<job>:failed`` with ``<JOB>_TIMEOUT`` (:mod:`retention.tasks`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab

from kho.config import Settings, parse_schedule, process_settings

DEFAULT_QUEUE = "kho-ingest"
TIMEZONE = "Asia/Ho_Chi_Minh"
"""Daily times in the schedule settings are Vietnam time (UTC+7); events are stored in UTC."""


@dataclass(frozen=True)
class BeatJob:
    """One periodic task: its name in the schedule, the Celery task, and the setting (a
    :class:`Settings` field) that says when it runs."""

    name: str
    task: str
    setting: str


BEAT_JOBS: tuple[BeatJob, ...] = (
    BeatJob("daily-backup", "kho.retention.backup", "backup_schedule"),
    BeatJob("fixity-audit", "kho.retention.fixity", "fixity_schedule"),
    BeatJob("capacity-check", "kho.retention.capacity", "capacity_schedule"),
    BeatJob("handling-deadlines", "kho.handling.flag_deadlines", "handling_schedule"),
    BeatJob("due-alerts", "kho.retention.due_alerts", "due_alert_schedule"),
)


def beat_schedule(settings: Settings, jobs: tuple[BeatJob, ...] = BEAT_JOBS) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule`` from the settings (a job set to ``off`` is left out)."""
    schedule: dict[str, dict[str, Any]] = {}
    for job in jobs:
        when = parse_schedule(str(getattr(settings, job.setting)))
        if when is None:
            continue
        kind, a, b = when
        every: Any = crontab(hour=a, minute=b) if kind == "daily" else timedelta(seconds=a)
        schedule[job.name] = {"task": job.task, "schedule": every, "options": {"expires": 23 * 3600}}
    return schedule


def ingest_queue() -> str:
    """The queue ingest tasks go to: ``KHO_INGEST_QUEUE`` (read when used; separate queues keep
    test runs on one Redis apart), default ``kho-ingest``."""
    return os.environ.get("KHO_INGEST_QUEUE", "").strip() or DEFAULT_QUEUE


def make_app(broker_url: str | None = None) -> Celery:
    settings = Settings.from_env()
    limits = process_settings()
    broker = broker_url if broker_url is not None else settings.broker_url
    tasks = ["ingest.tasks", "ingest.handling_tasks", "retention.tasks"]
    app = Celery("kho", broker=broker or "memory://", include=tasks)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=ingest_queue(),
        broker_connection_retry_on_startup=True,
        # A task is delivered again when unacknowledged past the visibility timeout, so a job
        # still running then would run twice and its first run count as lost: the ingest task
        # has a time limit below it (checked at start: KHO_TASK_VISIBILITY >= the largest hard
        # limit, ingest, backup or fixity, + TASK_VISIBILITY_MARGIN), and a worker fetches a
        # task only when a pool process is free, so no task waits in a busy worker while its
        # visibility runs out.
        broker_transport_options={"visibility_timeout": limits.task_visibility},
        worker_disable_prefetch=True,
        task_annotations={
            "kho.ingest.process": {
                "time_limit": limits.task_time_limit, "soft_time_limit": limits.task_soft_time_limit,
            },
            "kho.retention.backup": {
                "time_limit": limits.backup_time_limit, "soft_time_limit": limits.backup_soft_time_limit,
            },
            "kho.retention.fixity": {
                "time_limit": limits.fixity_time_limit, "soft_time_limit": limits.fixity_soft_time_limit,
            },
        },
        # Every other task (capacity, due alerts, handling deadlines, the timed-out recorders,
        # any task added later) has the periodic limits: none runs without a bound.
        task_time_limit=limits.periodic_time_limit,
        task_soft_time_limit=limits.periodic_soft_time_limit,
        worker_hijack_root_logger=False,
        enable_utc=True,
        timezone=TIMEZONE,
        beat_schedule=beat_schedule(settings),
    )
    return app


app = make_app()

