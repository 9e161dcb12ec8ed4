"""m57 (issue 14, m56's open window): ``kho ingest scrub`` / ``kho fsck --repair`` read a job,
stage a scrubbed copy, remove the job with every version and write the copy. A newer job the
pipeline wrote after the read and before the removal was removed with the old one: a reader
was left with the scrub's older job. The removal is now ``delete_if_current`` (only while the
job is the version read): the pipeline's job stays current, the staged copy is dropped.

Real pipeline writes (``JobStore.put``), the local folder and the S3 gateway (Ceph RGW) in the
claims mode and in the conditional mode (``conditional_create=True``: the gateway ignores
``If-None-Match`` on a versioned bucket, which no step of this window reaches: the scrub stops
before its write). Kill tests: a real scrub process stopped (SIGSTOP) at each new step and
killed there; the next run finishes the job from its staged copy."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kho_child import paused_child, stop_once_at
from kho_claims import claim_held
from kho_jobs import after_any, as_before_a3, documents, ingested, plaintext_versions, scrub_pipeline
from minio import Minio

from ingest.pipeline import Pipeline
from ingest.status import JobState, JobStatus
from kho.errors import NotFound
from repository.fsck import fsck
from repository.ingest_jobs import (
    RACE_TRIES,
    STAGED_PREFIX,
    _dump,
    plaintext_left,
    scrub_jobs,
    scrubbed,
)
from repository.storage.base import ObjectStore
from repository.storage.s3 import S3Store


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The bulk import's pipeline on ``backend`` (:func:`kho_jobs.scrub_pipeline`)."""
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made


WINDOW = [
    (backend, point)
    for backend in ("local", "s3", "s3-conditional")
    for point in ("read", "staged")
]


