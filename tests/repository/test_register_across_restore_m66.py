"""m66: a process running across ``restore --force`` never gives a lost number again.

Since m64 a restore writes a register floor (``registers-floor/<organ>/<year>/<series>.json``)
past every number its copy's audit log gives beyond the register's newest entry, and the
allocator reads it with the first number of a process in that register. A process already
running (kho web, a Celery worker) kept its cached next number across the restore and never
read the floor again: rv63 reproduced it (it took 04 after a restore whose floor is 05), and a
process whose cached number is already past the entries does not even collide. m66: a running
process reads its register's floor again when its last read is older than
``FLOOR_RECHECK_SECONDS`` (never more than once per interval and register: no request per
number on a busy register), and a restore that writes floors ends no sooner than that interval
after them, so every number asked once the restore has returned is past the floor.

Steps as rv63 wrote them, on the local store and the real Ceph gateway: a long-lived repository
takes 01, others take 02–03, the log gives 04–05 (a backup cut's records), backup, restore
``force=True`` over the same store (floor 05), the long-lived repository registers: 06; fsck
names no number given twice. Finding names are literal (not imported) so that each test fails
on the code before m66 by its assertions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, incoming, make_store, new_repository, outgoing

from kho.errors import StoreUnavailable
from repository.audit import EventDraft
from repository.fsck import FsckReport, fsck
from repository.records import Record, Repository, new_record_id
from repository.registers import RegisterFloor
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, restore

ASSIGN = "register:assign"
KIND = {"kind": "den"}
REUSED = "register-number-reused"
FLOOR = "registers-floor/"
OTHER_AGENCY = "000.00.19.H41"
OTHER_NAME = "Ủy ban nhân dân tỉnh Thử Nghiệm"
RECHECK_S = 1.0
"""``repository.registers.FLOOR_RECHECK_SECONDS`` (literal: the name does not exist before m66)."""
RESTORING_WAIT_S = RECHECK_S + 0.25
"""``repository.registers.RESTORING_WAIT_SECONDS`` (m69): a restore's wait after its marker."""


def _registered(repo: Repository, n: int, **overrides: Any) -> Record:
    record = repo.create_document("den", incoming(code_number=str(100 + n), **overrides), None, None, CLERK)
    assert record.registration is not None
    return record


def _number(record: Record) -> int:
    assert record.registration is not None
    return record.registration.number


def _cut(repo: Repository, year: int, numbers: range, organ: str) -> list[str]:
    """What a backup cut copies of records written while it ran (as in m64's tests): each
    record's creation event and its ``register:assign``, not its entry."""
    ghosts = []
    for number in numbers:
        ghost = new_record_id()
        details = {"organ_id": organ, "series": "den", "year": year, "number": number}
        repo.audit.append_many(
            [
                EventDraft("vanthu.nguyen", "record:create", record_id=ghost, version=1, details=KIND),
                EventDraft("vanthu.nguyen", ASSIGN, record_id=ghost, version=1, details=details),
            ]
        )
        ghosts.append(ghost)
    return ghosts


def _backed_up_and_restored_over(store: ObjectStore, backend: str, tmp_path: Path, name: str) -> Any:
    copy = make_store(backend, tmp_path, f"{name}-copy")
    backup(store, copy, label="store")
    return restore(copy, store, force=True)  # over the store the running processes write


def _kinds(report: FsckReport) -> list[str]:
    return [i.kind for i in report.issues]


