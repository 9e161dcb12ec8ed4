"""m62 (m57's first open items): a pipeline ``put`` over a job written before a3 keeps the old
version (the local folder's archive, an S3 version) that still holds the file name and the
import path. The scrub read only the current version, found it clean and never removed the old
one; fsck's ``job-plaintext`` did not see it either. Both now look at every version of a job
(``older_plaintext``); the rewrite goes through the same conditional removal as m57's, so a
pipeline write while the scrub runs is still kept.

Real pipeline writes (``JobStore.put``), the local folder and the S3 gateway (Ceph RGW, claims
mode)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kho_jobs import after_any, as_before_a3, documents, ingested, plaintext_versions, scrub_pipeline

from ingest.pipeline import Pipeline
from ingest.status import JobStatus
from repository.fsck import fsck
from repository.ingest_jobs import RACE_TRIES, STAGED_PREFIX, plaintext_left, scrub_jobs

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The bulk import's pipeline on ``backend`` (:func:`kho_jobs.scrub_pipeline`)."""
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made



def _written_over(pipeline: Pipeline, seed: int) -> tuple[str, JobStatus]:
    """A job written before a3 (format 1, the file name and import path in plaintext), then
    written again by the pipeline (a retry, a status update): its current version is clean, an
    older one holds the plaintext. Its key and the pipeline's job."""
    done = ingested(pipeline, documents(1, seed)[0])
    key = as_before_a3(pipeline, done)
    newer = done.evolve(attempts=done.attempts + 3)
    pipeline.jobs.put(newer)
    store = pipeline.repo.store
    assert plaintext_left(json.loads(store.get(key))) == []  # the current version is clean
    assert plaintext_versions(store, key)  # an older one is not
    return key, newer


def _names(pipeline: Pipeline) -> set[tuple[str, str]]:
    return {(i.kind, i.subject) for i in fsck(pipeline.repo, grace_seconds=0).issues}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_job_written_over_by_the_pipeline_keeps_no_plaintext_in_an_older_version(
    backend: str, pipeline: Pipeline
) -> None:
    """fsck names the job (before: clean), the scrub rewrites it (before: nothing to scrub) so
    that no version holds the plaintext, the pipeline's job is what stays current, and the next
    run and fsck find nothing."""
    store = pipeline.repo.store
    key, newer = _written_over(pipeline, 6210)
    assert ("job-plaintext", key) in _names(pipeline)
    report = scrub_jobs(store)
    assert report.scrubbed == (key,) and report.overtaken == ()
    assert plaintext_versions(store, key) == []
    assert pipeline.jobs.get(newer.job_id) == newer
    assert not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean
    assert scrub_jobs(store).scrubbed == ()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("point", ["read", "staged"])
def test_the_pipeline_writing_while_the_older_versions_are_removed_is_kept(
    backend: str, point: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m57's window on this new path: the pipeline writes the job once the scrub has read it, or
    once it has staged its copy. The pipeline's job stays current, and no version holds the
    plaintext."""
    store = pipeline.repo.store
    key, newer = _written_over(pipeline, 6220 if point == "read" else 6230)
    latest = newer.evolve(attempts=newer.attempts + 4)
    if point == "read":
        ran = after_any(
            store, ("get_tagged",), monkeypatch, lambda k, *_: k == key, lambda: pipeline.jobs.put(latest)
        )
    else:
        staged = STAGED_PREFIX + key.rsplit("/", 1)[1]
        ran = after_any(
            store, ("put",), monkeypatch, lambda k, *_: k == staged, lambda: pipeline.jobs.put(latest)
        )
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert ran == [1]
    assert pipeline.jobs.get(newer.job_id) == latest
    assert report.scrubbed == (key,) and report.overtaken == ()
    assert plaintext_versions(store, key) == []
    assert not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_overtaken_job_is_rewritten_by_the_next_run(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job the pipeline wrote again after each of a run's reads is left ``overtaken`` with the
    version read (the plaintext) under the pipeline's. fsck names it, and the next run (the
    pipeline quiet) removes that version, the pipeline's job kept (before: fsck clean, the next
    run read only the clean current version)."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 6240)[0])
    key = as_before_a3(pipeline, done)
    written: list[JobStatus] = []
    real = store.get_tagged

    def get_tagged(k: str) -> tuple[bytes, str]:
        answer = real(k)
        if k == key:
            written.append(done.evolve(attempts=done.attempts + 10 + len(written)))
            pipeline.jobs.put(written[-1])
        return answer

    monkeypatch.setattr(store, "get_tagged", get_tagged)
    first = scrub_jobs(store)
    monkeypatch.undo()
    assert len(written) == RACE_TRIES and first.overtaken == (key,)
    assert plaintext_versions(store, key)  # what the overtaken run left
    assert ("job-plaintext", key) in _names(pipeline)
    second = scrub_jobs(store)
    assert second.scrubbed == (key,) and second.overtaken == ()
    assert plaintext_versions(store, key) == []
    assert pipeline.jobs.get(done.job_id) == written[-1]
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsck_repair_removes_the_older_version(backend: str, pipeline: Pipeline) -> None:
    """``kho fsck --repair`` runs the same scrub for a job named by an older version only."""
    store = pipeline.repo.store
    key, newer = _written_over(pipeline, 6250)
    repaired = fsck(pipeline.repo, repair=True, grace_seconds=0)
    assert [(i.kind, i.subject, i.repaired) for i in repaired.issues] == [("job-plaintext", key, True)]
    assert "phiên bản cũ" in repaired.issues[0].message
    assert plaintext_versions(store, key) == []
    assert pipeline.jobs.get(newer.job_id) == newer
    assert fsck(pipeline.repo, grace_seconds=0).clean
