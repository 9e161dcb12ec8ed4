"""Celery tasks of the ingest pipeline, and :func:`submit`, the one entry point for callers.

``submit`` stores the original at once (the caller holds the bytes, and a stored original is
never lost whatever happens next), then runs the remaining steps: in-process when
``KHO_BROKER_URL`` is empty (the embedded default), else as the Celery task
``kho.ingest.process`` on a worker. The task retries transient failures with exponential
backoff (``Task.retry``); bad files end in ``lỗi`` without retries.
"""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from typing import Any

import billiard.pool
from billiard.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery import Celery, Task, signals

from ingest.celery_app import app, ingest_queue, make_app
from ingest.pipeline import (
    Pipeline,
    RetryPolicy,
    TransientFailure,
    end_timed_out,
    quiet_validation_logs,
)
from ingest.status import JobState, JobStatus, JobStore
from kho.config import Settings
from kho.timelimit import SoftTimeLimit, forget_lost_limit, soft_limit_handler
from repository.storage import open_store

logger = logging.getLogger(__name__)

PROCESS_TASK = "kho.ingest.process"

# The pool processes forked from here on raise the soft time limit as a BaseException that no
# ``except Exception`` takes for a file's failure (:class:`ingest.pipeline.SoftTimeLimit`):
# billiard installs the handler it finds under this name after each fork (review rv13).
billiard.pool.soft_timeout_sighandler = soft_limit_handler
TIMED_OUT_TASK = "kho.ingest.timed_out"

_pipeline: Pipeline | None = None


def worker_pipeline() -> Pipeline:
    """One pipeline per worker process (trust store, extractor and index opened once)."""
    global _pipeline
    if _pipeline is None:
        quiet_validation_logs()
        _pipeline = Pipeline.from_settings(Settings.from_env())
    return _pipeline


@signals.worker_init.connect
def _import_the_store_before_forking(**_: Any) -> None:
    """The worker's main process imports the configured store's backend before it forks its
    pool processes (for S3: minio and pycryptodome's cffi libraries under it, ~0.2 s once). A
    pool process past its soft time limit while it opens its pipeline then ends the job through
    the store without importing anything (:func:`process`). Nothing is opened here."""
    settings = Settings.from_env()
    backend = "s3" if settings.store_url.startswith("s3://") else "local"
    importlib.import_module(f"repository.storage.{backend}")


def _job_store() -> JobStore:
    """The job records on the configured store, opened with what the worker imported before it
    forked (:func:`_import_the_store_before_forking`), not through a pipeline."""
    settings = Settings.from_env()
    return JobStore(open_store(settings.store_url, **settings.store_options()))


@signals.worker_process_init.connect
def _prestart_in_worker_process(**_: Any) -> None:
    """A Celery process that runs tasks (each prefork child, or the solo pool's one process)
    starts its verification and text workers as it starts, so its first signed PDF does not
    wait ~0.4 s for their interpreters. Nothing else is opened here (Celery bounds this signal's
    handlers by ``worker_proc_alive_timeout``); the pipeline opens with the first task."""
    from ingest.pipeline import prestart_workers

    prestart_workers()


@signals.worker_process_shutdown.connect
def _close_in_worker_process(**_: Any) -> None:
    """A Celery process that ran tasks ends (a warm shutdown, a prefork child replaced after
    ``max_tasks_per_child``): its pipeline is closed, so the head it wrote last is noted outside
    the store now (:meth:`repository.records.Repository.close`): the note's timer dies with the
    process."""
    global _pipeline
    if _pipeline is not None:
        _pipeline.close()
        _pipeline = None


