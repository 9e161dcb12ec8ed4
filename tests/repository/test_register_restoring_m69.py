"""m69: no register number is given while ``restore()`` replaces the store.

m66 made a process running *across* ``kho restore --force`` safe (it re-reads its register's
floor once its last read is older than one second). A number asked *while* the restore copies
could still land among the copy's writes (overwritten by the copy's entry, or removed with the
keys the restore deletes), or in a register neither store holds. m69: ``restore()`` writes one
sealed store-wide marker (``registers-restoring.json``) first, waits one interval and a margin,
copies, and removes it as its last step; the allocator reads it with the floor's once-per-
interval rule and refuses a number while it is there (``STORE_RESTORING``), writing nothing.
A forged (unsealed) marker is not obeyed and fsck names it; a killed restore leaves the marker,
fsck names it, and running the restore again clears it. A backup never copies the marker.

The copy is hooked (``retention.backup.restore_object`` wrapped): the "running process" is a
``Repository`` kept across the restore on the same store, asked for a number from inside the
copy; no sleeps. Names are literal (not imported) so each test fails on the code before m69 by
its assertions."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, incoming, make_store, new_repository, outgoing

import retention.backup as backup_module
from kho.errors import KhoError
from repository.fsck import FsckReport, fsck
from repository.records import Record, Repository
from repository.seals import Sealer
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, read_manifest, restore, store_hashes

MARKER = "registers-restoring.json"
UNFINISHED = "store-restore-unfinished"
FORGED = "restore-marker-forged"
MASTER = b"k" * 32


def _registered(repo: Repository, n: int) -> Record:
    record = repo.create_document("den", incoming(code_number=str(100 + n)), None, None, CLERK)
    assert record.registration is not None
    return record


def _number(record: Record) -> int:
    assert record.registration is not None
    return record.registration.number


def _keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list("")]


def _kinds(report: FsckReport) -> list[str]:
    return [i.kind for i in report.issues]


def _refused_restoring(exc: pytest.ExceptionInfo[KhoError]) -> None:
    assert exc.value.code == "STORE_RESTORING"
    assert exc.value.http_status == 503
    message = str(exc.value)
    assert message == unicodedata.normalize("NFC", message) and "Kho đang khôi phục" in message


def _hook_copy(monkeypatch: pytest.MonkeyPatch, at: int, action: Any) -> list[int]:
    """Call ``action`` when the restore is about to write its ``at``-th object (1-based)."""
    real = backup_module.restore_object
    calls: list[int] = []

    def hooked(target: ObjectStore, key: str, data: bytes, sha256: str) -> None:
        calls.append(1)
        if len(calls) == at:
            action()
        real(target, key, data, sha256)

    monkeypatch.setattr(backup_module, "restore_object", hooked)
    return calls


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_number_asked_while_the_restore_copies_is_refused(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, keys = make_store(backend, tmp_path, "m69copy"), LocalStore(tmp_path / "keys")
    running = new_repository(store, keys)  # kho web, a worker: started before the restore
    assert _number(_registered(running, 1)) == 1  # caches 02
    assert [_number(_registered(new_repository(store, keys), n)) for n in (2, 3)] == [2, 3]
    copy = make_store(backend, tmp_path, "m69copy-copy")
    backup(store, copy, label="store")
    asked: list[str] = []

    def ask() -> None:
        before = _keys(store)
        with pytest.raises(KhoError) as refused:
            _registered(running, 9)  # its register, cached next number
        _refused_restoring(refused)
        with pytest.raises(KhoError) as first:  # a register no store holds yet (hành chính)
            running.create_document("di", outgoing(), None, None, CLERK)
        _refused_restoring(first)
        with pytest.raises(KhoError) as fresh:  # a process started during the restore
            _registered(new_repository(store, keys), 10)
        _refused_restoring(fresh)
        assert sorted(set(_keys(store)) - set(before)) == []  # nothing written by the refusals
        asked.append("yes")

    _hook_copy(monkeypatch, 2, ask)
    restore(copy, store, force=True)
    assert asked == ["yes"]
    assert MARKER not in _keys(store)  # removed as the restore's last step
    assert _number(_registered(running, 4)) == 4  # then on from the restored entries
    assert _number(running.create_document("di", outgoing(), None, None, CLERK)) == 1
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]


def test_the_marker_is_read_at_most_once_an_interval(tmp_path: Path) -> None:
    """The cost: numbers within the interval read no marker (one read per interval and process,
    none per number); once the marker was seen, every number reads it until it is gone."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    now = [1000.0]
    repo.registers.clock = lambda: now[0]  # type: ignore[method-assign]
    reads: list[str] = []
    real_get = store.get

    def get(key: str, *args: Any, **kwargs: Any) -> bytes:
        if key == MARKER:
            reads.append(key)
        return real_get(key, *args, **kwargs)

    store.get = get  # type: ignore[method-assign]
    _registered(repo, 1)
    assert len(reads) == 1
    for n in range(2, 5):
        now[0] += 0.125
        _registered(repo, n)
    assert len(reads) == 1  # within the interval: no read
    store.put(MARKER, json.dumps({"format_version": 1, "backup_id": "b"}).encode())
    now[0] += 1.0
    for _ in range(2):
        with pytest.raises(KhoError) as refused:
            _registered(repo, 9)
        _refused_restoring(refused)
    assert len(reads) == 3  # seen: read again at the next number, not trusted for an interval
    store.delete(MARKER)
    assert _number(_registered(repo, 5)) == 5  # gone: read once more, numbering resumes
    assert len(reads) == 4