def _clean(report: FsckReport) -> None:
    assert REUSED not in _kinds(report)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_process_running_across_a_forced_restore_numbers_past_the_floor(
    backend: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "m66run"), LocalStore(tmp_path / "keys")
    running = new_repository(store, keys)  # kho web, a worker: started before the restore
    year = _registered(running, 1).registration.year  # type: ignore[union-attr]  # 01; it caches 02
    others = new_repository(store, keys)
    assert [_number(_registered(others, n)) for n in (2, 3)] == [2, 3]
    ghosts = _cut(others, year, range(4, 6), AGENCY)  # the log gives 04–05, no entry

    done = _backed_up_and_restored_over(store, backend, tmp_path, "m66run")
    assert [(f.organ_id, f.numbers(), f.number) for f in done.floors] == [(AGENCY, [4, 5], 5)]

    # main: 04 (it collided on 02–03, listed the register and took one past its newest entry;
    # neither path read the floor), a number the restored log shows given to ghosts[0]
    assert _number(_registered(running, 6)) == 6
    assert _number(_registered(running, 7)) == 7  # then on from its own number, as before
    assert _number(_registered(new_repository(store, keys), 8)) == 8
    report = fsck(new_repository(store, keys), grace_seconds=0)
    _clean(report)
    [note] = report.notes  # 04–05 stay explained, not given
    assert note.details["numbers"] == [4, 5] and [r["record_id"] for r in note.details["records"]] == ghosts


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_process_already_past_the_entries_numbers_past_the_floor(backend: str, tmp_path: Path) -> None:
    """Its cached number is past the restored register's newest entry: it meets no entry, so no
    collision tells it anything (rv63: "does not even collide")."""
    store, keys = make_store(backend, tmp_path, "m66past"), LocalStore(tmp_path / "keys")
    running = new_repository(store, keys)
    year = _registered(running, 1).registration.year  # type: ignore[union-attr]
    others = new_repository(store, keys)
    [_registered(others, n) for n in (2, 3)]
    assert _number(_registered(running, 4)) == 4  # stepped past the others: it caches 05
    _cut(others, year, range(5, 7), AGENCY)  # the log gives 05–06, no entry

    done = _backed_up_and_restored_over(store, backend, tmp_path, "m66past")
    assert [(f.numbers(), f.number) for f in done.floors] == [([5, 6], 6)]

    assert _number(_registered(running, 7)) == 7  # main: 05, no collision at all
    _clean(fsck(new_repository(store, keys), grace_seconds=0))


def test_a_process_that_took_the_newest_entry_numbers_past_the_floor(tmp_path: Path) -> None:
    """Its cached number is one past the restored newest entry, its own: free, no collision."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    running = new_repository(store, keys)
    year = _registered(running, 1).registration.year  # type: ignore[union-attr]  # caches 02
    _cut(new_repository(store, keys), year, range(2, 4), AGENCY)  # the log gives 02–03
    done = _backed_up_and_restored_over(store, "local", tmp_path, "m66end")
    assert [f.numbers() for f in done.floors] == [[2, 3]]
    assert _number(_registered(running, 4)) == 4  # main: 02
    _clean(fsck(new_repository(store, keys), grace_seconds=0))


def test_each_agency_s_running_process_numbers_past_its_own_floor(tmp_path: Path) -> None:
    """Two agencies in one store, a process of each running across the restore: each reads its
    own register's floor; another series of ours, never cut, goes on from its entries."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    ours = new_repository(store, keys)
    theirs = Repository(store, keys, agency_id=OTHER_AGENCY, agency_name=OTHER_NAME)
    year = _registered(ours, 1).registration.year  # type: ignore[union-attr]
    assert _number(_registered(theirs, 11, to_places=OTHER_NAME)) == 1
    assert _number(ours.create_document("di", outgoing(), None, None, CLERK)) == 1  # hành chính
    ours_other = new_repository(store, keys)
    theirs_other = Repository(store, keys, agency_id=OTHER_AGENCY, agency_name=OTHER_NAME)
    assert _number(_registered(ours_other, 2)) == 2
    assert _number(_registered(theirs_other, 12, to_places=OTHER_NAME)) == 2
    _cut(ours_other, year, range(3, 5), AGENCY)  # ours: 03–04 given, no entry
    _cut(theirs_other, year, range(3, 4), OTHER_AGENCY)  # theirs: 03

    done = _backed_up_and_restored_over(store, "local", tmp_path, "m66two")
    floors = sorted((f.organ_id, f.numbers()) for f in done.floors)
    assert floors == [(AGENCY, [3, 4]), (OTHER_AGENCY, [3])]

    assert _number(_registered(ours, 5)) == 5  # main: 03
    assert _number(_registered(theirs, 14, to_places=OTHER_NAME)) == 4  # main: 03
    assert _number(ours.create_document("di", outgoing(), None, None, CLERK)) == 2  # untouched
    _clean(fsck(ours, grace_seconds=0))


