"""u11: time limits of the scheduled backup and fixity tasks, and the ingest task's soft limit
outside its pipeline run, with real Redis and a real prefork Celery worker.

Before, the backup and fixity tasks had no time limit (a run stuck in a store call held its pool
process for ever) while sharing the broker's one visibility timeout, which was checked against
the ingest task's limit only. Now each has its own soft and hard limit (``KHO_BACKUP_*``,
``KHO_FIXITY_*``; CONFIG_INVALID at start on a bad value or a visibility timeout below the largest
hard limit + 300), and a run stopped at either is recorded: ``backup:failed`` /
``fixity:failed`` with BACKUP_TIMEOUT / FIXITY_TIMEOUT and a Vietnamese message, the operators
told; an unfinished backup copy has no manifest, so it is never listed or restored as a backup.

And the ingest task's soft limit landing outside ``Pipeline.run`` — here while the pool process
opens its pipeline at its first task, over an S3 gateway answering slowly — escaped as a
BaseException and ended the pool process (a lost run, the message delivered again, and again);
now the job ends ``lỗi`` with INGEST_TIMEOUT."""

from __future__ import annotations

import os
import signal
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_people import make_people
from kho_redis import REDIS_URL, needs_redis
from kho_scheduled import events as _events
from kho_scheduled import export as _export
from kho_scheduled import on_s3 as _on_s3
from kho_scheduled import wait_for as _wait_for
from kho_scheduled import wait_for_task as _wait_for_task
from kho_scheduled import worker_over_a_slow_gateway as _worker_over_a_slow_gateway
from kho_testing import pdf_bytes
from kho_worker import pool_processes, prefork_worker, stop_worker

from ingest.bulk import import_paths
from ingest.celery_app import make_app
from ingest.status import JobState, JobStore
from kho.config import ConfigError, process_settings
from repository.service import open_repository
from repository.storage import open_store
from retention.backup import BLOBS_PREFIX, MANIFESTS_PREFIX
from web.context import Kho

LOAD = 4000
"""Objects put in the store so that a backup runs long enough to be stopped in the middle."""


@needs_redis
@pytest.mark.parametrize("limit", ["soft", "hard"])
def test_a_backup_past_its_time_limit_is_recorded_and_leaves_no_backup(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch, limit: str
) -> None:
    destination, keys_to = tmp_path / "backup-a", tmp_path / "backup-keys"
    env = make_env(
        tmp_path / "kho",
        KHO_BROKER_URL=REDIS_URL,
        KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}",
        KHO_BACKUP_URLS=str(destination),
        KHO_BACKUP_KEYS_URL=str(keys_to),
        KHO_BACKUP_SOFT_TIME_LIMIT="2" if limit == "soft" else "5",
        KHO_BACKUP_TIME_LIMIT="6",
    )
    settings = _export(monkeypatch, env)
    kho = Kho(settings, follow_index=False)
    make_people(kho)  # the quản trị and lưu trữ viên who are told
    for i in range(LOAD):
        kho.repo.store.put_if_absent(f"u11-load/{i:05d}", os.urandom(512))
    worker = prefork_worker(env, tmp_path / "worker.log")
    try:
        time.sleep(2.0)  # the pool process forked
        started = time.monotonic()
        make_app(REDIS_URL).send_task("kho.retention.backup", queue=env["KHO_INGEST_QUEUE"])
        assert _wait_for(lambda: [p for p in destination.rglob("*") if p.is_file()], 60), "never started"
        copying = time.monotonic() - started
        for pid in pool_processes(worker.pid):
            os.kill(pid, signal.SIGSTOP)  # in the middle of the copy
        if limit == "soft":
            time.sleep(3.0)  # the soft limit passes while stopped: raised when it runs again
            for pid in pool_processes(worker.pid):
                os.kill(pid, signal.SIGCONT)
        failed = _wait_for(lambda: _events(settings, "backup:failed"), 60)
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert len(failed) == 1, log[-3000:]
    details = failed[0].details  # type: ignore[attr-defined]
    assert details["code"] == "BACKUP_TIMEOUT", details
    message = details["message"]
    seconds = "2" if limit == "soft" else "6"
    assert f"giới hạn thời gian {seconds} giây" in message and "không có tệp kê khai" in message, message
    assert ("tiến trình đã bị dừng" in message) == (limit == "hard"), message
    # a run stopped between the store copy and the key copy leaves a whole store copy: the
    # message says restore refuses it (rv15), not that no copy of this run is whole
    assert "RESTORE_KEYS_BEHIND" in message, message
    assert unicodedata.is_normalized("NFC", message)
    assert details["notified"], details
    assert _events(settings, "backup:create") == []  # no copy presented as made
    copy = open_store(str(destination))
    assert list(copy.list(MANIFESTS_PREFIX)) == [], "an unfinished copy has a manifest"
    assert list(copy.list(BLOBS_PREFIX)), "nothing was copied: the run was not stopped in the middle"
    assert not keys_to.exists() or list(open_store(str(keys_to)).list(MANIFESTS_PREFIX)) == []
    assert alive and copying < 30
    if limit == "hard":
        assert "Hard time limit" in log