class IngestTask(Task):  # type: ignore[misc]
    """The ingest task's class: a run its time limit killed ends its job."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Past the hard limit Celery kills the pool process and calls this in the worker's main
        # process, which holds no pipeline (and must not open a store: it forks the next pool
        # processes). The job, still "đang xử lý", is ended by a task of its own on the queue;
        # the killed task's message is acknowledged (not delivered again, so not a lost run).
        if isinstance(exc, TimeLimitExceeded) and args:
            logger.error("job %s: killed at the task time limit", args[0])
            self.app.send_task(TIMED_OUT_TASK, args=[args[0]], queue=ingest_queue())


@app.task(bind=True, base=IngestTask, name=PROCESS_TASK, acks_late=True, max_retries=None)
def process(self: Any, job_id: str, force: bool = False) -> str:
    """Run the remaining steps of one job; returns its final state. Past the soft time limit
    (``KHO_TASK_SOFT_TIME_LIMIT``) the job ends ``lỗi`` with INGEST_TIMEOUT, wherever the task
    was: in a step (the step's failure), between steps, or outside the run — opening the
    pipeline at the first task of a pool process, sending a retry (before u11 the limit escaped
    there as a BaseException and ended the pool process: a lost run, the job delivered again)."""
    forget_lost_limit()
    try:
        return _process(self, job_id, force)
    except (SoftTimeLimit, SoftTimeLimitExceeded):
        # The soft limit fires once (the hard limit still bounds what follows). The job ends
        # "lỗi", even one the run never started (still "chờ": this task holds its only message,
        # acknowledged as it returns). Without an open pipeline the limit landed while this
        # process opened it, perhaps inside an import, which cannot always be done again in the
        # same process (pycryptodome's cffi: "multiple declarations", u14): opening it again
        # raised and left the job "chờ". The job is ended through its store alone instead.
        if _pipeline is not None:
            return _pipeline.timed_out(job_id, waiting=True).state.value
        return end_timed_out(_job_store(), job_id, waiting=True).state.value


def _process(self: Any, job_id: str, force: bool) -> str:
    pipeline = worker_pipeline()
    policy: RetryPolicy = pipeline.retry_policy
    attempt = int(self.request.retries or 0)
    try:
        status = pipeline.run(
            job_id, force=force or attempt > 0, final_attempt=attempt >= policy.max_retries
        )
    except TransientFailure as failure:
        logger.warning("job %s: %s; retry %d", job_id, failure.error, attempt + 1)
        raise self.retry(countdown=policy.delay(attempt), exc=failure.error) from None
    return status.state.value


@app.task(name=TIMED_OUT_TASK, acks_late=True)
def timed_out(job_id: str) -> str:
    """End a job whose run was killed at the hard time limit (sent by :class:`IngestTask`).
    Through the job records alone: it usually runs in the pool process that replaced the killed
    one, where opening a whole pipeline (imports, verification workers, index) only to write one
    record took past this task's own soft limit at load ~25 (m20)."""
    jobs = _pipeline.jobs if _pipeline is not None else _job_store()
    return end_timed_out(jobs, job_id, hard=True).state.value


@lru_cache(maxsize=4)
def _sender(broker_url: str) -> Celery:
    """The Celery client that sends to ``broker_url``: the module's ``app`` was configured from
    the environment when first imported, which need not be the settings a caller passes."""
    return make_app(broker_url)


def dispatch(job_id: str, *, settings: Settings | None = None, pipeline: Pipeline | None = None,
             force: bool = False) -> JobStatus | None:
    """Run a job's remaining steps: send it to the workers (broker set) or run it here.

    Returns the final status when it ran here, ``None`` when it was queued."""
    settings = settings or Settings.from_env()
    if settings.broker_url:
        _sender(settings.broker_url).send_task(
            PROCESS_TASK, args=[job_id], kwargs={"force": force}, queue=ingest_queue()
        )
        return None
    pipeline = pipeline or worker_pipeline()
    return pipeline.run_with_retries(job_id, force=force)


def submit(content: bytes, filename: str, direction: str = "den", *, source: str | None = None,
           settings: Settings | None = None, pipeline: Pipeline | None = None) -> JobStatus:
    """Take in one document. Returns its job status (final in embedded mode; ``chờ`` when
    queued for a worker)."""
    settings = settings or Settings.from_env()
    pipeline = pipeline or worker_pipeline()
    if not settings.broker_url:
        return pipeline.ingest(content, filename, direction, source=source)
    status = pipeline.accept(content, filename, direction, source=source)
    if status.state is JobState.WAITING:
        dispatch(status.job_id, settings=settings)
    return status
