"""m56 (issue 14): the ingest jobs (``ingest/jobs/<sha256>.json``) are replaced without a claim
on an S3 server in the claims mode, and ``kho ingest scrub`` (``replace_every_version``) still
keeps a job the pipeline wrote while it rewrote it (r29), on every backend, wherever the
pipeline's write lands in the scrub: it writes the job again with ``put_again`` instead of a
create. Real pipeline, real S3 gateway (Ceph RGW, claims mode) and the local folder."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_claims import assert_every_create_refused, claim_held
from kho_counting import count_http_requests
from kho_jobs import after_any, as_before_a3, ingested, plaintext_versions
from kho_testing import BACKENDS, make_store, s3_options_or_skip, s3_store_env

from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import job_key
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from repository.fsck import fsck
from repository.ingest_jobs import STAGED_PREFIX, _dump, scrub_jobs, scrubbed
from repository.storage.s3 import S3Store
from retention.backup import restore_object


def _documents(count: int, seed: int) -> list[bytes]:
    pki = TestPKI.build()
    return [make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=seed + n, pages=1) for n in range(count)]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The bulk import's pipeline on ``backend`` (the test's parameter): the local folder, or
    the S3 gateway (claims mode)."""
    if backend == "s3":
        for key, value in s3_store_env(s3_options_or_skip(), "m56p").items():
            monkeypatch.setenv(key, value)
    made = Pipeline.from_settings(
        Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=2, base_delay=0.05)
    )
    made.defer_index = True
    if backend == "s3":
        store = made.repo.store
        assert isinstance(store, S3Store) and store.create_mode == "claims"
    yield made
    made.close()


POINTS = [
    # while the scrub removes the job: after its delete listed the versions to remove (S3: the
    # delete removes the versions it listed, then the key's claim; m55 lost the pipeline's
    # write here, its claim removed by the delete and the scrub's create then won)
    pytest.param("s3", "listed", marks=pytest.mark.s3),
    # the pipeline's write lands after the scrub removed the job with every version, before it
    # writes it again
    ("local", "deleted"),
    pytest.param("s3", "deleted", marks=pytest.mark.s3),
    # after the scrub's data PUT landed, before it lists the versions (S3 claims mode only: on
    # the local folder the write and its check are one link(2))
    pytest.param("s3", "written", marks=pytest.mark.s3),
    # after the scrub wrote the job again (and, on S3, listed it)
    ("local", "after"),
    pytest.param("s3", "after", marks=pytest.mark.s3),
]