def test_a_forged_marker_is_not_obeyed_and_fsck_names_it(tmp_path: Path) -> None:
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = Repository(store, keys, agency_id=AGENCY, master_key=MASTER)
    assert _number(_registered(repo, 1)) == 1
    # A writer of the store without KHO_MASTER_KEY: a marker with no seal, then one with a seal
    # made with another key. Neither stops numbering.
    forged = {"format_version": 1, "backup_id": "gia-mao", "started_at": "2026-12-08T00:00:00Z"}
    store.put(MARKER, json.dumps(forged).encode())
    fresh = Repository(store, keys, agency_id=AGENCY, master_key=MASTER)
    assert _number(_registered(fresh, 2)) == 2
    other = Sealer.from_master_key(b"x" * 32).seal("register-restoring", MARKER, forged)
    store.put(MARKER, json.dumps(other).encode())
    assert _number(_registered(Repository(store, keys, agency_id=AGENCY, master_key=MASTER), 3)) == 3
    report = fsck(Repository(store, keys, agency_id=AGENCY, master_key=MASTER), grace_seconds=0)
    assert _kinds(report) == [FORGED], [(i.kind, i.message) for i in report.issues]
    # A sealed one, bound to its key, is obeyed.
    sealed = Sealer.from_master_key(MASTER).seal("register-restoring", MARKER, forged)
    store.put(MARKER, json.dumps(sealed).encode())
    with pytest.raises(KhoError) as refused:
        _registered(Repository(store, keys, agency_id=AGENCY, master_key=MASTER), 4)
    _refused_restoring(refused)
    # ... and not when moved to another key's seal (bound to the marker's key).
    moved = Sealer.from_master_key(MASTER).seal("register-restoring", "registers-floor/x.json", forged)
    store.put(MARKER, json.dumps(moved).encode())
    assert _number(_registered(Repository(store, keys, agency_id=AGENCY, master_key=MASTER), 4)) == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_restore_is_reported_and_cleared_by_running_it_again(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, keys = make_store(backend, tmp_path, "m69kill"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    assert [_number(_registered(repo, n)) for n in (1, 2, 3)] == [1, 2, 3]
    copy = make_store(backend, tmp_path, "m69kill-copy")
    backup(store, copy, label="store")
    origin = store_hashes(store)
    store.put("x/after-backup.json", b"{}")  # written after the backup: the restore removes it

    def killed() -> None:
        raise KeyboardInterrupt  # the process killed half-way through the copy

    _hook_copy(monkeypatch, 3, killed)
    with pytest.raises(KeyboardInterrupt):
        restore(copy, store, force=True)
    monkeypatch.undo()
    assert MARKER in _keys(store)
    with pytest.raises(KhoError) as refused:  # half restored: no number
        _registered(new_repository(store, keys), 5)
    _refused_restoring(refused)
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert UNFINISHED in _kinds(report)
    [issue] = [i for i in report.issues if i.kind == UNFINISHED]
    assert issue.subject == MARKER and "chạy lại lệnh khôi phục" in issue.message

    restore(copy, store, force=True)  # the operator runs it again
    assert store_hashes(store) == origin  # byte for byte the backup, no marker left
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]
    assert _number(_registered(new_repository(store, keys), 6)) == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_never_copies_the_marker(backend: str, tmp_path: Path) -> None:
    """A backup taken while a restore runs (or after one was killed) would carry the marker into
    every store it is restored into, blocking numbering there for good."""
    store, keys = make_store(backend, tmp_path, "m69bk"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    _registered(repo, 1)
    store.put(MARKER, json.dumps({"format_version": 1, "backup_id": "b"}).encode())
    copy = make_store(backend, tmp_path, "m69bk-copy")
    done = backup(store, copy, label="store")
    manifest = read_manifest(copy, done.backup_id)
    assert MARKER not in {entry["key"] for entry in manifest["objects"]}
    fresh = make_store(backend, tmp_path, "m69bk-fresh")
    restore(copy, fresh)
    assert MARKER not in _keys(fresh)
    assert _number(_registered(new_repository(fresh, keys), 2)) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_record_created_while_the_copies_are_checked_is_removed(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forced restore checks every copy before it removes anything (a long read of the whole
    backup); a record created then, before the marker, was not in the store's first listing and
    survived the restore beside the copy. The store is listed again after the marker's wait."""
    store, keys = make_store(backend, tmp_path, "m69chk"), LocalStore(tmp_path / "keys")
    running = new_repository(store, keys)
    assert _number(_registered(running, 1)) == 1
    copy = make_store(backend, tmp_path, "m69chk-copy")
    backup(store, copy, label="store")
    origin = store_hashes(store)
    real_check = backup_module.check_copies
    made: list[int] = []

    def checking(*args: Any, **kwargs: Any) -> Any:
        made.append(_number(_registered(running, 2)))  # no marker yet: given
        return real_check(*args, **kwargs)

    monkeypatch.setattr(backup_module, "check_copies", checking)
    restore(copy, store, force=True)
    assert made == [2]
    assert store_hashes(store) == origin  # main: the record's objects and entry 02 stay