@pytest.mark.parametrize(
    ("backend", "point"),
    [pytest.param(b, p, marks=pytest.mark.s3) if b != "local" else (b, p) for b, p in WINDOW],
)
def test_a_job_the_pipeline_writes_after_the_scrub_read_it_is_kept(
    backend: str, point: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's write lands once the scrub has read the job (``read``) or once it has
    staged its scrubbed copy (``staged``), before its removal: the pipeline's job is current
    after the scrub (m56: the scrub's), no version holds the old job's plaintext (the scrub
    rewrote the pipeline's job from a new read, which removed the version it had read), the
    staged copy is gone, fsck is clean, and the next run finds nothing to scrub."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 5710 if point == "read" else 5720)[0])
    key = as_before_a3(pipeline, done)
    newer = done.evolve(attempts=done.attempts + 7)

    def write() -> None:
        pipeline.jobs.put(newer)

    if point == "read":  # (get before m57, get_tagged since: whichever reads the job)
        ran = after_any(store, ("get", "get_tagged"), monkeypatch, lambda k, *_: k == key, write)
    else:
        staged = STAGED_PREFIX + key.rsplit("/", 1)[1]
        ran = after_any(store, ("put",), monkeypatch, lambda k, *_: k == staged, write)
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert ran == [1]
    assert pipeline.jobs.get(done.job_id) == newer  # the pipeline's job is current
    assert plaintext_left(json.loads(store.get(key))) == []
    assert plaintext_versions(store, key) == []  # the version read, older now, is gone too
    # (the pipeline's job rewritten from a new read: what removed the version read)
    assert report.scrubbed == (key,) and report.finished == () and report.overtaken == ()
    assert not list(store.list(STAGED_PREFIX))
    if isinstance(store, S3Store):
        assert not claim_held(store, f"claims/{key}")
    assert fsck(pipeline.repo, grace_seconds=0).clean
    again = scrub_jobs(store)  # the next run checks the pipeline's job: nothing to rewrite
    assert again.scrubbed == () and again.finished == ()
    assert pipeline.jobs.get(done.job_id) == newer


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_a_job_the_pipeline_writes_after_the_finish_of_a_stopped_scrub_read_it_is_kept(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finish of a stopped run (a staged copy left) reads the job, then removes it and
    writes the staged copy: a job the pipeline wrote between that read and the removal is
    newer than the staged copy and is kept (m56: removed, the staged copy written), and the
    version read goes with the pipeline's job rewritten from a new read."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 5730)[0])
    key = as_before_a3(pipeline, done)
    store.put(STAGED_PREFIX + key.rsplit("/", 1)[1], _dump(scrubbed(json.loads(store.get(key)))))
    newer = done.evolve(attempts=done.attempts + 5)
    ran = after_any(
        store, ("get", "get_tagged"), monkeypatch, lambda k, *_: k == key, lambda: pipeline.jobs.put(newer)
    )
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert ran == [1]
    assert pipeline.jobs.get(done.job_id) == newer
    assert report.finished == () and report.scrubbed == (key,) and report.overtaken == ()
    assert plaintext_versions(store, key) == [] and not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_a_job_the_pipeline_writes_after_every_read_is_left_to_it_and_reported(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipeline that writes the job again after each of the scrub's reads: the run gives up
    after ``RACE_TRIES`` reads (no endless loop), the pipeline's latest job current, the job
    reported ``overtaken``, no staged copy left. The version read (the plaintext) is left under
    the pipeline's: fsck names it (m62; it was clean here, blind to older versions) and the
    next run removes it (``test_scrub_versions_m62.py``)."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 5740)[0])
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
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert len(written) == RACE_TRIES
    assert report.overtaken == (key,) and report.scrubbed == () and report.finished == ()
    assert pipeline.jobs.get(done.job_id) == written[-1]
    assert not list(store.list(STAGED_PREFIX))
    assert [(i.kind, i.subject) for i in fsck(pipeline.repo, grace_seconds=0).issues] == [
        ("job-plaintext", key)
    ]


def _stop_at(backend: str, point: str, store: ObjectStore, key: str) -> Callable[[Callable[[], None]], None]:
    """The hook that stops the scrub (in the child) at ``point``; installed by the child."""

    def local_path(kind: str) -> Callable[..., bool]:
        wanted = os.path.join(str(getattr(store, "root", "")), kind, key)
        return lambda path, *_, **__: os.fspath(path) == wanted

    def nth_removal(n: int, *, claim: bool = False) -> Callable[..., bool]:
        seen = [0]

        def when(client: Minio, bucket_name: str, name: str, *_: Any, **__: Any) -> bool:
            assert isinstance(store, S3Store)
            if bucket_name != (store.claims_bucket if claim else store.bucket):
                return False
            if name != (f"claims/{key}" if claim else key):
                return False
            seen[0] += 1
            return seen[0] == n

        return when

    def install(stop: Callable[[], None]) -> None:
        if point == "deleted":  # removed, not written again (a step m56 had)
            stop_once_at(type(store), "put_again", stop, lambda _self, k, *_: k == key)
        elif (backend, point) == ("local", "compared"):  # under the folder's lock, before the unlink
            stop_once_at(os, "unlink", stop, local_path("objects"))
        elif (backend, point) == ("local", "unlinked"):  # the file gone, its versions not yet
            stop_once_at(shutil, "rmtree", stop, local_path("versions"))
        elif point == "listed":  # listed and compared, nothing removed
            stop_once_at(Minio, "remove_object", stop, nth_removal(1))
        elif point == "one-removed":  # the oldest version removed, the others not yet
            stop_once_at(Minio, "remove_object", stop, nth_removal(2))
        elif point == "versions-removed":  # every version removed, the key's claim not yet
            stop_once_at(Minio, "remove_object", stop, nth_removal(1, claim=True))
        else:
            raise AssertionError(point)

    return install


def _killed_at(install: Callable[[Callable[[], None]], None], store: ObjectStore) -> None:
    """A real scrub of ``store`` in a forked child, stopped (SIGSTOP) where ``install``'s hook
    says and killed there (SIGKILL)."""

    def work(stop: Callable[[], None]) -> str:
        install(stop)
        return str(scrub_jobs(store))

    with paused_child(work) as child:
        child.kill()


KILLS = [
    ("local", "compared", True),
    ("local", "unlinked", False),
    ("local", "deleted", False),
    ("s3", "listed", True),
    ("s3", "one-removed", True),
    ("s3", "versions-removed", False),
    ("s3", "deleted", False),
]
"""(backend, point, whether the job read is still current right after the kill)."""


@pytest.mark.parametrize(
    ("backend", "point", "readable"),
    [pytest.param(*case, marks=pytest.mark.s3) if case[0] != "local" else case for case in KILLS],
)
def test_a_scrub_killed_at_each_step_of_its_removal_is_finished_by_the_next_run(
    backend: str, point: str, readable: bool, pipeline: Pipeline
) -> None:
    """A real scrub process killed at each step of the conditional removal (and after it,
    before the write): the job read is still current where nothing of it was removed yet (on
    S3 also once its oldest version is: the version read is removed last), or absent with its
    staged copy kept; the next run finishes it: the scrubbed job current and readable, no old
    version holding the plaintext, no staged copy, fsck clean."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 5800 + 10 * [k[1] for k in KILLS].index(point))[0])
    # (m63: an ingest leaves its job one version; one more write of it by the pipeline)
    done = pipeline.jobs.put(done.evolve(attempts=done.attempts + 1))
    key = as_before_a3(pipeline, done)
    read = store.get(key)
    assert len(store.list_versions(key)) >= 3  # (the removal has versions to go through)
    install = _stop_at(backend, point, store, key)
    _killed_at(install, store)
    staged = STAGED_PREFIX + key.rsplit("/", 1)[1]
    assert store.exists(staged)  # what the next run finishes from
    found = fsck(pipeline.repo, grace_seconds=0)  # and fsck names it (m57)
    assert ("job-scrub-unfinished", key) in {(i.kind, i.subject) for i in found.issues}
    if readable:
        assert store.get(key) == read  # the version read, whole
        assert pipeline.jobs.get(done.job_id).job_id == done.job_id
    else:
        with pytest.raises(NotFound):
            store.get(key)
    report = scrub_jobs(store)
    assert report.finished == (key,) and report.scrubbed == ()
    finished = pipeline.jobs.get(done.job_id)
    assert finished.record_id == done.record_id and finished.state is JobState.DONE
    stored = json.loads(store.get(key))
    assert stored["format_version"] == 2 and plaintext_left(stored) == []
    assert plaintext_versions(store, key) == []
    assert not list(store.list(STAGED_PREFIX))
    if isinstance(store, S3Store):
        assert not claim_held(store, f"claims/{key}")
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_repair_finishes_a_scrub_killed_after_its_removal(backend: str, pipeline: Pipeline) -> None:
    """Killed after the job was removed, before it was written again: the job is absent, no
    job keeps plaintext for fsck to name, only the staged copy is left. ``kho fsck`` names it
    (``job-scrub-unfinished``) and ``--repair`` finishes it (before m57: fsck was clean with the
    job missing, and its repair ran the scrub only for a job keeping plaintext)."""
    store = pipeline.repo.store
    done = ingested(pipeline, documents(1, 5900)[0])
    key = as_before_a3(pipeline, done)
    _killed_at(_stop_at(backend, "deleted", store, key), store)
    assert not store.exists(key)
    checked = fsck(pipeline.repo, grace_seconds=0)
    assert [(i.kind, i.subject, i.repairable) for i in checked.issues] == [
        ("job-scrub-unfinished", key, True)
    ]
    fsck(pipeline.repo, repair=True, grace_seconds=0)
    stored = json.loads(store.get(key))
    assert stored["format_version"] == 2 and plaintext_left(stored) == []
    assert pipeline.jobs.get(done.job_id).record_id == done.record_id
    assert plaintext_versions(store, key) == [] and not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean
