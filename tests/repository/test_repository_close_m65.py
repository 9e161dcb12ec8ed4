"""m65: ``Repository.close`` closes the audit log's by-record index (its SQLite connection).

It left the connection to the garbage collector, whose close checkpoints the WAL into the data
folder and removes ``audit-index.sqlite-wal`` / ``-shm`` at some later time: while the folder is
being copied (tests/support/kho_people.py's template, ci55) or removed (ci56). Now nothing under
the data folder changes after ``close()``, whatever the collector does later. A closed repository
stays usable, as ``close`` already promised for the rest (the pipeline closes its repository and
goes on with it): the next read or act opens the index again. Real local store and SQLite file."""

from __future__ import annotations

import gc
from pathlib import Path

from kho_people import settings_for
from kho_testing import CLERK, outgoing

from repository.audit_index import SqliteRecordIndex
from repository.service import AUDIT_INDEX_FILE, open_repository


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: its size and modification time (ns)."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_after_close_nothing_in_the_data_folder_changes_when_the_collector_runs(tmp_path: Path) -> None:
    data = tmp_path / "kho"
    repo = open_repository(settings_for(data))
    record = repo.create_document("di", outgoing(), None, None, CLERK)
    assert [e.action for e in repo.audit.record_events(record.record_id)][:1] == ["record:create"]
    wal = data / f"{AUDIT_INDEX_FILE}-wal"
    assert wal.exists()  # the index is open, its writes in the WAL

    repo.close()
    assert not wal.exists(), "close() leaves the index's WAL for the garbage collector"  # main: there
    before = _files(data)
    del repo, record
    gc.collect()
    assert _files(data) == before  # main: the -wal and -shm go when the collector closes it


def test_a_closed_repository_opens_its_index_again_and_closing_twice_is_harmless(tmp_path: Path) -> None:
    data = tmp_path / "kho"
    repo = open_repository(settings_for(data))
    first = repo.create_document("di", outgoing(), None, None, CLERK)
    repo.close()
    repo.close()  # idempotent
    index = repo.audit.record_index
    assert isinstance(index, SqliteRecordIndex) and index._conn is None

    second = repo.create_document("di", outgoing(), None, None, CLERK)  # reopens
    assert index._conn is not None
    assert second.registration is not None and second.registration.number == 2
    for record in (first, second):
        assert "record:create" in [e.action for e in repo.audit.record_events(record.record_id)]
    assert index.next_seq() == repo.audit.verify().events  # the index follows the whole log
    repo.close()
    before = _files(data)
    assert not (data / f"{AUDIT_INDEX_FILE}-wal").exists()
    gc.collect()
    assert _files(data) == before
