"""m64: a number the audit log shows given is never given again after a restore.

A backup taken while records are written can hold the ``register:assign`` events of records it
does not copy (the cut falls between the log's write and the record's entry: NOTES-m61 section
6, ``bench/m61_backup_cut_numbers.py``). Restored and written to, the next document took one of
those numbers again: a số given twice (NĐ 30/2020/NĐ-CP). The state is built here without
timing: a register whose entries stop at N and a log that gives N+1 … N+k to records the store
does not hold. Backed up, restored: the next number is N+k+1, fsck names no number given twice
and says, as a note, why N+1 … N+k are missing. Registers of another agency, another series and
the one-agency log before m61 (events naming no agency) are checked too. Finding and note names
are literal (not imported) so that each test fails on the code before m64 by its assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, incoming, make_store, new_repository, outgoing

from repository.audit import EventDraft
from repository.fsck import FsckReport, fsck
from repository.records import Record, Repository, new_record_id
from repository.registers import LostNumber, RegisterFloor
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, restore

ASSIGN = "register:assign"
KIND = {"kind": "den"}
REUSED = "register-number-reused"
LOST = "register-numbers-lost-in-backup"
SAID = "số đã cấp trước khi sao lưu, văn bản không có trong bản sao"
OTHER_AGENCY = "000.00.19.H41"
OTHER_NAME = "Ủy ban nhân dân tỉnh Thử Nghiệm"


def _registered(repo: Repository, n: int, **overrides: Any) -> Record:
    record = repo.create_document("den", incoming(code_number=str(100 + n), **overrides), None, None, CLERK)
    assert record.registration is not None
    return record


def _cut(repo: Repository, year: int, numbers: range, *, organ: str | None) -> list[str]:
    """What a backup cut copies of records written while it ran: each record's creation event and
    its ``register:assign`` (``organ`` None: as every Kho before m61 wrote it), not its entry nor
    anything else of it."""
    ghosts = []
    for number in numbers:
        ghost = new_record_id()
        details: dict[str, Any] = {"series": "den", "year": year, "number": number}
        if organ is not None:
            details["organ_id"] = organ
        repo.audit.append_many(
            [
                EventDraft("vanthu.nguyen", "record:create", record_id=ghost, version=1, details=KIND),
                EventDraft("vanthu.nguyen", ASSIGN, record_id=ghost, version=1, details=details),
            ]
        )
        ghosts.append(ghost)
    return ghosts


def _backed_up_and_restored(
    repo: Repository, backend: str, tmp_path: Path, name: str
) -> tuple[ObjectStore, ObjectStore, Any]:
    copy, key_copy = make_store(backend, tmp_path, f"{name}-copy"), LocalStore(tmp_path / f"{name}-copy-keys")
    made = backup(repo.store, copy, label="store")
    backup(repo.keys.store, key_copy, label="keys", records=made.records)
    store, keys = make_store(backend, tmp_path, f"{name}-again"), LocalStore(tmp_path / f"{name}-again-keys")
    done = restore(copy, store)
    restore(key_copy, keys)
    return store, keys, done


def _kinds(report: FsckReport) -> list[str]:
    return [i.kind for i in report.issues]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("organ", [AGENCY, None], ids=["event-naming-its-agency", "event-before-m61"])
def test_after_a_restore_the_next_number_is_past_every_number_the_log_gave(
    backend: str, organ: str | None, tmp_path: Path
) -> None:
    repo = new_repository(make_store(backend, tmp_path, "m64cut"), LocalStore(tmp_path / "keys"))
    first = [_registered(repo, n) for n in range(3)]
    year = first[0].registration.year  # type: ignore[union-attr]
    ghosts = _cut(repo, year, range(4, 7), organ=organ)  # entries stop at 03; the log gives 04–06
    store, keys, done = _backed_up_and_restored(repo, backend, tmp_path, "m64")
    assert fsck(new_repository(store, keys), grace_seconds=0).clean

    again = new_repository(store, keys)
    taken = _registered(again, 7)
    assert taken.registration is not None and taken.registration.number == 7  # before m64: 04
    moved = [(f.organ_id, f.series, f.numbers(), f.number) for f in done.floors]
    assert moved == [(AGENCY, "den", [4, 5, 6], 6)]
    assert _registered(new_repository(store, keys), 8).registration.number == 8  # type: ignore[union-attr]

    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert REUSED not in _kinds(report) and "register-gap" not in _kinds(report)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]
    [note] = report.notes
    assert note.kind == LOST and not note.repairable
    assert SAID in note.message and "04–06" in note.message and "số 07" in note.message
    assert all(ghost in note.message for ghost in ghosts)
    assert note.details["numbers"] == [4, 5, 6] and note.details["next"] == 7
    assert [r["record_id"] for r in note.details["records"]] == ghosts
    assert note.details["backup_id"] == done.backup_id


def test_another_agency_and_another_series_keep_their_numbers(tmp_path: Path) -> None:
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    ours = new_repository(store, keys)
    theirs = Repository(store, keys, agency_id=OTHER_AGENCY, agency_name=OTHER_NAME)
    mine = [_registered(ours, n) for n in range(2)]
    [_registered(theirs, 10 + n, to_places=OTHER_NAME) for n in range(2)]
    year = mine[0].registration.year  # type: ignore[union-attr]
    _cut(ours, year, range(3, 5), organ=AGENCY)  # our đến register: entries stop at 02, log gives 03–04
    again, again_keys, done = _backed_up_and_restored(ours, "local", tmp_path, "m64two")

    ours_now = new_repository(again, again_keys)
    theirs_now = Repository(again, again_keys, agency_id=OTHER_AGENCY, agency_name=OTHER_NAME)
    assert _registered(ours_now, 20).registration.number == 5  # type: ignore[union-attr]
    assert [(f.organ_id, f.numbers()) for f in done.floors] == [(AGENCY, [3, 4])]
    assert _registered(theirs_now, 21, to_places=OTHER_NAME).registration.number == 3  # type: ignore[union-attr]
    going = ours_now.create_document("di", outgoing(), None, None, CLERK)  # hành chính: untouched
    assert going.registration is not None and going.registration.number == 1
    report = fsck(ours_now, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]
    said = [(n.kind, n.details["organ_id"], n.details["numbers"]) for n in report.notes]
    assert said == [(LOST, AGENCY, [3, 4])]


def test_a_second_cut_restored_keeps_the_first_restore_s_numbers(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    first_lost = _cut(repo, year, range(2, 4), organ=AGENCY)
    store, keys, _ = _backed_up_and_restored(repo, "local", tmp_path, "m64a")
    again = new_repository(store, keys)
    assert _registered(again, 1).registration.number == 4  # type: ignore[union-attr]
    second_lost = _cut(again, year, range(5, 6), organ=AGENCY)
    store, keys, done = _backed_up_and_restored(again, "local", tmp_path, "m64b")
    third = new_repository(store, keys)
    assert _registered(third, 2).registration.number == 6  # type: ignore[union-attr]
    [floor] = done.floors
    assert floor.numbers() == [2, 3, 5] and floor.number == 5
    assert [x.record_id for x in floor.lost] == [*first_lost, *second_lost]
    report = fsck(third, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject, i.message) for i in report.issues]
    [note] = report.notes
    assert note.details["numbers"] == [2, 3, 5] and "02–03, 05" in note.message


def test_a_restore_of_a_whole_copy_writes_no_floor(tmp_path: Path) -> None:
    """A copy whose log gives no number past its registers is restored byte for byte, nothing
    added: the next number is the one after the newest entry, as before. (A guard: it passes on
    the code before m64 too.)"""
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    [_registered(repo, n) for n in range(3)]
    store, keys, done = _backed_up_and_restored(repo, "local", tmp_path, "m64whole")
    assert getattr(done, "floors", ()) == ()
    assert not [info.key for info in store.list("registers-floor/")]
    assert _registered(new_repository(store, keys), 9).registration.number == 4  # type: ignore[union-attr]
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert report.clean and getattr(report, "notes", ()) == ()


def test_a_floor_the_log_does_not_back_is_named(tmp_path: Path) -> None:
    """A register floor written by hand (a store writer's, not a restore's) makes the register skip
    numbers the log never gave: fsck names it, never repairs it."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    [ghost] = _cut(repo, year, range(2, 3), organ=AGENCY)
    planted = RegisterFloor(AGENCY, year, "den", 50, (LostNumber(2, ghost, 3), LostNumber(40, "x" * 24, 9)))
    store.put(planted.key, planted.to_json())
    assert _registered(new_repository(store, keys), 1).registration.number == 51  # type: ignore[union-attr]
    report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    gap, issue = report.issues  # the numbers the log does not explain are a gap, as ever
    assert gap.kind == "register-gap" and gap.message.endswith("thiếu số 03–39, 41–50.")
    assert issue.kind == "register-floor-unexplained" and issue.subject == planted.key
    assert not issue.repairable and not issue.repaired
    assert issue.details["numbers"] == [40, 50] and "40, 50" in issue.message


def test_a_floor_at_another_register_s_key_is_named(tmp_path: Path) -> None:
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    [ghost] = _cut(repo, year, range(2, 3), organ=AGENCY)
    floor = RegisterFloor(AGENCY, year, "den", 2, (LostNumber(2, ghost, 3),))
    moved = floor.key.replace("/den.json", "/hanh-chinh.json")
    store.put(moved, floor.to_json())
    [issue] = fsck(new_repository(store, keys), grace_seconds=0).issues
    assert (issue.kind, issue.subject) == ("format", moved) and floor.key in issue.message
