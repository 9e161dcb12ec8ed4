"""rv63: a register floor (m64) from a crafted backup copy or planted in the store.

A restore writes a floor from the ``register:assign`` events of its copy; the allocator reads
it at the first number of a process. The events are the log's, which a writer of the store can
append to (a crafted copy holds whatever the store held when it was taken). Before rv63:

* an assign giving number 10**300 made the restore write a floor of 10**300, and every
  registration in that register failed for ever (STORE_UNAVAILABLE, the entry's file name too
  long); 10**9 made the register go on from 1,000,000,001 (entry keys hold 8 digits: past them
  the listing order the allocator reads is no longer the numbers' order);
* an assign naming an agency or a series that is no key part (``..``, ``../../x``) stopped the
  restore with a ValueError after every object was written and before the floors: the
  registers the copy's log had really moved got no floor, so their lost numbers were given again;
* a floor planted with such a number stopped the register the same way.

Real local store (the key checks are the local store's; the S3 gateway takes longer keys)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, incoming, make_store, new_repository

from repository.audit import EventDraft
from repository.fsck import fsck
from repository.records import Record, Repository, new_record_id
from repository.registers import LostNumber, RegisterFloor, floor_key
from repository.storage.local import LocalStore
from retention.backup import backup, restore

ASSIGN = "register:assign"


def _registered(repo: Repository, n: int) -> Record:
    record = repo.create_document("den", incoming(code_number=str(100 + n)), None, None, CLERK)
    assert record.registration is not None
    return record


def _assign(repo: Repository, details: dict[str, Any]) -> str:
    ghost = new_record_id()
    repo.audit.append_many(
        [
            EventDraft("vanthu.nguyen", "record:create", record_id=ghost, version=1, details={"kind": "den"}),
            EventDraft("vanthu.nguyen", ASSIGN, record_id=ghost, version=1, details=details),
        ]
    )
    return ghost


def _restored(repo: Repository, tmp_path: Path) -> tuple[LocalStore, Any]:
    copy = LocalStore(tmp_path / "copy")
    backup(repo.store, copy, label="store")
    again = LocalStore(tmp_path / "again")
    return again, restore(copy, again)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("number", [10**9, 10**300, 10**1100], ids=["1e9", "1e300", "1e1100"])
def test_a_copy_whose_log_gives_an_absurd_number_moves_no_register(
    tmp_path: Path, number: int, backend: str
) -> None:
    """On the Ceph gateway too (its keys are longer than a file name: before rv63 the restore
    wrote the floor there for each of the three numbers as well)."""
    store, keys = make_store(backend, tmp_path, "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    _assign(repo, {"series": "den", "year": year, "number": number, "organ_id": AGENCY})
    copy = make_store(backend, tmp_path, "copy")
    backup(repo.store, copy, label="store")
    again = make_store(backend, tmp_path, "again")
    done = restore(copy, again)
    assert not again.exists(floor_key(AGENCY, year, "den"))
    assert done.floors == ()
    assert _registered(new_repository(again, keys), 1).registration.number == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "crafted",
    [{"organ_id": ".."}, {"series": "../../x"}, {"series": "den/../den"}, {"year": 10**40}, {"year": -3}],
    ids=["organ-dotdot", "series-up", "series-dots", "year-huge", "year-negative"],
)
def test_a_copy_whose_log_names_no_register_still_restores_the_floors_it_needs(
    tmp_path: Path, crafted: dict[str, Any]
) -> None:
    """The crafted event moves nothing, and the register the log really moved still gets its
    floor: the next number is past the lost one."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    ghost = _assign(repo, {"series": "den", "year": year, "number": 2, "organ_id": AGENCY})
    _assign(repo, {"series": "den", "year": year, "number": 7, "organ_id": AGENCY, **crafted})
    again, done = _restored(repo, tmp_path)
    [floor] = done.floors
    assert (floor.key, floor.number) == (floor_key(AGENCY, year, "den"), 2)
    assert [x.record_id for x in floor.lost] == [ghost]
    assert [info.key for info in again.list("registers-floor/")] == [floor.key]
    assert _registered(new_repository(again, keys), 1).registration.number == 3  # type: ignore[union-attr]


