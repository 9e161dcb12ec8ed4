"""Review rv64: three holes of the job scrub and fsck on the store (NOTES-lead50/51 "Left open").

* **A scrub killed on S3 was not named for up to 20 min** (5 on the local folder): fsck took
  every staged copy younger than its grace (+ the 15 min S3 clock-skew margin) for a live run's.
  Now a running scrub holds a lease it writes again every few seconds; a copy is a live run's
  only while a lease is live (its process not gone, written again within
  ``LEASE_EXPIRY_SECONDS`` by the store's clock) and the copy is younger than the grace by the
  store's clock. A real scrub process killed mid-rewrite is named at once; a live (paused) one
  is not; a lease kept fresh by hand hides a stopped run's copy no longer than the grace.
* **Old versions under a delete marker were listed by neither the scrub nor fsck**: a job that
  another S3 client deleted (or whose local file was removed by hand) kept its plaintext
  versions unnamed for ever. fsck names them (``job-plaintext``), the scrub removes them.
* **A bucket whose versioning is suspended made the scrub give up** (3 tries a job,
  ``overtaken``, no word of why). The safe answer is to refuse: there every PUT replaces the one
  ``null`` version, so "remove the version read" may remove another writer's. The scrub refuses
  with ``STORE_VERSIONING_OFF`` naming the bucket (CLI: the Vietnamese line, no traceback),
  fsck names the bucket (``store-versioning-off``) and says nothing of this step repaired.

Real pipeline, the local folder and the S3 gateway (Ceph RGW)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from kho_child import paused_child, stop_once_at
from kho_jobs import as_before_a3, ingested, plaintext_versions, scrub_pipeline

from ingest.pipeline import Pipeline
from ingest.testpki import TestPKI, Variant, make_variant
from kho.errors import KhoError
from kho.process import this_host
from repository import ingest_jobs
from repository.fsck import fsck
from repository.ingest_jobs import LEASE_PREFIX, STAGED_PREFIX, scrub_jobs
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store
from web.cli import main

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made


def _old_job(pipeline: Pipeline, seed: int) -> tuple[str, str]:
    """A job written before a3 (its file name and import path in plaintext): key, record id."""
    done = ingested(pipeline, make_variant(Variant.NO_TIMESTAMP, pki=TestPKI.build(), seed=seed, pages=1))
    return as_before_a3(pipeline, done), str(done.record_id)


def _found(report: object) -> list[tuple[str, str]]:
    return [(i.kind, i.subject) for i in report.issues]  # type: ignore[attr-defined]


def _unfinished(report: object) -> list[str]:
    """The jobs fsck names ``job-scrub-unfinished`` (the jobs here keep plaintext too)."""
    return [i.subject for i in report.issues if i.kind == "job-scrub-unfinished"]  # type: ignore[attr-defined]


# -- 1. a killed scrub is named at once; a live one is not ---------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_scrub_is_named_at_once_and_a_live_one_is_not(backend: str, pipeline: Pipeline) -> None:
    """A real scrub process stopped (SIGSTOP) with the job removed and its copy staged: fsck
    with its grace names nothing (a live run). Killed there: the next fsck, with the same grace
    and seconds later, names ``job-scrub-unfinished`` (before: not for 5 min on the local folder,
    20 on S3, the copy being younger than the grace), and its repair finishes the job."""
    store = pipeline.repo.store
    key, record_id = _old_job(pipeline, 6410)

    def work(stop):  # type: ignore[no-untyped-def]
        stop_once_at(type(store), "put_again", stop, lambda _s, k, *_: k == key)
        scrub_jobs(store)
        return "ok"

    with paused_child(work) as child:
        assert not store.exists(key) and list(store.list(STAGED_PREFIX))
        assert len(list(store.list(LEASE_PREFIX))) == 1  # the live run's lease
        assert _found(fsck(pipeline.repo)) == []
        child.kill()
        started = time.monotonic()
        killed = fsck(pipeline.repo)
        assert _found(killed) == [("job-scrub-unfinished", key)]
        assert time.monotonic() - started < 60
    repaired = fsck(pipeline.repo, repair=True)
    assert [(i.kind, i.repaired) for i in repaired.issues] == [("job-scrub-unfinished", True)]
    stored = json.loads(store.get(key))
    assert stored["record_id"] == record_id and plaintext_versions(store, key) == []
    assert list(store.list(STAGED_PREFIX)) == [] and list(store.list(LEASE_PREFIX)) == []
    assert fsck(pipeline.repo, grace_seconds=0).clean


def _lease_of_another_machine(store: ObjectStore) -> str:
    """A lease as a scrub on another machine writes it (a host fsck cannot ask): live by its
    age alone."""
    key = f"{LEASE_PREFIX}{'cd' * 16}.json"
    body = {"format_version": 1, "run": "cd" * 16, "host": "other-machine/boot/ns", "pid": 4242}
    store.put(key, json.dumps(body).encode())
    return key


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lease_of_another_machine_counts_until_it_expires_by_the_store_clock(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staged copy beside a lease another machine writes: a live run's while the lease is
    fresh, a stopped run's once it is not written again for ``LEASE_EXPIRY_SECONDS`` by the
    store's clock (2 s here). Before: the copy was a live run's for the whole grace."""
    store = pipeline.repo.store
    monkeypatch.setattr(ingest_jobs, "LEASE_EXPIRY_SECONDS", 2.0)
    key, _ = _old_job(pipeline, 6420)
    staged = STAGED_PREFIX + key.removeprefix("ingest/jobs/")
    store.put(staged, store.get(key))
    _lease_of_another_machine(store)
    assert _unfinished(fsck(pipeline.repo)) == []
    time.sleep(3.2)
    assert _unfinished(fsck(pipeline.repo)) == [key]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lease_kept_fresh_by_hand_hides_a_stopped_copy_no_longer_than_the_grace(
    backend: str, pipeline: Pipeline
) -> None:
    """An attacker (or a stuck tool) who keeps writing a lease: a staged copy older than the
    grace by the store's clock is named all the same."""
    store = pipeline.repo.store
    key, _ = _old_job(pipeline, 6430)
    staged = STAGED_PREFIX + key.removeprefix("ingest/jobs/")
    store.put(staged, store.get(key))
    lease = _lease_of_another_machine(store)
    time.sleep(2.2)
    store.put(lease, store.get(lease))  # written again: fresh
    assert _unfinished(fsck(pipeline.repo, grace_seconds=2)) == [key]
    assert _unfinished(fsck(pipeline.repo, grace_seconds=300)) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lease_too_large_is_judged_by_its_age_and_never_read(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lease of 8 MB put there by hand: fsck never reads it (as a claim over its limit, review
    rv53), and it counts as a live run's only by its age, as a true one."""
    store = pipeline.repo.store
    key, _ = _old_job(pipeline, 6480)
    store.put(STAGED_PREFIX + key.removeprefix("ingest/jobs/"), store.get(key))
    lease = f"{LEASE_PREFIX}{'ab' * 16}.json"
    store.put(lease, b"{" + b" " * (8 << 20) + b"}")
    read: list[str] = []
    real = store.get

    def get(k: str, *args: object, **kwargs: object) -> bytes:
        read.append(k)
        return real(k, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "get", get)
    assert _unfinished(fsck(pipeline.repo)) == []
    assert lease not in read


def _dead_pid() -> int:
    """The id of a process of this machine that has ended (forked, exited, reaped)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_scrub_removes_its_lease_and_a_stopped_runs_lease(backend: str, pipeline: Pipeline) -> None:
    """The lease is the run's only: held while it runs, gone when it ends; a stopped run's of
    this machine (its process gone) is removed by the next run, so leases do not pile up."""
    store = pipeline.repo.store
    stale = f"{LEASE_PREFIX}{'ef' * 16}.json"
    body = {"format_version": 1, "run": "ef" * 16, "host": this_host(), "pid": _dead_pid()}
    store.put(stale, json.dumps(body).encode())
    seen: list[list[str]] = []
    real = store.list_hidden

    def spy(prefix: str) -> Iterator[str]:  # (called inside the run: its lease is held)
        seen.append([i.key for i in store.list(LEASE_PREFIX)])
        return real(prefix)

    store.list_hidden = spy  # type: ignore[method-assign]
    scrub_jobs(store)
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0] != stale
    assert list(store.list(LEASE_PREFIX)) == []


# -- 2. versions under a delete marker ---------------------------------------------------------
def _delete_as_another_tool(store: ObjectStore, key: str) -> None:
    """S3: a plain DELETE (a delete marker on top, every version kept); the local folder: the
    current file removed by hand (its archives kept)."""
    if isinstance(store, S3Store):
        store._client.remove_object(store.bucket, key)
    else:
        assert isinstance(store, LocalStore)
        (store.root / "objects" / key).unlink()
    assert not store.exists(key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_plaintext_versions_under_a_delete_marker_are_named_and_scrubbed(
    backend: str, pipeline: Pipeline
) -> None:
    """A job whose versions hold the file name (one written before a3 under a clean one), then
    deleted by another tool: fsck names ``job-plaintext`` for it (before: clean, the key was not
    listed), the scrub removes those versions by id (before: none removed) and says so
    (``hidden``); the marker and the clean version stay; fsck is clean after."""
    store = pipeline.repo.store
    key, _ = _old_job(pipeline, 6440)
    clean = dict(json.loads(store.get(key)), format_version=2, filename="x.pdf", source=None)
    store.put(key, json.dumps(clean).encode())  # a clean one on top of the plaintext one
    assert plaintext_versions(store, key)
    _delete_as_another_tool(store, key)
    assert plaintext_versions(store, key)  # still stored, under the marker
    checked = fsck(pipeline.repo, grace_seconds=0)
    assert ("job-plaintext", key) in _found(checked)
    (issue,) = [i for i in checked.issues if i.subject == key]
    assert "dấu xóa" in issue.message and "filename" in issue.message
    report = scrub_jobs(store)
    assert report.hidden == (key,)
    assert plaintext_versions(store, key) == [] and not store.exists(key)
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.s3
@pytest.mark.parametrize("backend", ["s3"])
def test_the_repair_removes_plaintext_under_a_delete_marker_on_s3(backend: str, pipeline: Pipeline) -> None:
    """``kho fsck --repair`` names and mends it (audited by the scrub's ``ingest:scrub``)."""
    store = pipeline.repo.store
    key, _ = _old_job(pipeline, 6450)
    _delete_as_another_tool(store, key)
    repaired = fsck(pipeline.repo, repair=True, grace_seconds=0)
    assert [(i.kind, i.subject, i.repaired) for i in repaired.issues] == [("job-plaintext", key, True)]
    assert plaintext_versions(store, key) == []
    scrubs = [e for e in pipeline.repo.audit.events() if e.action == "ingest:scrub"]
    assert scrubs and scrubs[-1].details["hidden"] == [key]


# -- 3. a bucket whose versioning is suspended ---------------------------------------------------
def _suspend(store: ObjectStore) -> None:
    from minio.versioningconfig import SUSPENDED, VersioningConfig

    assert isinstance(store, S3Store)
    store._client.set_bucket_versioning(store.bucket, VersioningConfig(SUSPENDED))


def _versions(store: ObjectStore, key: str) -> list[tuple[str | None, bytes]]:
    return [(v.version_id, store.get(key, v.version_id)) for v in store.list_versions(key)]


@pytest.mark.s3
@pytest.mark.parametrize("backend", ["s3"])
def test_the_scrub_refuses_a_bucket_whose_versioning_is_suspended(backend: str, pipeline: Pipeline) -> None:
    """Before: the scrub ran, left the job as it was and reported it ``overtaken``, with no
    word of why. Now: refused before anything is read, ``STORE_VERSIONING_OFF``, a Vietnamese
    message naming the bucket; nothing touched."""
    store = pipeline.repo.store
    assert isinstance(store, S3Store)
    key, _ = _old_job(pipeline, 6460)
    _suspend(store)
    before = _versions(store, key)
    with pytest.raises(KhoError) as refused:
        scrub_jobs(store)
    assert refused.value.code == "STORE_VERSIONING_OFF"
    assert store.bucket in refused.value.message and "versioning" in refused.value.message
    assert refused.value.details == {"bucket": store.bucket, "status": "Suspended"}
    assert _versions(store, key) == before and list(store.list(LEASE_PREFIX)) == []

    # (a Kho opened since turns versioning on again, ``S3Store(create_bucket=True)``: the
    # refusal is for the processes that were running when it was suspended)
    result = CliRunner().invoke(main, ["ingest", "scrub", "--json"])
    assert result.exit_code == 0, result.output
    assert store._client.get_bucket_versioning(store.bucket).status == "Enabled"


@pytest.mark.s3
@pytest.mark.parametrize("backend", ["s3"])
def test_fsck_names_a_suspended_bucket_and_repairs_nothing_of_the_jobs(
    backend: str, pipeline: Pipeline
) -> None:
    """fsck names the bucket (``store-versioning-off``, never repaired); the job's plaintext is
    named and, under ``--repair``, not said repaired (before: the repair's scrub ran and the job
    was said mended or overtaken without a cause)."""
    store = pipeline.repo.store
    assert isinstance(store, S3Store)
    key, _ = _old_job(pipeline, 6470)
    _suspend(store)
    before = _versions(store, key)
    repaired = fsck(pipeline.repo, repair=True, grace_seconds=0)
    found = {(i.kind, i.subject): i for i in repaired.issues}
    off = found[("store-versioning-off", store.bucket)]
    assert not off.repairable and not off.repaired and store.bucket in off.message
    assert not found[("job-plaintext", key)].repaired
    assert _versions(store, key) == before