@needs_redis
def test_a_soft_limit_while_the_task_opens_its_pipeline_ends_the_job_not_the_pool_process(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker reaches the S3 gateway through a relay that holds each new connection 2.5 s
    (a slow network): the first task of the pool process is still opening its pipeline when its
    1 s soft limit passes."""
    env, settings = _on_s3(
        tmp_path, make_env, monkeypatch, KHO_TASK_SOFT_TIME_LIMIT="1", KHO_TASK_TIME_LIMIT="60"
    )
    relay, worker = _worker_over_a_slow_gateway(env, tmp_path)
    try:
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "cong-van.pdf").write_bytes(pdf_bytes("u11 soft limit at the open"))
        (item,) = import_paths([folder], settings=settings, wait=False).items
        jobs = JobStore(open_repository(settings).store)

        def ended() -> list[object]:
            status = jobs.get(str(item.job_id))
            return [status] if status.state.final else []

        _wait_for_task(ended, worker, tmp_path / "worker.log")  # the task's end, however long
        status = jobs.get(str(item.job_id))
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
        relay.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert status.state is JobState.FAILED, (status, log[-3000:])
    assert status.reason_code == "INGEST_TIMEOUT", status
    assert "giới hạn thời gian 1 giây" in (status.reason or ""), status
    assert status.lost_runs == 0, status
    assert alive and "WorkerLostError" not in log, log[-3000:]


@needs_redis
def test_a_fixity_run_past_its_soft_limit_while_it_opens_the_store_is_recorded(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled fixity task, over an S3 gateway that holds each new connection 2.5 s, with a
    1 s soft limit: stopped while it opens the installation, recorded ``fixity:failed``
    FIXITY_TIMEOUT (before u11 it had no limit and ran to its end)."""
    env, settings = _on_s3(
        tmp_path,
        make_env,
        monkeypatch,
        KHO_FIXITY_SOFT_TIME_LIMIT="1",
        KHO_FIXITY_TIME_LIMIT="60",
        KHO_FIXITY_PERIOD_DAYS="1",
    )
    make_people(Kho(settings, follow_index=False))
    relay, worker = _worker_over_a_slow_gateway(env, tmp_path)
    try:
        make_app(REDIS_URL).send_task("kho.retention.fixity", queue=env["KHO_INGEST_QUEUE"])
        failed = _wait_for_task(lambda: _events(settings, "fixity:failed"), worker, tmp_path / "worker.log")
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
        relay.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert len(failed) == 1, log[-3000:]
    details = failed[0].details  # type: ignore[attr-defined]
    assert details["code"] == "FIXITY_TIMEOUT", details
    assert "giới hạn thời gian 1 giây" in details["message"] and "kho fixity" in details["message"]
    assert unicodedata.is_normalized("NFC", details["message"])
    assert details["notified"], details
    assert _events(settings, "fixity:check") == []  # no check presented as made
    assert alive and "WorkerLostError" not in log, log[-3000:]


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"KHO_BACKUP_SOFT_TIME_LIMIT": "10800"}, "KHO_BACKUP_SOFT_TIME_LIMIT"),  # = the hard default
        ({"KHO_FIXITY_TIME_LIMIT": "abc"}, "KHO_FIXITY_TIME_LIMIT"),
        ({"KHO_FIXITY_SOFT_TIME_LIMIT": "0"}, "KHO_FIXITY_SOFT_TIME_LIMIT"),
        ({"KHO_BACKUP_TIME_LIMIT": "30000", "KHO_TASK_VISIBILITY": "30000"}, "KHO_TASK_VISIBILITY"),
        ({"KHO_TASK_VISIBILITY": "3600"}, "KHO_TASK_VISIBILITY"),  # below the backup/fixity default + 300
    ],
)
def test_bad_backup_and_fixity_limits_are_refused_at_start(values: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        process_settings(values)
    assert refusal.value.code == "CONFIG_INVALID"
    assert refusal.value.details["variable"] == variable and variable in refusal.value.message
    assert unicodedata.is_normalized("NFC", refusal.value.message)


def test_the_visibility_timeout_follows_the_largest_hard_limit() -> None:
    defaults = process_settings({})
    largest = max(defaults.task_time_limit, defaults.backup_time_limit, defaults.fixity_time_limit)
    assert defaults.task_visibility == largest + 300
    assert defaults.backup_soft_time_limit < defaults.backup_time_limit
    assert defaults.fixity_soft_time_limit < defaults.fixity_time_limit
    longer = process_settings({"KHO_FIXITY_TIME_LIMIT": "20000", "KHO_FIXITY_SOFT_TIME_LIMIT": "19000"})
    assert longer.task_visibility == 20300
    app = make_app("memory://")
    annotations = app.conf.task_annotations
    assert annotations["kho.retention.backup"] == {
        "time_limit": defaults.backup_time_limit,
        "soft_time_limit": defaults.backup_soft_time_limit,
    }
    assert annotations["kho.retention.fixity"] == {
        "time_limit": defaults.fixity_time_limit,
        "soft_time_limit": defaults.fixity_soft_time_limit,
    }
