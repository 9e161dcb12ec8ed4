"""u13: every Celery task has a soft and a hard time limit, and a periodic task past it ends
cleanly.

Before, only the ingest, backup and fixity tasks had limits (u11): the capacity check, the nộp
lưu alerts, the handling deadlines and the timed-out recorders ran without one, so a run stuck in
a store call held its pool process for ever and nothing said so. Now Celery's default limits are
``KHO_PERIODIC_TIME_LIMIT`` / ``KHO_PERIODIC_SOFT_TIME_LIMIT`` (from the one settings object, in
the visibility check too), and a scheduled task past them is logged and audited ``<job>:failed``
with ``<JOB>_TIMEOUT``, the operators told. Real Redis, a real prefork worker, the real S3
gateway reached through a slow relay."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_people import make_people
from kho_redis import REDIS_URL, needs_redis
from kho_scheduled import events, on_s3, wait_for_task, worker_over_a_slow_gateway
from kho_worker import stop_worker

from ingest.celery_app import BEAT_JOBS, make_app
from kho.config import ConfigError, process_settings
from web.context import Kho

OWN_LIMITS = {"kho.retention.backup", "kho.retention.fixity"}


def test_every_scheduled_task_has_both_limits_from_the_settings() -> None:
    import ingest.handling_tasks  # noqa: F401 - the worker imports them through app.conf.include
    import retention.tasks  # noqa: F401

    limits = process_settings({"KHO_PERIODIC_TIME_LIMIT": "700", "KHO_PERIODIC_SOFT_TIME_LIMIT": "650"})
    assert (limits.periodic_time_limit, limits.periodic_soft_time_limit) == (700, 650)
    defaults = process_settings({})
    app = make_app("memory://")
    annotations = app.conf.task_annotations
    for job in BEAT_JOBS:
        given = annotations.get(job.task, {})
        hard = given.get("time_limit", app.conf.task_time_limit)
        soft = given.get("soft_time_limit", app.conf.task_soft_time_limit)
        assert hard and soft and soft < hard, (job.task, hard, soft)
        if job.task not in OWN_LIMITS:
            assert (hard, soft) == (defaults.periodic_time_limit, defaults.periodic_soft_time_limit), job
    longer = process_settings({"KHO_PERIODIC_TIME_LIMIT": "20000", "KHO_PERIODIC_SOFT_TIME_LIMIT": "19000"})
    assert longer.task_visibility == 20300  # the visibility timeout follows it too


def test_a_periodic_soft_limit_not_below_the_hard_one_is_refused() -> None:
    with pytest.raises(ConfigError) as refusal:
        process_settings({"KHO_PERIODIC_SOFT_TIME_LIMIT": "3600"})
    assert refusal.value.details["variable"] == "KHO_PERIODIC_SOFT_TIME_LIMIT"


@needs_redis
def test_the_capacity_check_past_its_soft_limit_is_recorded_and_the_worker_goes_on(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled capacity check with a 1 s soft limit, over an S3 gateway whose every new
    connection waits 2.5 s: stopped, recorded ``capacity:failed`` CAPACITY_TIMEOUT (before u13 it
    had no limit and ran to its end)."""
    env, settings = on_s3(
        tmp_path, make_env, monkeypatch, KHO_PERIODIC_SOFT_TIME_LIMIT="1", KHO_PERIODIC_TIME_LIMIT="60"
    )
    make_people(Kho(settings, follow_index=False))
    relay, worker = worker_over_a_slow_gateway(env, tmp_path)
    try:
        make_app(REDIS_URL).send_task("kho.retention.capacity", queue=env["KHO_INGEST_QUEUE"])
        failed = wait_for_task(lambda: events(settings, "capacity:failed"), worker, tmp_path / "worker.log")
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
        relay.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert len(failed) == 1, log[-3000:]
    details = failed[0].details  # type: ignore[attr-defined]
    assert details["code"] == "CAPACITY_TIMEOUT", details
    message = details["message"]
    assert "giới hạn thời gian 1 giây" in message and "kho status" in message, message
    assert unicodedata.is_normalized("NFC", message)
    assert details["notified"], details
    assert "capacity failed: [CAPACITY_TIMEOUT]" in log, log[-3000:]  # logged, not only audited
    assert alive and "WorkerLostError" not in log, log[-3000:]
