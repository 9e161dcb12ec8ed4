"""rv66 (NOTES-lead52 stop-hook review): a finished scrub leaves no version of its lease.

rv64's lease (``ingest/scrub-leases/<run>.json``) is written again every few seconds, each
renewal removing the version it replaces by id; the run's end removed the key with ``delete``.
The review found one hidden version per scrub run left under that prefix on S3. A finished
scrub (several renewals, then its end) must leave no key and no version, current or hidden,
under :data:`LEASE_PREFIX`; a killed one is still named by the next fsck (rv64's
``test_a_killed_scrub_is_named_at_once_and_a_live_one_is_not``).

Real pipeline, the local folder and the S3 gateway (Ceph RGW)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from kho_jobs import scrub_pipeline

from ingest.pipeline import Pipeline
from kho.process import this_host
from repository import ingest_jobs
from repository.ingest_jobs import LEASE_PREFIX, scrub_jobs, scrub_lease
from repository.storage.base import ObjectStore

BACKENDS = [
    "local",
    pytest.param("s3", marks=pytest.mark.s3),
    pytest.param("s3-conditional", marks=pytest.mark.s3),
]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made


def _left(store: ObjectStore) -> tuple[list[str], list[str], int]:
    """What the lease prefix holds: current keys, hidden keys, and every stored version of both."""
    current = [info.key for info in store.list(LEASE_PREFIX)]
    hidden = list(store.list_hidden(LEASE_PREFIX))
    versions = sum(len(store.list_versions(key)) for key in {*current, *hidden})
    return current, hidden, versions


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_finished_lease_leaves_no_version_after_renewals(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lease renewed several times (every 0.2 s here), then ended: nothing under the prefix,
    no current key, no key under a delete marker, no version."""
    store = pipeline.repo.store
    monkeypatch.setattr(ingest_jobs, "LEASE_RENEW_SECONDS", 0.2)
    with scrub_lease(store) as key:
        time.sleep(1.1)
        assert [info.key for info in store.list(LEASE_PREFIX)] == [key]
    assert _left(store) == ([], [], 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_finished_scrub_run_leaves_no_lease_version(backend: str, pipeline: Pipeline) -> None:
    """Three whole scrub runs (``scrub_jobs``): not one key or version of a lease is left."""
    store = pipeline.repo.store
    for _ in range(3):
        scrub_jobs(store)
    assert _left(store) == ([], [], 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dead_lease_removed_by_the_next_scrub_leaves_no_version(backend: str, pipeline: Pipeline) -> None:
    """A killed run's lease (its process gone on this host), written twice: the next scrub
    removes it with both versions, and its own lease too."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    store = pipeline.repo.store
    key = f"{LEASE_PREFIX}{'d' * 32}.json"
    body = {"format_version": 1, "run": "d" * 32, "host": this_host(), "pid": int(child.stdout)}
    store.put(key, json.dumps(body).encode())
    store.put(key, json.dumps(body).encode())
    scrub_jobs(store)
    assert _left(store) == ([], [], 0)
