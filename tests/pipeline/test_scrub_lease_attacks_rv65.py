"""rv65: a writer of the store keeps a lease fresh *and* writes the dead scrub's staged copy again.

rv64 made fsck take a staged copy (``ingest/scrub/<job>``) for a live scrub's only while a lease
is live and the copy is younger than the grace by the store's clock, and said a lease kept
fresh by hand hides a stopped run's copy no longer than the grace: ``Last-Modified`` cannot be
forged. It can be renewed: the same bytes PUT again over the copy (any writer of the bucket,
no key) made it "written just now", so the copy of a killed scrub, with its job absent or
holding plaintext, was never named while someone kept writing both. The copy's age is now
its first version's (a scrub writes one copy a job and removes every version of it when done).

Real pipeline, the local folder and the S3 gateway (Ceph RGW)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from kho_jobs import as_before_a3, ingested, scrub_pipeline

from ingest.pipeline import Pipeline
from ingest.testpki import TestPKI, Variant, make_variant
from repository.fsck import fsck
from repository.ingest_jobs import LEASE_PREFIX, STAGED_PREFIX
from repository.storage.base import ObjectStore

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made


def _old_job(pipeline: Pipeline, seed: int) -> str:
    """A job written before a3 (its file name and import path in plaintext): its key."""
    done = ingested(pipeline, make_variant(Variant.NO_TIMESTAMP, pki=TestPKI.build(), seed=seed, pages=1))
    return as_before_a3(pipeline, done)


def _unfinished(report: object) -> list[str]:
    return [i.subject for i in report.issues if i.kind == "job-scrub-unfinished"]  # type: ignore[attr-defined]


def _lease_by_hand(store: ObjectStore) -> str:
    """A lease as a scrub of a machine fsck cannot ask writes it: live by its age alone."""
    key = f"{LEASE_PREFIX}{'ef' * 16}.json"
    body = {"format_version": 1, "run": "ef" * 16, "host": "other-machine/boot/ns", "pid": 4242}
    store.put(key, json.dumps(body).encode())
    return key


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stopped_copy_written_again_in_place_is_named_after_the_grace(
    backend: str, pipeline: Pipeline
) -> None:
    store = pipeline.repo.store
    key = _old_job(pipeline, 6530)
    staged = STAGED_PREFIX + key.removeprefix("ingest/jobs/")
    store.put(staged, store.get(key))  # the killed scrub's copy
    lease = _lease_by_hand(store)
    time.sleep(2.2)
    store.put(lease, store.get(lease))  # kept fresh by hand
    store.put(staged, store.get(staged))  # and the copy written again: Last-Modified now
    assert _unfinished(fsck(pipeline.repo, grace_seconds=2)) == [key]  # before: [] (hidden)
    assert _unfinished(fsck(pipeline.repo, grace_seconds=300)) == []  # (a guard: still a live run's)
