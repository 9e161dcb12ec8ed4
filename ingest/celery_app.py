"""The Celery application of Kho's ingest workers.

    KHO_BROKER_URL=redis://127.0.0.1:6379/0 celery -A ingest.celery_app worker --pool=prefork -c 2

The broker comes from ``KHO_BROKER_URL`` (empty: ``memory://``, only useful in-process).
Tasks are acknowledged after they finish (``task_acks_late``) and re-queued when a worker dies
mid-task (``task_reject_on_worker_lost``); every pipeline step is idempotent, so running a
task twice is harmless. One task is prefetched per worker process: documents are slow and
uneven (OCR), so a worker must not sit on a queue of them.
"""

from __future__ import annotations

import os

from celery import Celery

from kho.config import Settings

DEFAULT_QUEUE = "kho-ingest"


def ingest_queue() -> str:
    """The queue ingest tasks go to: ``KHO_INGEST_QUEUE`` (read when used; separate queues keep
    test runs on one Redis apart), default ``kho-ingest``."""
    return os.environ.get("KHO_INGEST_QUEUE", "").strip() or DEFAULT_QUEUE


def make_app(broker_url: str | None = None) -> Celery:
    broker = broker_url if broker_url is not None else Settings.from_env().broker_url
    app = Celery("kho", broker=broker or "memory://", include=["ingest.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=ingest_queue(),
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(os.environ.get("KHO_TASK_VISIBILITY", "3600"))},
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    # -- handling incoming documents (issue 15): the daily deadline job -----------------------
    # 23:30 UTC = 06:30 Vietnam time, before office hours; the task goes to the ingest queue.
    from celery.schedules import crontab

    app.conf.include = [*app.conf.include, "ingest.handling_tasks"]
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        "kho-handling-flag-deadlines": {
            "task": "kho.handling.flag_deadlines",
            "schedule": crontab(hour=23, minute=30),
            "options": {"queue": ingest_queue()},
        },
    }
    # -- end of the handling block -------------------------------------------------------------
    return app


app = make_app()


# --- retention (issue 13 A): nộp lưu alerts, daily at 07:00 Vietnam time (00:00 UTC) -------------
from celery.schedules import crontab  # noqa: E402

app.conf.include = [*app.conf.include, "retention.tasks"]
app.conf.beat_schedule = {
    **(app.conf.beat_schedule or {}),
    "retention-due-alerts": {"task": "kho.retention.due_alerts", "schedule": crontab(hour=0, minute=0)},
}
