"""Review rv60 of m55: a soft time limit a finalizer swallowed after the last check point of an
ingest task that then finished is not the next ingest task's.

m55 keeps a limit lost in a finalizer and raises it at the next check point; each task starts
by forgetting one lost in the task before (``forget_lost_limit``). m55's tests prove the
forgetting for a scheduled fixity run only: here the ingest task itself (``kho.ingest.process``,
run in this process as a pool process runs it, with the pool's soft-limit handler) takes a job
the task before left a lost limit behind, and ends it ``xong``, not INGEST_TIMEOUT at its first
step. Fails with the forgetting removed from ``ingest.tasks.process``."""

from __future__ import annotations

import pytest
from kho_softlimit import limit_in_a_finalizer, soft_limit_on_usr1  # noqa: F401 - a fixture

from ingest import tasks
from ingest.pipeline import Pipeline
from ingest.status import JobState, JobStore
from kho.config import Settings


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_lost_in_the_ingest_task_before_does_not_end_the_next_job(
    settings: Settings, signed: dict[str, bytes]
) -> None:
    pipeline = Pipeline.from_settings(settings)
    try:
        status = pipeline.accept(signed["valid-2"], "qd-next.pdf")
        jobs = JobStore(pipeline.repo.store)
    finally:
        pipeline.close()
    assert status.state is JobState.WAITING, status
    limit_in_a_finalizer()  # lost after the last check of a task that then finished

    outcome = tasks.process.apply(args=[status.job_id]).get()

    final = jobs.get(status.job_id)
    assert outcome == JobState.DONE.value, (final.reason_code, final.reason)
    assert final.state is JobState.DONE and final.reason_code is None, final
