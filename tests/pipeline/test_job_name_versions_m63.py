"""m63 (m62 "Left open" 2, s24 "Left open" 1): every ingest wrote its job first without a
record (the file name and the import path in plaintext, as a3 allows before the record exists),
then with the record id (a neutral name). The first write stayed in the store as an older
version (the local folder's ``versions/``, an S3 version) for ever, and the scrub and fsck
judged each version by its own state, so nothing removed it.

Now the job's first write with its record id removes the older versions that name the file
(``JobStore.put`` → ``remove_older_named``), and the scrub and fsck judge an older version by
the *current* version's state: a crash between the write and the removal is named by fsck and
finished by the repair or the scrub. Real pipeline, bulk import, local folder and the S3 gateway
(Ceph RGW)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_jobs import after_any
from kho_testing import s3_options_or_skip, s3_store_env

from ingest.bulk import import_paths
from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import JobState, JobStatus, JobStore, job_key, new_status
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from kho.errors import RetentionLocked, StoreUnavailable
from repository.fsck import fsck
from repository.ingest_jobs import STAGED_PREFIX, scrub_jobs
from repository.service import open_repository
from repository.storage.base import ObjectStore

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]
NAME = "QD-ky-luat-Nguyen-Van-Binh.pdf"
WORD = b"Nguyen-Van-Binh"
"""A word of the file name: no version of a job whose record exists may hold it."""


@pytest.fixture()
def s3_env(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    if backend == "s3":
        for key, value in s3_store_env(s3_options_or_skip(), "m63n").items():
            monkeypatch.setenv(key, value)
    return env


@pytest.fixture()
def pipeline(s3_env: dict[str, str]) -> Iterator[Pipeline]:
    made = Pipeline.from_settings(
        Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=2, base_delay=0.05)
    )
    made.defer_index = True
    yield made
    made.close()


def _document(seed: int) -> bytes:
    return make_variant(Variant.NO_TIMESTAMP, pki=TestPKI.build(), seed=seed, pages=1)


def _naming(store: ObjectStore, key: str, *words: bytes) -> list[str]:
    """The version ids of ``key`` that hold any of ``words`` (the file name's, the source's)."""
    found = []
    for version in store.list_versions(key):
        body = store.get(key, version.version_id)
        if any(w in body for w in words):
            found.append(str(version.version_id))
    return found


def _ingest(pipeline: Pipeline, doc: bytes, source: str | None = None) -> JobStatus:
    pipeline.ingest(doc, NAME, source=source)
    (status,) = pipeline.flush_index()
    assert status.state is JobState.DONE, status.reason
    return status


class _Crash(BaseException):
    """The process stops here (raised past every ``except Exception``)."""


def _crash_after_the_record_write(store: ObjectStore, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``store.put`` of the job ``key`` carrying its record id lands, then the process stops:
    before the removal of the older versions."""
    real = store.put

    def put(k: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        answer = real(k, data, *args, **kwargs)
        if k == key and json.loads(data).get("record_id"):
            raise _Crash(k)
        return answer

    monkeypatch.setattr(store, "put", put)


def _refused_before(pipeline: Pipeline, doc: bytes) -> None:
    """The job of ``doc`` as an earlier attempt left it, refused before anything was stored
    (``lỗi`` without a record, naming the file): the next arrival reads it, so its first write
    with the record lists the job's versions (m63) instead of removing only its own by id."""
    made = new_status(hashlib.sha256(doc).hexdigest(), NAME, "den", source="/srv/import/" + NAME)
    pipeline.jobs.put(made.evolve(state=JobState.FAILED, reason_code="FILE_NAME_INVALID", reason="Tên tệp."))


def _removals(store: ObjectStore, key: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of the store's listings and removals of the versions of ``key`` from now on."""
    counts = {"list_versions": 0, "delete_older_version": 0}
    for name in counts:
        real = getattr(store, name)

        def counted(k: str, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            counts[_name] += k == key
            return _real(k, *args, **kwargs)

        monkeypatch.setattr(store, name, counted)
    return counts


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_ingest_leaves_no_version_of_its_job_naming_the_file(backend: str, pipeline: Pipeline) -> None:
    """Before: the job's first version (``đang xử lý``, no record) kept the file name and the
    import path under the done one, for ever."""
    store = pipeline.repo.store
    source = "/srv/import/ho-so-Nguyen-Van-Binh/" + NAME
    done = _ingest(pipeline, _document(6310), source=source)
    key = job_key(done.job_id)
    assert done.record_id and done.source is None and WORD.decode() not in done.filename
    assert len(store.list_versions(key)) >= 1
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert pipeline.jobs.get(done.job_id) == done  # the current job is the pipeline's
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_accept_then_run_leaves_no_version_naming_the_file(backend: str, pipeline: Pipeline) -> None:
    """The web/Celery path: ``accept`` stores the original (its job ends ``chờ`` with the
    record), a worker runs the rest later."""
    store = pipeline.repo.store
    doc = _document(6315)
    waiting = pipeline.accept(doc, NAME, source="/srv/import/" + NAME)
    assert waiting.state is JobState.WAITING and waiting.record_id
    key = job_key(waiting.job_id)
    assert _naming(store, key, WORD, b"/srv/import") == []
    pipeline.run(waiting.job_id)
    pipeline.flush_index()
    assert pipeline.jobs.get(waiting.job_id).state is JobState.DONE
    assert _naming(store, key, WORD, b"/srv/import") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bulk_import_leaves_no_version_naming_the_file_or_its_path(
    backend: str, s3_env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "in-Tran-Thi-Cuc"
    folder.mkdir()
    (folder / NAME).write_bytes(_document(6320))
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    (item,) = report.items
    assert item.state == "xong" and item.record_id
    store = open_repository(Settings.from_env()).store
    key = job_key(item.job_id)
    assert _naming(store, key, WORD, b"Tran-Thi-Cuc") == []
    assert JobStore(store).get(item.job_id).record_id == item.record_id


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("finish", ["repair", "scrub"])
def test_a_crash_between_the_write_and_the_removal_is_found_and_finished(
    backend: str, finish: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job written with its record, the process stopped before the removal: fsck names the
    job (``job-plaintext``, in an older version), and ``kho fsck --repair`` or ``kho ingest
    scrub`` removes the version; the current job is kept."""
    store = pipeline.repo.store
    doc = _document(6330 if finish == "repair" else 6335)
    key = job_key(hashlib.sha256(doc).hexdigest())
    _crash_after_the_record_write(store, key, monkeypatch)
    with pytest.raises(_Crash):  # (the first write with the record: the batch's end)
        _ingest(pipeline, doc, source="/srv/import/" + NAME)
    monkeypatch.undo()
    current = json.loads(store.get(key))
    assert current["record_id"] and WORD not in store.get(key)
    assert _naming(store, key, WORD)  # the crash left it
    issues = [(i.kind, i.subject) for i in fsck(pipeline.repo, grace_seconds=0).issues]
    assert ("job-plaintext", key) in issues
    if finish == "repair":
        repaired = fsck(pipeline.repo, repair=True, grace_seconds=0)
        assert ("job-plaintext", key, True) in [(i.kind, i.subject, i.repaired) for i in repaired.issues]
    else:
        assert scrub_jobs(store).scrubbed == (key,)
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert json.loads(store.get(key)) == current
    after = fsck(pipeline.repo, grace_seconds=0).issues
    assert ("job-plaintext", key) not in [(i.kind, i.subject) for i in after]
    # the job goes on from where it stopped
    pipeline.run_with_retries(current["job_id"], force=True)
    pipeline.flush_index()
    assert pipeline.jobs.get(current["job_id"]).state is JobState.DONE
    assert _naming(store, key, WORD, b"/srv/import") == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("point", ["written", "listed", "removed"])
def test_a_scrub_beside_an_ingest_loses_no_current_job(
    backend: str, point: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole scrub runs inside the ingest's removal: after its write with the record id,
    after its listing of the versions, after its first removal. The ingest's job stays current
    and ends done, and no version names the file. (Session 51: a job this process made removes
    its own versions by id, without a listing; the listing is for a job read before its record
    existed, here an earlier attempt refused before anything was stored.)"""
    store = pipeline.repo.store
    doc = _document({"written": 6340, "listed": 6345, "removed": 6348}[point])
    key = job_key(hashlib.sha256(doc).hexdigest())
    if point == "listed":
        _refused_before(pipeline, doc)
    reports: list[Any] = []

    def scrub() -> None:
        reports.append(scrub_jobs(store))

    if point == "written":
        ran = after_any(
            store, ("put",), monkeypatch,
            lambda k, data, *_: k == key and bool(json.loads(data).get("record_id")), scrub,
        )
    elif point == "listed":
        ran = after_any(store, ("list_versions",), monkeypatch, lambda k, *_: k == key, scrub)
    else:
        ran = after_any(store, ("delete_older_version",), monkeypatch, lambda k, *_: k == key, scrub)
    done = _ingest(pipeline, doc, source="/srv/import/" + NAME)
    monkeypatch.undo()
    assert ran == [1]
    assert reports[0].overtaken == () and reports[0].unreadable == ()
    assert pipeline.jobs.get(done.job_id) == done
    assert done.record_id and done.state is JobState.DONE
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert not list(store.list(STAGED_PREFIX))
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("point", ["written", "listed"])
def test_a_second_worker_running_the_job_meanwhile_keeps_its_job_and_leaves_no_name(
    backend: str, point: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second worker (a task delivered twice) that read the job before its record existed
    runs it whole inside the first one's removal: after the first's write with the record, or
    after its listing of the versions. Its own versions naming the file are removed by its own
    first write with the record; the first worker's removal never removes the current job (the
    second's), and a version the second already removed is not an error."""
    store = pipeline.repo.store
    doc = _document(6350 if point == "written" else 6355)
    job_id = hashlib.sha256(doc).hexdigest()
    key = job_key(job_id)
    if point == "listed":
        _refused_before(pipeline, doc)
    second = Pipeline.from_settings(Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=0))
    second.defer_index = False
    ends: list[JobStatus] = []

    def run_second() -> None:
        before = new_status(job_id, NAME, "den", source="/srv/import/" + NAME)
        ends.append(second.run(job_id, content=doc, status=before, force=True))

    try:
        if point == "written":
            ran = after_any(
                store, ("put",), monkeypatch,
                lambda k, data, *_: k == key and bool(json.loads(data).get("record_id")), run_second,
            )
        else:
            ran = after_any(store, ("list_versions",), monkeypatch, lambda k, *_: k == key, run_second)
        done = _ingest(pipeline, doc, source="/srv/import/" + NAME)
        monkeypatch.undo()
    finally:
        second.close()
    assert ran == [1]
    (end,) = ends
    assert end.state is JobState.DONE and end.record_id == done.record_id
    current = pipeline.jobs.get(job_id)
    assert current.state is JobState.DONE and current.record_id == done.record_id
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_document_sent_again_after_a_crash_before_the_removal_leaves_no_name(
    backend: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(ci57) The process stopped after the job's write with its record, before the removal:
    the same file arriving again resumes the job (``đang xử lý`` with its record) and its first
    write finishes the removal; before, only the scrub did, and fsck named the job until then
    (a kill between derived writes on S3, ``test_derived_no_claim_m53``, left it so in CI)."""
    store = pipeline.repo.store
    pipeline.status_interval = 0  # (every step writes the job: the crash comes while it runs)
    doc = _document(6360)
    key = job_key(hashlib.sha256(doc).hexdigest())
    _crash_after_the_record_write(store, key, monkeypatch)
    with pytest.raises(_Crash):
        _ingest(pipeline, doc, source="/srv/import/" + NAME)
    monkeypatch.undo()
    assert json.loads(store.get(key))["state"] == JobState.RUNNING.value
    assert _naming(store, key, WORD)  # the crash left it
    done = _ingest(pipeline, doc, source="/srv/import/" + NAME)
    assert done.record_id == json.loads(store.get(key))["record_id"]
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", ["unavailable", "retained"])
def test_a_removal_the_store_refuses_does_not_fail_the_ingest_and_is_found_after(
    backend: str, fault: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(session 51) The job is written with its record when the removal of its older versions
    fails (the S3 gateway down for that moment; a bucket whose default retention keeps every
    version): the document ends done, the failure is logged with its code, and fsck names the
    version left (``job-plaintext``, repairable) until the scrub removes it. Before, the error
    came out of ``JobStore.put`` into the run, after the job was already written."""
    store = pipeline.repo.store
    doc = _document(6365 if fault == "unavailable" else 6368)
    key = job_key(hashlib.sha256(doc).hexdigest())
    error = (
        StoreUnavailable("Kho lưu trữ tạm thời không trả lời.")
        if fault == "unavailable"
        else RetentionLocked("Phiên bản đang trong thời hạn lưu giữ.")
    )

    def refuse(k: str, version_id: str) -> None:
        raise error

    monkeypatch.setattr(store, "delete_older_version", refuse)
    with caplog.at_level("WARNING", logger="ingest.status"):
        done = _ingest(pipeline, doc, source="/srv/import/" + NAME)
    monkeypatch.undo()
    assert done.state is JobState.DONE and done.record_id
    assert any(error.code in r.getMessage() and done.job_id in r.getMessage() for r in caplog.records)
    assert _naming(store, key, WORD)
    issues = fsck(pipeline.repo, grace_seconds=0).issues
    assert [(i.kind, i.subject, i.repairable) for i in issues] == [("job-plaintext", key, True)]
    assert scrub_jobs(store).scrubbed == (key,)
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert pipeline.jobs.get(done.job_id) == done
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("before", ["nothing", "refused"])
def test_a_job_removes_its_own_versions_by_id_and_lists_only_one_read_before_its_record(
    backend: str, before: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(session 51, issue #14) A job this process made removes the one version it wrote before
    the record (one DELETE on S3, no LIST and no GET: 27 → 25 requests a document); a job read
    from the store before its record existed (an earlier attempt refused) lists its versions
    and removes both that attempt's and this run's."""
    store = pipeline.repo.store
    doc = _document(6370 if before == "nothing" else 6375)
    key = job_key(hashlib.sha256(doc).hexdigest())
    if before == "refused":
        _refused_before(pipeline, doc)
    counts = _removals(store, key, monkeypatch)
    _ingest(pipeline, doc, source="/srv/import/" + NAME)
    monkeypatch.undo()
    if before == "nothing":
        assert counts == {"list_versions": 0, "delete_older_version": 1}
    else:
        assert counts == {"list_versions": 1, "delete_older_version": 2}
    assert _naming(store, key, WORD, b"/srv/import") == []
    assert fsck(pipeline.repo, grace_seconds=0).clean


@pytest.mark.s3
@pytest.mark.parametrize("backend", ["s3"])
def test_a_bucket_whose_versioning_is_suspended_keeps_the_job(
    backend: str, pipeline: Pipeline
) -> None:
    """(session 51) On a bucket whose versioning was suspended a put makes the one "null"
    version, which the next put replaces: a removal by that id after the job's write with its
    record would take the current job. Ceph answers such a put without a version id (AWS may
    name it "null": ``JobStore.put`` takes neither as the version it made), so the job's first
    write with its record lists the versions instead. The job is kept, done, and no version of
    it names the file."""
    from minio.versioningconfig import SUSPENDED, VersioningConfig

    store = pipeline.repo.store
    store._client.set_bucket_versioning(store.bucket, VersioningConfig(SUSPENDED))  # type: ignore[attr-defined]
    doc = _document(6380)
    done = _ingest(pipeline, doc, source="/srv/import/" + NAME)
    key = job_key(done.job_id)
    assert pipeline.jobs.get(done.job_id) == done
    assert WORD not in store.get(key)
    assert _naming(store, key, WORD, b"/srv/import") == []
