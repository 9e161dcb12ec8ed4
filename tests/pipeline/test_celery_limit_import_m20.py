"""u14/m20: a Celery soft time limit that lands inside the first import a pool process makes
while it opens its pipeline, with real Redis, a real prefork worker, the real S3 gateway and
pycryptodome's real cffi declarations.

Before, the task's handler opened the pipeline again to end the job; the interrupted import
could not be done again in that process (cffi: "multiple declarations of function
ghash_clmul"), the handler raised, Celery acknowledged the task and the job stayed ``chờ`` with
no error for ever. Now the worker's main process imports the store's backend before it forks,
and a pool process without an open pipeline ends the job through the store alone: ``lỗi`` with
INGEST_TIMEOUT, nothing imported again."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_redis import needs_redis
from kho_relay import Relay
from kho_scheduled import OPENING_IMPORTS
from kho_scheduled import on_s3 as _on_s3
from kho_scheduled import wait_for_task as _wait_for_task
from kho_testing import pdf_bytes
from kho_worker import ROOT, prefork_worker, stop_worker

from ingest.bulk import import_paths
from ingest.status import JobState, JobStore
from repository.service import open_repository


@needs_redis
def test_a_soft_limit_inside_the_first_import_of_the_store_ends_the_job_with_its_code(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool process's first task opens its pipeline; the S3 backend (minio, pycryptodome
    under it) is the one thing of the opening not imported before the fork on main, and
    pycryptodome's GHASH declaration is held in the pool process until the 10 s soft limit
    interrupts it (``kho_slow_cipher``; with a fixed hold of 1–3 s, at load 11–20 the limit
    sometimes landed in minio's own modules first). The gateway is reached through a relay
    holding each new connection 6 s, so where the backend was imported before the fork the
    limit passes while the store is first reached, before the pipeline is open."""
    env, settings = _on_s3(
        tmp_path, make_env, monkeypatch, KHO_TASK_SOFT_TIME_LIMIT="10", KHO_TASK_TIME_LIMIT="120"
    )
    relay = Relay(env["KHO_S3_ENDPOINT"], delay=6.0).start()
    preload = tuple(name for name in OPENING_IMPORTS if name != "repository.storage.s3")
    worker_env = {
        **env,
        "KHO_S3_ENDPOINT": relay.address,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "support"), os.environ.get("PYTHONPATH", "")]),
    }
    log = tmp_path / "worker.log"
    worker = prefork_worker(worker_env, log, preload=("kho_slow_cipher", *preload))
    try:
        folder = tmp_path / "in"
        folder.mkdir()
        (folder / "cong-van.pdf").write_bytes(pdf_bytes("m20 soft limit inside an import"))
        (item,) = import_paths([folder], settings=settings, wait=False).items
        jobs = JobStore(open_repository(settings).store)

        def ended() -> list[object]:
            status = jobs.get(str(item.job_id))
            return [status] if status.state.final else []

        _wait_for_task(ended, worker, log)  # the task's end, however long
        status = jobs.get(str(item.job_id))
        alive = worker.poll() is None
    finally:
        stop_worker(worker)
        relay.stop()
    text = log.read_text(errors="replace")
    assert status.state is JobState.FAILED, (status, text[-3000:])
    assert status.reason_code == "INGEST_TIMEOUT", status
    assert "giới hạn thời gian 10 giây" in (status.reason or ""), status
    assert status.lost_runs == 0, status
    assert "multiple declarations" not in text and "raised unexpected" not in text, text[-3000:]
    assert alive and "WorkerLostError" not in text, text[-3000:]
