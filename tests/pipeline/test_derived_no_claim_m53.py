"""m53 (issue 14): on an S3 server in the claims mode a record's derived objects are replaced
without a claim (nothing ever creates one conditionally); m56: the ingest jobs too (``kho
ingest scrub`` writes a job again with ``put_again``). Real pipeline, real S3 gateway (Ceph RGW)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_claims import claim_held
from kho_testing import s3_options_or_skip, s3_store_env

from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import JobState, job_key
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from repository.fsck import fsck
from repository.ingest_jobs import scrub_jobs
from repository.storage.s3 import S3Store

pytestmark = pytest.mark.s3

DERIVED = ("text.json", "signatures.json", "metadata.json")


@pytest.fixture()
def s3_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3_store_env(s3_options_or_skip(), "m53p").items():
        monkeypatch.setenv(key, value)


def _pipeline() -> Pipeline:
    """The bulk import's pipeline (one read for text and verification, the index deferred)."""
    pipeline = Pipeline.from_settings(
        Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=2, base_delay=0.05)
    )
    pipeline.defer_index = True
    return pipeline


@pytest.fixture()
def s3_pipeline(s3_env: None) -> Iterator[Pipeline]:
    pipeline = _pipeline()
    yield pipeline
    pipeline.close()


def _documents(count: int, seed: int) -> list[bytes]:
    pki = TestPKI.build()
    return [make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=seed + n, pages=1) for n in range(count)]


def _claimed(store: S3Store, key: str) -> bool:
    return claim_held(store, f"claims/{key}")


def _ingested(pipeline: Pipeline, doc: bytes) -> Any:
    pipeline.ingest(doc, "qd.pdf")
    (status,) = pipeline.flush_index()
    assert status.state is JobState.DONE, status.reason
    return status


def test_derived_objects_and_jobs_are_replaced_without_a_claim(s3_pipeline: Pipeline) -> None:
    """(m53: derived objects; m56: the jobs too, which kept theirs until then.)"""
    store = s3_pipeline.repo.store
    assert isinstance(store, S3Store) and store.create_mode == "claims"
    status = _ingested(s3_pipeline, _documents(1, 530)[0])
    for name in DERIVED:
        key = f"records/{status.record_id}/derived/{name}"
        assert store.exists(key) and not _claimed(store, key), key
    assert store.exists(job_key(status.job_id)) and not _claimed(store, job_key(status.job_id))


def test_a_job_the_pipeline_replaces_while_the_scrub_recreates_it_is_kept(
    s3_pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scrub removes an old job with its versions and writes it again; the pipeline's
    replace in between (a resumed run writing its step) must be kept (``replace_every_version``,
    r29). m53 kept the job's claim for this; m56 writes it again with ``put_again``, which tells
    without one (every point of the scrub: ``tests/pipeline/test_job_no_claim_m56.py``)."""
    store = s3_pipeline.repo.store
    done = _ingested(s3_pipeline, _documents(1, 560)[0])
    key = job_key(done.job_id)
    old = json.loads(store.get(key))
    old.update(format_version=1, filename="QD-ky-luat-Nguyen-Van-Binh.pdf", source="/srv/import/x.pdf")
    store.put(key, json.dumps(old, ensure_ascii=False).encode())
    newer = done.evolve(attempts=done.attempts + 7)
    real_delete = store.delete_if_current

    def delete(k: str, tag: str) -> bool:
        removed = real_delete(k, tag)
        if k == key:  # the pipeline's write, between the scrub's removal and its create
            s3_pipeline.jobs.put(newer)
        return removed

    # (m57: the scrub removes the job with delete_if_current, only while it is the version read)
    monkeypatch.setattr(store, "delete_if_current", delete)
    report = scrub_jobs(store)
    monkeypatch.setattr(store, "delete_if_current", real_delete)
    assert report.scrubbed == ()
    assert s3_pipeline.jobs.get(done.job_id).attempts == done.attempts + 7


def _die_at_derived(k: int, after: bool, trace: list[str]) -> None:
    """In the child: exit like SIGKILL before the ``k``-th data PUT of a derived object is sent
    (``after``: once the ``k``-th one has landed; a PUT that failed and is sent again counts
    once, when it lands). The derived objects are sent beside the steps, from pool threads, two
    of them at times together: each PUT takes its own number under a lock (a shared counter
    read after the PUT had moved on when another PUT was sent meanwhile, and the child lived).
    ``trace``: what the child saw (the parent's message if it lived)."""
    sent = landed = 0
    lock = threading.Lock()
    real: Callable[..., Any] = S3Store._put_raw

    def put_raw(self: S3Store, bucket: str, key: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal sent, landed
        if bucket != self.bucket or "/derived/" not in key:
            return real(self, bucket, key, *args, **kwargs)
        with lock:
            sent += 1
            mine = sent
        if mine == k and not after:
            os._exit(137)
        try:
            answer = real(self, bucket, key, *args, **kwargs)
        except BaseException as exc:
            trace.append(f"{key}: {exc!r}")
            raise
        with lock:
            landed += 1
            mine = landed
        trace.append(f"{key}: landed")
        if mine == k and after:
            os._exit(137)
        return answer

    S3Store._put_raw = put_raw  # type: ignore[method-assign]


def _killed(doc: bytes, k: int, after: bool, note: Path) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        trace: list[str] = []
        try:
            _die_at_derived(k, after, trace)
            trace.append(f"job: {_ingested(_pipeline(), doc).state}")
            code = 0
        except BaseException as exc:
            trace.append(repr(exc))
        finally:
            note.write_text("\n".join(trace))
            os._exit(code)
    _, wait_status = os.waitpid(pid, 0)
    told = note.read_text() if note.exists() else ""
    code = os.waitstatus_to_exitcode(wait_status)
    assert code == 137, f"derived write {k} (after: {after}) outlived (exit {code}): {told}"


def test_a_run_killed_between_its_derived_writes_resumes_and_fsck_accepts_it(
    s3_env: None, tmp_path: Path
) -> None:
    """Killed at each derived object's write (before it is sent, or once it has landed): the
    re-run finishes the document on the same record, every derived object is stored with no
    claim left beside it, and fsck finds nothing a kill may not leave (all of it repairable)."""
    cases = [(k, after) for k in (1, 2, 3) for after in (False, True)]
    docs = _documents(len(cases), 600)
    records: dict[str, str] = {}
    for (k, after), doc in zip(cases, docs, strict=True):
        _killed(doc, k, after, tmp_path / f"child-{k}-{after}.txt")
        pipeline = _pipeline()
        try:
            status = _ingested(pipeline, doc)
        finally:
            pipeline.close()
        records[hashlib.sha256(doc).hexdigest()] = status.record_id
    pipeline = _pipeline()
    try:
        repo = pipeline.repo
        store = repo.store
        assert isinstance(store, S3Store)
        for sha, record_id in records.items():
            assert repo.find_by_sha256(sha) == record_id
            for name in DERIVED:
                key = f"records/{record_id}/derived/{name}"
                assert json.loads(repo.get_derived(record_id, name)), key
                assert not _claimed(store, key), key
        report = fsck(repo, grace_seconds=0)
        assert all(i.repairable for i in report.issues), [(i.kind, i.subject) for i in report.issues]
        assert {i.kind for i in report.issues} <= {"uncommitted", "key-orphan"}, [
            (i.kind, i.subject) for i in report.issues
        ]
        assert repo.audit_verify(actor=pipeline.actor).ok
    finally:
        pipeline.close()
