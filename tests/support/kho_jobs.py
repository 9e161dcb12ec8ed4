"""Ingest jobs for the scrub's tests (m56, m57): a document ingested to its end, its job
rewritten as a Kho before a3 stored it (the document's name and import path in plaintext), and
the stored versions of a job that still hold that plaintext."""

from __future__ import annotations

import json

from ingest.pipeline import Pipeline
from ingest.status import JobState, JobStatus, job_key
from repository.storage.base import ObjectStore

PLAINTEXT = b"Nguyen-Van-Binh"
"""In the file name an old job keeps (:func:`as_before_a3`): what the scrub must leave in no
version."""


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
