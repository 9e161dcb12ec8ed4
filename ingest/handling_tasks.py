"""The daily deadline job of document handling (Celery beat): flag overdue and due-soon tasks and
notify their handlers and assigners (Phụ lục VI III.1.i, l; Lạng Sơn Điều 16)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ingest.celery_app import app
from kho.config import Settings

FLAG_DEADLINES_TASK = "kho.handling.flag_deadlines"


def flag_deadlines(settings: Settings | None = None, today: str | None = None) -> dict[str, int]:
    """Run the job once (the task body; ``kho handling flag`` calls it too). ``today`` (ISO date)
    replaces the clock for a catch-up run."""
    from repository.service import open_handling

    service = open_handling(settings or Settings.from_env())
    try:
        return service.flag_deadlines(date.fromisoformat(today) if today else None)
    finally:
        service.index.close()
        service.repo.close()  # its last written head noted outside the store (the task may end)


def _task_base() -> type:
    from retention.tasks import ScheduledTask

    return ScheduledTask


@app.task(
    name=FLAG_DEADLINES_TASK, base=_task_base(), job="handling_deadlines", acks_late=True, ignore_result=True
)
def flag_deadlines_task() -> dict[str, Any]:
    """The beat's daily run. The day is the worker's clock, never one a message names: whoever
    can write to the broker could otherwise send a far future day, flag every open task
    overdue ahead of time and (a flag is sent once per task) silence the real alerts. A
    message with arguments fails on this signature; a catch-up is ``kho handling flag``.
    Past its time limit (``KHO_PERIODIC_*``) the run is recorded ``handling_deadlines:failed``."""
    from retention.tasks import run_handling_deadlines

    return run_handling_deadlines(flag_deadlines)
