"""m61: a number given twice in one register is never silent.

Session 49's probe (``bench/m60_event_before_entry.py``) left, with main's code, a log holding
``register:assign`` 2 twice — for a record a killed writer never committed and for the next
writer's, which took the dead claim over — and both ``kho fsck`` and ``audit verify`` said
clean. ``kho fsck`` now reports ``register-number-reused`` (the register, the number, the
records, and when a record the store does not hold is one of them), never repaired; an event
before m61 names no agency, and in a store of several agencies one naming a record the store
does not hold is ``register-assign-orphan`` when another record holds its number. A register
is (agency, year, series): units share their agency's, a year starts its own, and two agencies
in one store each have theirs, so the same number in two of them is clean. Written with literal
finding names (not imported) so that each test fails on main by its assertions."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kho_testing import (
    AGENCY,
    BACKENDS,
    CLERK,
    ManualClock,
    exit_code_in_child,
    make_store,
    new_repository,
    outgoing,
    person,
)

from repository.audit import EventDraft
from repository.fsck import FsckReport, fsck
from repository.policy import Role
from repository.records import Record, Repository, new_record_id
from repository.registers import entry_key, register_prefix
from repository.storage.base import ObjectStore
from repository.storage.group import write_group
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

SERIES = "hanh-chinh"
REUSED = "register-number-reused"
ORPHAN = "register-assign-orphan"
OTHER_AGENCY = "000.00.19.H41"
OTHER_NAME = "Ủy ban nhân dân tỉnh Thử Nghiệm"


def _assign(record_id: str, year: int, number: int, *, organ: str | None) -> EventDraft:
    """A ``register:assign`` as Kho writes it (``organ`` None: as main and every Kho before m61)."""
    details: dict[str, Any] = {"series": SERIES, "year": year, "number": number}
    if organ is not None:
        details["organ_id"] = organ
    return EventDraft("vanthu.nguyen", "register:assign", record_id=record_id, version=1, details=details)


def _dies_after_its_events(store: ObjectStore, keys: ObjectStore, year: int, organ: str | None) -> None:
    """The child (m60's probe): claims number 2 (S3: its claim; the local store has none), writes
    its record's marker and key, appends the act's events and dies before the entry's data."""
    repo = new_repository(store, keys)
    record_id = new_record_id()
    if isinstance(store, S3Store):
        assert store.claim_ahead(entry_key(repo.agency_id, year, SERIES, 2))
    prefix = register_prefix(repo.agency_id, year, SERIES)
    write_group([repo._marker_object(record_id, "di", prefix), repo.keys.new_object(record_id)])
    repo.audit.append_many(
        [
            EventDraft("vanthu.nguyen", "record:create", record_id=record_id, details={"kind": "di"}),
            _assign(record_id, year, 2, organ=organ),
        ]
    )
    os._exit(137)  # no cleanup, as SIGKILL: the entry is never written


def _found(report: FsckReport, kind: str) -> list[Any]:
    return [i for i in report.issues if i.kind == kind]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("organ", [None, AGENCY], ids=["event-before-m61", "event-naming-its-agency"])
def test_a_writer_killed_after_its_events_and_before_its_entry_leaves_a_number_given_twice(
    backend: str, organ: str | None, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "m61kill"), LocalStore(tmp_path / "keys")
    first = new_repository(store, keys).create_document("di", outgoing(), None, None, CLERK)
    assert first.registration is not None
    year = first.registration.year
    assert exit_code_in_child(lambda: _dies_after_its_events(store, keys, year, organ)) == 137
    dead = next(e.record_id for e in new_repository(store, keys).audit.events() if e.seq == 3)
    # Alone, an assign of a record the store does not hold is what a backup cut holds too: not
    # a finding (the record itself is fsck's ``uncommitted``, as on main).
    assert [(i.kind, i.subject) for i in fsck(new_repository(store, keys), grace_seconds=0).issues] == [
        ("uncommitted", dead)
    ]
    taker = new_repository(store, keys).create_document("di", outgoing(), None, None, CLERK)
    assert taker.registration is not None and taker.registration.number == 2  # the state of m60

    repaired = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert [i.subject for i in _found(repaired, "uncommitted")] == [dead]  # removed, as on main
    checked = fsck(new_repository(store, keys), grace_seconds=0)
    [reused] = checked.issues  # main: clean
    assert reused.subject == entry_key(AGENCY, year, SERIES, 2)
    assert not reused.repairable and not reused.repaired
    assert sorted(reused.details["records"]) == sorted([dead, taker.record_id])
    assert reused.details["entry_record"] == taker.record_id
    assert reused.details["missing"] == [dead]
    assert [e["record_id"] for e in reused.details["events"]] == [dead, taker.record_id]
    assert reused.details["number"] == 2 and reused.details["organ_id"] == AGENCY
    named = ("Số 02", "Sổ văn bản hành chính (hanh-chinh)", f"năm {year}", AGENCY, dead, taker.record_id)
    assert all(words in reused.message for words in named), reused.message
    assert reused.kind == REUSED and "văn bản không có trong kho" in reused.message
    again = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert [(i.kind, i.repaired) for i in again.issues] == [(REUSED, False)]  # stays


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("organ", [None, AGENCY], ids=["event-before-m61", "event-naming-its-agency"])
def test_a_second_sealed_assign_appended_by_hand_is_reported(
    backend: str, organ: str | None, tmp_path: Path
) -> None:
    """One who can write the store (or a bug) appends a sealed ``register:assign`` giving record
    Y the number of record X: the chain verifies, and fsck names the number and both records."""
    repo = Repository(
        make_store(backend, tmp_path, "m61hand"),
        LocalStore(tmp_path / "keys"),
        agency_id=AGENCY,
        master_key=b"k" * 32,
    )
    x = repo.create_document("di", outgoing(), None, None, CLERK)
    y = repo.create_document("di", outgoing(), None, None, CLERK)
    assert x.registration is not None and y.registration is not None
    assert fsck(repo, grace_seconds=0).clean
    repo.audit.append_many([_assign(y.record_id, x.registration.year, x.registration.number, organ=organ)])
    assert repo.audit.verify().ok  # the log verifies: the finding is fsck's
    [reused] = fsck(repo, grace_seconds=0).issues
    assert reused.kind == REUSED and reused.subject == entry_key(AGENCY, x.registration.year, SERIES, 1)
    assert reused.details["records"] == sorted([x.record_id, y.record_id])
    assert reused.details["entry_record"] == x.record_id and reused.details["missing"] == []


def test_the_assign_event_names_its_agency(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    record = repo.create_document("di", outgoing(), None, None, CLERK)
    assert record.registration is not None
    [assign] = [e for e in repo.audit.events() if e.action == "register:assign"]
    year = record.registration.year
    assert assign.details == {"series": SERIES, "year": year, "number": 1, "organ_id": AGENCY}


def _registered(repo: Repository, actor: Any = CLERK, **metadata: Any) -> Record:
    record = repo.create_document("di", outgoing(**metadata), None, None, actor)
    assert record.registration is not None
    return record


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_agencies_in_one_store_each_give_their_number_one(backend: str, tmp_path: Path) -> None:
    store, keys = make_store(backend, tmp_path, "m61two"), LocalStore(tmp_path / "keys")
    ours = new_repository(store, keys)
    theirs = Repository(store, keys, agency_id=OTHER_AGENCY, agency_name=OTHER_NAME)
    a = _registered(ours)
    b = _registered(theirs, organ_name=OTHER_NAME)
    assert a.registration and b.registration
    assert (a.registration.number, b.registration.number) == (1, 1)
    assert (a.registration.organ_id, b.registration.organ_id) == (AGENCY, OTHER_AGENCY)
    assert fsck(ours, grace_seconds=0).clean
    # Events written before m61 name no agency: each is placed by its record's register entry.
    year = a.registration.year
    ours.audit.append_many([_assign(r.record_id, year, 1, organ=None) for r in (a, b)])
    assert fsck(ours, grace_seconds=0).clean
    # One naming a record that does not exist, in a store of two agencies: which register it
    # meant is unknown. A number no register gives is no finding (a backup cut's state) ...
    ghost = new_record_id()
    ours.audit.append_many([_assign(ghost, year, 5, organ=None)])
    assert fsck(ours, grace_seconds=0).clean
    # ... and number 1, which both registers give, is named as such, never as either agency's.
    ours.audit.append_many([_assign(ghost, year, 1, organ=None)])
    [orphan] = fsck(ours, grace_seconds=0).issues
    assert orphan.kind == ORPHAN and orphan.details["record_id"] == ghost and not orphan.repairable
    holders = [(h["organ_id"], h["record_id"]) for h in orphan.details["holders"]]
    assert sorted(holders) == sorted([(AGENCY, a.record_id), (OTHER_AGENCY, b.record_id)])
    assert "không ghi mã cơ quan" in orphan.message and "số 01" in orphan.message
    # Naming its agency, it is matched: the other agency's number 1 is not involved.
    ours.audit.append_many([_assign(ghost, year, 1, organ=OTHER_AGENCY)])
    found = fsck(ours, grace_seconds=0)
    [reused] = _found(found, REUSED)
    assert reused.subject == entry_key(OTHER_AGENCY, year, SERIES, 1)
    assert reused.details["records"] == sorted([b.record_id, ghost])


def test_two_units_of_one_agency_share_its_register(tmp_path: Path) -> None:
    """Units number in their agency's register: two units' documents take 1 and 2 (clean); the
    same number given to a document of each unit is a number given twice."""
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    unit_a, unit_b = f"{AGENCY}.01", f"{AGENCY}.02"
    clerk_a = person("vanthu.a", (unit_a, Role.VAN_THU), clearance=3)
    clerk_b = person("vanthu.b", (unit_b, Role.VAN_THU), clearance=3)
    a = _registered(repo, clerk_a)
    b = _registered(repo, clerk_b)
    assert a.registration and b.registration
    assert (a.unit, b.unit) == (unit_a, unit_b)
    assert (a.registration.number, b.registration.number) == (1, 2)
    assert fsck(repo, grace_seconds=0).clean
    repo.audit.append_many([_assign(b.record_id, b.registration.year, 1, organ=AGENCY)])
    [reused] = fsck(repo, grace_seconds=0).issues
    assert reused.kind == REUSED and reused.details["records"] == sorted([a.record_id, b.record_id])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_year_starts_its_own_register(backend: str, tmp_path: Path) -> None:
    """23:59 on 31 December and 00:01 on 1 January (Vietnam time) each take number 1."""
    clock = ManualClock(datetime(2026, 12, 31, 16, 59, tzinfo=UTC))  # 23:59 in Vietnam
    repo = new_repository(make_store(backend, tmp_path, "m61year"), LocalStore(tmp_path / "keys"), clock)
    old = _registered(repo)
    clock.advance(minutes=2)  # 00:01 on 1 January 2027 in Vietnam, still 2026 in UTC
    new = _registered(repo)
    assert old.registration and new.registration
    assert [(r.registration.year, r.registration.number) for r in (old, new)] == [(2026, 1), (2027, 1)]  # type: ignore[union-attr]
    assert fsck(repo, grace_seconds=0).clean
    repo.audit.append_many([_assign(new.record_id, 2026, 1, organ=None)])  # 2027's given 2026's 1
    [reused] = fsck(repo, grace_seconds=0).issues
    assert reused.kind == REUSED and reused.subject == entry_key(AGENCY, 2026, SERIES, 1)


def _dies_before_its_events(base: Path) -> None:
    """The child: a creation whose store write of its audit events kills it (its entry, the
    commit point, is written: the register holds the number, the log does not)."""

    class Dying(LocalStore):
        def put_if_absent(self, key: str, data: bytes) -> Any:
            if key.startswith("audit/events/"):
                os._exit(137)
            return super().put_if_absent(key, data)

    repo = new_repository(Dying(base / "s"), LocalStore(base / "k"))
    repo.create_document("di", outgoing(), None, None, CLERK)


def test_an_entry_whose_number_no_event_gives_is_reported_by_step_9_and_counted(tmp_path: Path) -> None:
    """An entry without its ``register:assign`` (a writer killed between the entry and its
    events) was already fsck's ``unaudited`` (its creation event restored as
    ``record:recovered``): no new finding for it. Its number still counts as given: the log
    then giving it to another record is a number given twice."""
    store, keys = LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")
    repo = new_repository(store, keys)
    _registered(repo)
    assert exit_code_in_child(lambda: _dies_before_its_events(tmp_path)) == 137
    [entry] = [e for e in repo.registers.all_entries() if e.number == 2]
    assert not [e for e in repo.audit.events() if e.record_id == entry.record_id]
    repaired = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert [(i.kind, i.subject) for i in repaired.issues if not i.kind.startswith("rolled")] == [
        ("unaudited", entry.record_id)
    ]
    after = new_repository(store, keys)
    assert fsck(after, grace_seconds=0).clean
    other = _registered(after)
    after.audit.append_many([_assign(other.record_id, entry.year, 2, organ=AGENCY)])
    [reused] = fsck(after, grace_seconds=0).issues
    assert reused.kind == REUSED and reused.details["entry_record"] == entry.record_id
    assert reused.details["records"] == sorted([entry.record_id, other.record_id])
    assert "mục sổ đăng ký" in reused.message and "#" in reused.message
