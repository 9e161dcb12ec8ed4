"""rv62: an entry of a job's ``versions/`` folder that is not one of the store's archives, or
that goes while it is listed, must not stop the ingest, the scrub or fsck.

Since m62/m63 every job write with its record (``JobStore.put`` → ``remove_older_named``), every
``kho ingest scrub`` and every ``kho fsck`` list each job's versions (``older_named``). The local
folder's ``list_versions`` took every name of ``versions/<key>/`` as ``<ns>_<version id>`` and
stat'ed it: a stray name without ``_`` (a file a backup tool, an editor or a hand left there)
stopped all three with ``IndexError``, and an archive removed between the folder's listing and
its ``stat`` (a ``delete_older_version`` of a second worker, a scrub's removal of the job; here a
dangling link, the same ``FileNotFoundError`` made deterministic) with ``FileNotFoundError``.
On main before m62 nothing listed a job's versions. Real local store, real fsck."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kho_testing import AGENCY

from ingest.status import JobStatus, JobStore, job_key, new_status
from repository.fsck import fsck
from repository.ingest_jobs import scrub_jobs
from repository.records import Repository, new_record_id
from repository.storage.local import LocalStore

NAME = "QD-ky-luat-Nguyen-Van-Binh.pdf"
WORD = b"Nguyen-Van-Binh"


def _stray(vdir: Path, kind: str) -> Path:
    vdir.mkdir(parents=True, exist_ok=True)
    if kind == "no-underscore":
        (vdir / "ghi-chu.txt").write_text("một tệp không phải của Kho")
        return vdir / "ghi-chu.txt"
    gone = vdir / f"{0:020d}_1-1"  # an archive's name, its file removed meanwhile
    os.symlink(vdir.parent / "khong-con", gone)
    return gone


@pytest.mark.parametrize("kind", ["no-underscore", "vanished"])
def test_a_stray_or_vanished_version_entry_stops_neither_ingest_nor_scrub_nor_fsck(
    kind: str, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    repo = Repository(store, LocalStore(tmp_path / "keys"), agency_id=AGENCY)
    jobs = JobStore(store)
    first = jobs.put(new_status("ab" * 32, NAME, "den", source=f"/nhap/{NAME}"))  # before the record
    key = job_key(first.job_id)
    stray = _stray(tmp_path / "store" / "versions" / key, kind)
    # The pipeline's first write with the record (m63): written, and the version naming the file
    # removed (main: IndexError / FileNotFoundError out of list_versions).
    done: JobStatus = jobs.put(first.evolve(record_id=new_record_id()))
    assert jobs.get(first.job_id) == done
    versions = store.list_versions(key)
    assert [v.version_id for v in versions][-1:] == [store.stat(key).version_id]
    assert not any(WORD in store.get(key, v.version_id) for v in versions)
    assert os.path.lexists(stray)  # not Kho's: left where it is
    report = scrub_jobs(store)  # main: the same exceptions
    assert report.unreadable == () and report.scrubbed == ()
    assert [i.kind for i in fsck(repo, grace_seconds=0).issues if i.kind.startswith("job-")] == []


def test_an_older_version_naming_the_file_beside_a_stray_entry_is_still_found(tmp_path: Path) -> None:
    """The skip takes only what is not an archive: a crash between the write with the record and
    the removal still leaves fsck a version to name, and the repair removes it."""
    store = LocalStore(tmp_path / "store")
    repo = Repository(store, LocalStore(tmp_path / "keys"), agency_id=AGENCY)
    first = JobStore(store).put(new_status("cd" * 32, NAME, "den", source=f"/nhap/{NAME}"))
    key = job_key(first.job_id)
    _stray(tmp_path / "store" / "versions" / key, "no-underscore")
    # the record's write without the removal (nothing to remove named: as a crash right after the put)
    JobStore(store).put(first.evolve(record_id=new_record_id(), older_named=False, named_versions=()))
    [named] = [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "job-plaintext"]
    assert named.subject == key  # main: IndexError
    fsck(repo, repair=True, grace_seconds=0)
    assert not any(WORD in store.get(key, v.version_id) for v in store.list_versions(key))
