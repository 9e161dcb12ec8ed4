"""Ingest jobs for the scrub's tests (m56, m57): a document ingested to its end, its job
rewritten as a Kho before a3 stored it (the document's name and import path in plaintext), the
stored versions of a job that still hold that plaintext, and a write landing at a point of the
scrub (:func:`after_any`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kho_testing import s3_options_or_skip, s3_store_env

from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import JobState, JobStatus, job_key
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from repository.storage.base import ObjectStore
from repository.storage.s3 import S3Store

PLAINTEXT = b"Nguyen-Van-Binh"
"""In the file name an old job keeps (:func:`as_before_a3`): what the scrub must leave in no
version."""


S3_MODES = {"s3": "claims", "s3-conditional": "conditional"}
"""The S3 backends of the scrub's tests and the create mode of each."""


def documents(count: int, seed: int) -> list[bytes]:
    """``count`` signed one-page PDFs, each its own (``seed``)."""
    pki = TestPKI.build()
    return [make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=seed + n, pages=1) for n in range(count)]


@contextmanager
def scrub_pipeline(backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The bulk import's pipeline (the test's ``env`` set) on ``backend``: ``local``, ``s3``
    (claims mode) or ``s3-conditional`` (the data bucket opened with ``conditional_create=True``)."""
    if backend in S3_MODES:
        for key, value in s3_store_env(s3_options_or_skip(), "m57p").items():
            monkeypatch.setenv(key, value)
    if backend == "s3-conditional":
        real = S3Store.from_url.__func__  # type: ignore[attr-defined]

        def from_url(cls: type[S3Store], url: str, **options: Any) -> S3Store:
            options.setdefault("conditional_create", True)  # (the key store passes False)
            return real(cls, url, **options)

        monkeypatch.setattr(S3Store, "from_url", classmethod(from_url))
    made = Pipeline.from_settings(
        Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=2, base_delay=0.05)
    )
    made.defer_index = True
    if backend in S3_MODES:
        store = made.repo.store
        assert isinstance(store, S3Store) and store.create_mode == S3_MODES[backend]
    try:
        yield made
    finally:
        made.close()


def ingested(pipeline: Pipeline, doc: bytes) -> JobStatus:
    """``doc`` ingested and indexed (the pipeline defers its index): its job, done."""
    pipeline.ingest(doc, "qd.pdf")
    (status,) = pipeline.flush_index()
    assert status.state is JobState.DONE, status.reason
    return status


def as_before_a3(pipeline: Pipeline, done: JobStatus) -> str:
    """The job rewritten as a Kho before a3 wrote it (format 1, the file name and the import
    path in plaintext): one the scrub rewrites. Its key."""
    key = job_key(done.job_id)
    store = pipeline.repo.store
    old = json.loads(store.get(key))
    old.update(format_version=1, filename="QD-ky-luat-Nguyen-Van-Binh.pdf", source="/srv/import/x.pdf")
    store.put(key, json.dumps(old, ensure_ascii=False).encode())
    return key


def plaintext_versions(store: ObjectStore, key: str) -> list[str]:
    """The version ids of ``key`` that still hold :data:`PLAINTEXT`."""
    return [str(v.version_id) for v in store.list_versions(key) if PLAINTEXT in store.get(key, v.version_id)]


def after_any(
    obj: Any, names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, when: Callable[..., bool],
    then: Callable[[], None],
) -> list[int]:
    """Each of ``obj``'s methods ``names`` wrapped (on the instance): once a call of one of them
    for which ``when(*args)`` holds has returned, ``then()`` runs, once in all. The number of
    times it ran (to check the point was reached)."""
    ran: list[int] = []
    for name in names:
        real = getattr(obj, name)

        def wrapped(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            answer = _real(*args, **kwargs)
            if not ran and when(*args):
                ran.append(1)
                then()
            return answer

        monkeypatch.setattr(obj, name, wrapped)
    return ran