@pytest.mark.parametrize("number", [10**9, 10**300], ids=["1e9", "1e300"])
def test_a_planted_floor_with_an_absurd_number_neither_stops_nor_moves_the_register(
    tmp_path: Path, number: int
) -> None:
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    planted = RegisterFloor(AGENCY, year, "den", number, (LostNumber(number, "x" * 24, 9),))
    store.put(planted.key, planted.to_json())
    assert _registered(new_repository(store, keys), 1).registration.number == 2  # type: ignore[union-attr]
    [issue] = fsck(new_repository(store, keys), grace_seconds=0).issues
    assert (issue.kind, issue.subject) == ("format", planted.key)
    assert not issue.repairable


@pytest.mark.parametrize("seal", ["none", "copied"])
def test_an_assign_forged_into_the_store_without_the_master_key_moves_no_register_on_restore(
    tmp_path: Path, seal: str
) -> None:
    """One who writes the store but holds no KHO_MASTER_KEY appends a ``register:assign`` of
    number 40, chained and witnessed (no seal, or another event's). Backed up and restored with
    the installation's key (as ``kho restore`` does), it moved the register to 41 before rv63:
    the restore read every event of the copy, where fsck reads only those whose seal checks.
    The number the log really gave (sealed) still moves it."""
    from audit_tamper import append_forged

    from repository.seals import Sealer

    master = b"k" * 32
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = Repository(store, keys, agency_id=AGENCY, master_key=master)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    ghost = _assign(repo, {"series": "den", "year": year, "number": 2, "organ_id": AGENCY})
    copied = list(repo.audit.events())[-1].seal if seal == "copied" else None
    assert seal == "none" or copied is not None
    details = {"series": "den", "year": year, "number": 40, "organ_id": AGENCY}
    append_forged(store, {"actor": "vanthu.nguyen", "action": ASSIGN, "record_id": new_record_id(),
                          "version": 1, "details": details}, seal=copied)
    sealer = Sealer.from_master_key(master)
    copy = LocalStore(tmp_path / "copy")
    backup(store, copy, label="store", sealer=sealer)
    again = LocalStore(tmp_path / "again")
    done = restore(copy, again, label="store", sealer=sealer)
    [floor] = done.floors
    assert (floor.number, [x.record_id for x in floor.lost]) == (2, [ghost])
    restored = Repository(again, keys, agency_id=AGENCY, master_key=master)
    assert _registered(restored, 1).registration.number == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "lost",
    [
        '[{"number": 1e400, "record_id": "x", "seq": 9}]',
        '[{"number": 5, "record_id": "x", "seq": 1e400}]',
        '[{"number": true, "record_id": "x", "seq": 9}]',
        '[{"number": 5.5, "record_id": "x", "seq": 9}]',
        '[{"number": 5, "record_id": 7, "seq": 9}]',
    ],
    ids=["number-inf", "seq-inf", "number-bool", "number-float", "record-not-text"],
)
def test_a_planted_floor_whose_lost_numbers_are_not_whole_numbers_does_not_stop_the_register(
    tmp_path: Path, lost: str
) -> None:
    """A lost number of 1e400 (JSON reads it as infinity) raised OverflowError out of the floor's
    reader: every registration in the register failed with a traceback (the allocator reads the
    floor at a process's first number). A true, 5.5 or a record id 7 were taken as 1, 5, "7"."""
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = new_repository(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    body = RegisterFloor(AGENCY, year, "den", 5, (LostNumber(5, "x", 9),)).to_json().decode()
    head, _, tail = body.partition('"lost":')
    crafted = head + '"lost":' + lost + tail[tail.index("]") + 1:]
    store.put(floor_key(AGENCY, year, "den"), crafted.encode())
    assert _registered(new_repository(store, keys), 1).registration.number == 2  # type: ignore[union-attr]
    [issue] = fsck(new_repository(store, keys), grace_seconds=0).issues
    assert (issue.kind, issue.subject) == ("format", floor_key(AGENCY, year, "den"))


def _sealed_repo(store: LocalStore, keys: LocalStore) -> Repository:
    return Repository(store, keys, agency_id=AGENCY, master_key=b"k" * 32)


@pytest.mark.parametrize("seal", ["none", "copied"])
def test_a_floor_planted_without_the_master_key_does_not_hide_a_deleted_document(
    tmp_path: Path, seal: str
) -> None:
    """One who writes the store without KHO_MASTER_KEY deletes document 02 (its record, catalog
    entry and register entry) and plants a floor naming 02 with the record and the seq of its
    real, sealed ``register:assign``. Before rv63 fsck read the floor as a restore's: the gap
    became a note ("given before the backup, not in the copy") and no issue named it. A floor a
    restore writes with the key carries a seal bound to its key; one whose seal does not check
    (none, or another floor's) explains nothing."""
    from repository.registers import entry_key

    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = _sealed_repo(store, keys)
    records = [_registered(repo, n) for n in range(3)]
    victim = records[1]
    year = victim.registration.year  # type: ignore[union-attr]
    [given] = [e for e in repo.audit.events() if e.action == ASSIGN and e.record_id == victim.record_id]
    for info in list(store.list("")):
        if victim.record_id in info.key:
            store.delete(info.key)
    store.delete(entry_key(AGENCY, year, "den", 2))
    planted = RegisterFloor(AGENCY, year, "den", 2, (LostNumber(2, victim.record_id, given.seq),))
    body = planted.to_json()
    if seal == "copied":  # the seal of a floor a restore wrote, for another register
        other = RegisterFloor(AGENCY, year, "hanh-chinh", 2, planted.lost)
        from repository.seals import Sealer

        sealer = Sealer.from_master_key(b"k" * 32)
        sealed = sealer.seal("register-floor", other.key, json.loads(other.to_json()))
        body = json.dumps({**json.loads(body), "seal": sealed["seal"]}).encode()
    store.put(planted.key, body)
    report = fsck(_sealed_repo(store, keys), grace_seconds=0)
    kinds = {i.kind: i for i in report.issues}
    assert "register-gap" in kinds and "02" in kinds["register-gap"].message
    assert kinds["register-floor-unexplained"].subject == planted.key
    assert not kinds["register-floor-unexplained"].repairable
    assert [n.kind for n in report.notes] == []


def test_a_floor_a_restore_wrote_with_the_key_is_sealed_and_explains_its_numbers(tmp_path: Path) -> None:
    """The guard of the test above: the floor ``restore(sealer=)`` writes checks, the numbers it
    names are a note and no issue, and the register goes on past them."""
    from repository.seals import Sealer

    master = b"k" * 32
    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = _sealed_repo(store, keys)
    year = _registered(repo, 0).registration.year  # type: ignore[union-attr]
    _assign(repo, {"series": "den", "year": year, "number": 2, "organ_id": AGENCY})
    sealer = Sealer.from_master_key(master)
    copy = LocalStore(tmp_path / "copy")
    backup(store, copy, label="store", sealer=sealer)
    again = LocalStore(tmp_path / "again")
    restore(copy, again, label="store", sealer=sealer)
    report = fsck(_sealed_repo(again, keys), grace_seconds=0)
    assert [i.kind for i in report.issues] == []
    assert [n.kind for n in report.notes] == ["register-numbers-lost-in-backup"]
    assert _registered(_sealed_repo(again, keys), 1).registration.number == 3  # type: ignore[union-attr]