def test_a_restore_that_writes_floors_ends_an_interval_after_them(tmp_path: Path) -> None:
    """What makes the above hold however fast the restore runs: a process re-reads its floor
    when its last read is older than the interval, so the restore returns no sooner than one
    interval after its last floor landed (a process that read before the floor was written
    reads again at its next number). A restore that writes no floor does not wait."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 1).registration.year  # type: ignore[union-attr]
    whole = LocalStore(tmp_path / "whole")
    backup(store, whole, label="store")
    _cut(repo, year, range(2, 3), AGENCY)
    copy = LocalStore(tmp_path / "copy")
    backup(store, copy, label="store")

    landed: list[float] = []
    real_put = store.put

    def put(key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        try:
            return real_put(key, data, *args, **kwargs)
        finally:
            if key.startswith(FLOOR):
                landed.append(time.monotonic())

    store.put = put  # type: ignore[method-assign]
    done = restore(copy, store, force=True)
    ended = time.monotonic()
    assert [f.numbers() for f in done.floors] == [[2]] and len(landed) == 1
    assert ended - landed[-1] >= RECHECK_S

    started = time.monotonic()
    quiet = restore(whole, LocalStore(tmp_path / "again"))
    # (a guard: no floor wait; since m69 every restore waits RESTORING_WAIT_S after its marker)
    assert quiet.floors == () and time.monotonic() - started < RESTORING_WAIT_S + RECHECK_S


def test_a_running_process_reads_its_floor_at_most_once_an_interval(tmp_path: Path) -> None:
    """The cost: numbers asked within the interval read no floor (a busy register pays one read
    per interval, not one per number); the first number after it reads it once."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    now = [1000.0]
    repo.registers.clock = lambda: now[0]  # type: ignore[attr-defined]
    reads: list[str] = []
    real_get = store.get

    def get(key: str, *args: Any, **kwargs: Any) -> bytes:
        if key.startswith(FLOOR):
            reads.append(key)
        return real_get(key, *args, **kwargs)

    store.get = get  # type: ignore[method-assign]
    _registered(repo, 1)
    assert len(reads) == 1  # the first number of the process: as since m64
    for n in range(2, 6):
        now[0] += RECHECK_S / 8
        _registered(repo, n)
    assert len(reads) == 1  # four numbers within the interval: no read
    now[0] += RECHECK_S
    assert _number(_registered(repo, 6)) == 6
    assert len(reads) == 2 and reads[0] == reads[1]  # main: 1 (never read again)


@pytest.mark.parametrize("running", [False, True], ids=["first-number", "running-process"])
def test_a_floor_that_cannot_be_read_is_never_taken_for_none(running: bool, tmp_path: Path) -> None:
    """The store does not answer the floor's read (not "no floor", not a damaged one): the number
    is refused with the store's own code, nothing taken, and the next try reads it. Main took 0
    for any error (m64) and gave 02, a number the restored log shows given."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    process = new_repository(store, keys)
    year = _registered(process, 1).registration.year  # type: ignore[union-attr]
    _cut(process, year, range(2, 4), AGENCY)
    _backed_up_and_restored_over(store, "local", tmp_path, "m66down")  # floor 03
    if not running:
        process = new_repository(store, keys)
    real_get = store.get
    down = [True]

    def get(key: str, *args: Any, **kwargs: Any) -> bytes:
        if key.startswith(FLOOR) and down[0]:
            down[0] = False
            raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")
        return real_get(key, *args, **kwargs)

    store.get = get  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable) as refused:
        _registered(process, 4)
    assert refused.value.code == "STORE_UNAVAILABLE" and not down[0]
    assert sorted(e.number for e in process.registers.entries(AGENCY, year, "den")) == [1]
    assert _number(_registered(process, 5)) == 4  # main: 02
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert REUSED not in _kinds(report)


def test_a_floor_put_back_from_the_copy_counts_as_one_written(tmp_path: Path) -> None:
    """The copy holds an earlier restore's floor and its log gives nothing past its entries (the
    register went on past the lost numbers after that restore): this restore computes no new
    floor, but the store it replaces may hold none (wiped, or the floor removed), so a process
    running on it may have read none. The restore waits as for a floor it writes."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    first = new_repository(store, keys)
    year = _registered(first, 1).registration.year  # type: ignore[union-attr]
    _cut(first, year, range(2, 4), AGENCY)  # 02–03 given, no entry
    c1, elsewhere = LocalStore(tmp_path / "c1"), LocalStore(tmp_path / "elsewhere")
    backup(store, c1, label="store")
    assert [f.numbers() for f in restore(c1, elsewhere).floors] == [[2, 3]]
    there = new_repository(elsewhere, keys)
    assert [_number(_registered(there, n)) for n in (4, 5)] == [4, 5]  # past the floor
    c2 = LocalStore(tmp_path / "c2")
    backup(elsewhere, c2, label="store")  # entries 01, 04, 05; the floor 02–03

    wiped = LocalStore(tmp_path / "wiped")
    started = time.monotonic()
    done = restore(c2, wiped)
    assert done.floors == () and time.monotonic() - started >= RECHECK_S  # main: no wait
    put_back = [f for _, f in new_repository(wiped, keys).registers.restored_floors()]
    assert [f.numbers() for f in put_back if isinstance(f, RegisterFloor)] == [[2, 3]]