@pytest.mark.parametrize(("backend", "point"), POINTS)
def test_a_job_the_pipeline_writes_while_the_scrub_rewrites_it_is_kept(
    backend: str, point: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = pipeline.repo.store
    done = ingested(pipeline, _documents(1, 5600)[0])
    key = as_before_a3(pipeline, done)
    newer = done.evolve(attempts=done.attempts + 7)

    def write() -> None:
        pipeline.jobs.put(newer)

    if point == "listed":
        ran = after_any(store, ("_versions",), monkeypatch, lambda k: k == key, write)
    elif point == "deleted":  # (m57: the scrub's removal is delete_if_current)
        ran = after_any(store, ("delete_if_current",), monkeypatch, lambda k, *_: k == key, write)
    elif point == "written":
        ran = after_any(
            store, ("_put_raw",), monkeypatch,
            lambda bucket, k, *_: bucket == store.bucket and k == key, write,
        )
    else:
        ran = after_any(store, ("put_again",), monkeypatch, lambda k, *_: k == key, write)
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert ran == [1]
    assert pipeline.jobs.get(done.job_id) == newer  # the newer job is current
    assert report.scrubbed == ((key,) if point == "after" else ())
    assert plaintext_versions(pipeline.repo.store, key) == []  # and nothing of the old one is left
    assert not list(store.list(STAGED_PREFIX))
    if isinstance(store, S3Store):
        assert not claim_held(store, f"claims/{key}")
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stopped_scrub_finished_while_the_pipeline_writes_the_job_keeps_the_pipeline_s(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped after staging a job is finished by the next one (the staged copy written
    again); a job the pipeline writes after that run removed the old one is newer than the
    staged copy and is kept. Before m56 the staged copy was ``put`` over it."""
    store = pipeline.repo.store
    done = ingested(pipeline, _documents(1, 5700)[0])
    key = as_before_a3(pipeline, done)
    store.put(STAGED_PREFIX + key.rsplit("/", 1)[1], _dump(scrubbed(json.loads(store.get(key)))))
    newer = done.evolve(attempts=done.attempts + 3)
    ran = after_any(  # (m57: the finish removes the job with delete_if_current)
        store, ("delete_if_current",), monkeypatch, lambda k, *_: k == key, lambda: pipeline.jobs.put(newer)
    )
    report = scrub_jobs(store)
    monkeypatch.undo()
    assert ran == [1]
    assert pipeline.jobs.get(done.job_id) == newer
    assert report.finished == () and report.scrubbed == ()
    assert plaintext_versions(pipeline.repo.store, key) == [] and not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.s3
def test_two_rewrites_of_the_same_bytes_at_once_leave_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of the scrub (``kho ingest scrub`` beside ``kho fsck --repair``) write a job
    again with the same bytes, each listing the versions after both PUTs landed: a version of
    the same bytes is not another writer's, so neither removes its own and the job is never left
    without one (S3, claims mode; each run waits for the other after its listing)."""
    store = make_store("s3", tmp_path, "m56t")
    assert isinstance(store, S3Store) and store.create_mode == "claims"
    key = "ingest/jobs/" + "cd" * 32 + ".json"
    store.put(key, b'{"format_version": 1}')
    store.delete(key)
    real = store.list_versions
    both = threading.Barrier(2, timeout=30)

    def list_versions(k: str) -> Any:
        listed = real(k)
        both.wait()
        return listed

    monkeypatch.setattr(store, "list_versions", list_versions)
    answers: list[bool] = []
    runs = [threading.Thread(target=lambda: answers.append(store.put_again(key, b"{}"))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    monkeypatch.undo()
    assert answers == [True, True]
    assert store.get(key) == b"{}" and len(store.list_versions(key)) == 2


@pytest.mark.s3
def test_an_ingest_sends_no_companion_request_for_its_job(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the claims mode a job's replaces are its data PUTs alone (m53: a claim PUT before
    each, two a document)."""
    for key, value in s3_store_env(s3_options_or_skip(), "m56r").items():
        monkeypatch.setenv(key, value)
    pipeline = Pipeline.from_settings(Settings.from_env(), read_once=True)
    try:
        pipeline.defer_index = True
        store = pipeline.repo.store
        assert isinstance(store, S3Store) and store.create_mode == "claims"
        sent: list[tuple[str, str]] = []
        lock = threading.Lock()

        def add(method: str, url: str) -> None:
            with lock:
                sent.append((method, url.split("?", 1)[0]))

        count_http_requests(monkeypatch, add)
        status = ingested(pipeline, _documents(1, 5900)[0])
        monkeypatch.undo()
        jobs = [(m, u) for m, u in sent if "/ingest/jobs/" in u]
        assert [(m, u) for m, u in jobs if f"/{store.claims_bucket}/" in u] == []
        data_puts = [
            u for m, u in jobs if m == "PUT" and u.endswith(f"/{store.bucket}/{job_key(status.job_id)}")
        ]
        assert len(data_puts) >= 2  # the job's writes were counted: its data, no claim
        assert not claim_held(store, f"claims/{job_key(status.job_id)}")
    finally:
        pipeline.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conditional_create_of_a_job_key_is_refused(backend: str, tmp_path: Path) -> None:
    """The jobs are declared replaced-only once (``JOBS``): every create of one fails, on every
    backend, so a new caller that would need the claim m56 dropped fails in every test."""
    store = make_store(backend, tmp_path, "m56c")
    key = "ingest/jobs/" + "ab" * 32 + ".json"
    assert_every_create_refused(store, key, "jobs")
    assert store.put_again(key, b'{"v": 1}')  # the scrub's write after a delete is no create
    store.put(key, b'{"v": 2}')
    store.delete(key)
    restore_object(store, key, b'{"v": 3}', hashlib.sha256(b'{"v": 3}').hexdigest())
    assert store.get(key) == b'{"v": 3}'
    if isinstance(store, S3Store):
        assert not claim_held(store, f"claims/{key}")


@pytest.mark.s3
@pytest.mark.parametrize("backend", ["s3"])
def test_a_job_claimed_by_an_earlier_kho_is_scrubbed_and_its_claim_removed(
    backend: str, pipeline: Pipeline
) -> None:
    """A store written before m56 holds a claim beside each job (``claims/ingest/jobs/…``): the
    scrub's delete still removes it, the job is written again, and fsck stays clean."""
    store = pipeline.repo.store
    assert isinstance(store, S3Store)
    done = ingested(pipeline, _documents(1, 6000)[0])
    key = as_before_a3(pipeline, done)
    store._put_raw(store.claims_bucket, f"claims/{key}", store._claim_body())  # as m55's put left it
    assert claim_held(store, f"claims/{key}")
    report = scrub_jobs(store)
    assert report.scrubbed == (key,)
    assert not claim_held(store, f"claims/{key}")
    assert json.loads(store.get(key))["format_version"] == 2 and plaintext_versions(store, key) == []
    assert fsck(pipeline.repo, grace_seconds=0).clean
