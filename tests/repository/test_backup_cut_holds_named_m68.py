"""m68: a backup taken under writes holds every record its copied audit log names.

The settle step of a backup (``retention.backup._settle``) waits for the pieces of records
committed during the walk and, while it waits, copies the log's new events; before m68 it never
looked at the registers again, so the copy held the ``register:assign`` and ``record:create``
events of records committed in that window without their entries, versions and markers: they
were lost from the backup (10–57 a run in ``bench/m61_backup_cut_numbers.py``), and the restore
skipped their numbers (m64's floor). The cut is built here without timing: the settle step's
catch-up listing passes ``audit/`` … ``records/`` (a record A commits meanwhile: its entry is
listed, its events and first version are not, so the settle loop waits for them) and, once it
has ended, three more records commit (their events reach the copy with A's). After the restore
every record the log names opens with its number, the register has no gap, no floor is written,
fsck --deep and audit verify are clean. A record the log names whose entry never landed (a
writer killed after its events, m61) is still left out, not waited for, and its number is
skipped by the floor (m64). A crafted assign naming a path as its agency or series makes the
backup read nothing outside the register entries."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kho_backup_cut import catch_up_cut
from kho_testing import AGENCY, BACKENDS, CLERK, checked_by_ingest, incoming, make_store, new_repository

import repository.records as records_module
from repository.audit import EventDraft
from repository.fsck import fsck
from repository.records import Actor, Record, Repository, new_record_id
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, read_manifest, restore

OPERATOR = Actor(user="operator", source="test", system=True)
NAMING = ("record:create", "register:assign")
SUBJECT = "Về việc sửa đổi quy chế (m68)"


def _content(n: int) -> bytes:
    return b"%PDF-1.4\n" + f"m68 record {n} ".encode() * 60


def _create(repo: Repository, n: int) -> Record:
    record = repo.create_document("den", incoming(code_number=str(n)), _content(n), f"cv{n}.pdf", CLERK)
    assert record.registration is not None
    return record


def _catch_up_cut(store: ObjectStore, between: Callable[[], None], after: Callable[[], None]) -> list[int]:
    """m68's cut: :func:`kho_backup_cut.catch_up_cut`."""
    return catch_up_cut(store, between, after)


def _ghost(repo: Repository, year: int, number: int) -> str:
    """A record whose act's events are in the log and whose entry never landed (m61's writer
    killed after its events): its marker and its two events, nothing else."""
    ghost = new_record_id()
    prefix = f"registers/{AGENCY}/{year}/den/"
    repo.store.put_if_absent(f"catalog/records/{ghost}", repo._marker_object(ghost, "den", prefix).data)
    details = {"organ_id": AGENCY, "series": "den", "year": year, "number": number}
    repo.audit.append_many(
        [
            EventDraft("vanthu.nguyen", "record:create", record_id=ghost, version=1, details={"kind": "den"}),
            EventDraft("vanthu.nguyen", "register:assign", record_id=ghost, version=1, details=details),
        ]
    )
    return ghost


@pytest.mark.parametrize("ghost", [False, True], ids=["all-landed", "one-entry-never-lands"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_records_committed_while_the_cut_settles_are_restored_whole_with_their_numbers(
    backend: str, ghost: bool, tmp_path: Path
) -> None:
    store = make_store(backend, tmp_path, "store")
    repo = new_repository(store, make_store(backend, tmp_path, "keys"))
    before = [_create(repo, n) for n in (1, 2, 3)]
    year = before[0].registration.year  # type: ignore[union-attr]
    during: list[Record] = []
    ghosts: list[str] = []

    def between() -> None:  # A: its entry is listed, its events and first version are not
        during.append(_create(repo, 4))

    def after() -> None:  # B1…B3 commit once the listing has passed registers/
        during.extend(_create(repo, n) for n in (5, 6, 7))
        if ghost:
            ghosts.append(_ghost(repo, year, 8))

    full = _catch_up_cut(store, between, after)
    copy, key_copy = make_store(backend, tmp_path, "b-store"), LocalStore(tmp_path / "b-keys")
    began = time.monotonic()
    made = backup(store, copy, label="store", settle_seconds=10)
    took = time.monotonic() - began
    del store.list  # the store's own listing again
    backup(repo.keys.store, key_copy, label="keys", records=made.records)
    assert full[0] >= 2 and len(during) == 4
    assert took < 10, took  # nothing was waited for until the settle deadline (the ghost's entry)

    fresh = new_repository(make_store(backend, tmp_path, "again"), LocalStore(tmp_path / "again-keys"))
    done = restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    assert fresh.audit.verify().ok
    events = [e for e in fresh.audit.events() if e.action in NAMING]
    named = {e.record_id for e in events}
    # The copy's log names B1…B3 (before m68 it did too: their numbers were skipped, m64).
    assert {r.record_id for r in during} <= named
    held = set(fresh.record_ids())
    assert named - set(ghosts) <= held, sorted(named - held)  # main: B1…B3 missing
    for record in [*before, *during]:
        assert record.record_id in made.records.record_ids
        opened = fresh.get(record.record_id, actor=CLERK)
        assert opened.registration is not None and record.registration is not None
        assert opened.registration.number == record.registration.number
        n = record.registration.number
        assert fresh.read_content(record.record_id, actor=CLERK)[1] == _content(n)
    numbers = [r.registration.number for r in fresh.register("den", year, actor=OPERATOR) if r.registration]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
    given = {e.details["number"]: e.record_id for e in events if e.action == "register:assign"}
    assert {n: given[n] for n in range(1, 8)} == {
        r.registration.number: r.record_id for r in [*before, *during] if r.registration
    }
    if not ghost:
        assert done.floors == ()  # no number the log gives is missing (main: 5–7 skipped)
        return
    # The record whose entry never landed is left out whole, as before; its number is skipped.
    [lost] = ghosts
    assert lost not in held
    assert not [e["key"] for e in read_manifest(copy)["objects"] if lost in e["key"]]
    assert [(f.series, f.numbers(), f.number) for f in done.floors] == [("den", [8], 8)]
    again = _create(fresh, 9)
    assert again.registration is not None and again.registration.number == 9


def test_a_crafted_assign_makes_the_cut_read_no_key_outside_the_register_entries(tmp_path: Path) -> None:
    """Whoever writes the store can append events: an assign whose agency or series is a path
    is not followed (the backup reads only register entry keys a Kho register can have), and
    the backup ends without an error."""
    store = LocalStore(tmp_path / "store")
    repo = new_repository(store, LocalStore(tmp_path / "keys"))
    first = _create(repo, 1)
    year = first.registration.year  # type: ignore[union-attr]
    crafted = [
        {"organ_id": "../../keys", "series": "den", "year": year, "number": 2},
        {"organ_id": AGENCY, "series": "den/../../../catalog", "year": year, "number": 3},
        {"organ_id": AGENCY, "series": "den", "year": year, "number": 10**12},
    ]
    for details in crafted:
        repo.audit.append(
            "vanthu.nguyen", "register:assign", record_id=new_record_id(), source="test", details=details
        )
    read: list[str] = []
    plain = store.get

    def get(key: str, **kwargs: Any) -> bytes:
        read.append(key)
        return plain(key, **kwargs)

    store.get = get  # type: ignore[method-assign]
    made = backup(store, LocalStore(tmp_path / "b-store"), label="store")
    listed = {info.key for info in LocalStore(tmp_path / "store").list("")}
    assert made.objects == len(listed)
    assert set(read) <= listed, sorted(set(read) - listed)  # nothing asked for that is not there


@pytest.mark.parametrize("backend", BACKENDS)
def test_records_committed_while_the_catch_up_listing_runs_are_in_the_copy(
    backend: str, tmp_path: Path
) -> None:
    """Nothing is missing after the catch-up listing, but two records committed while it ran
    (after it passed ``audit/`` and ``registers/``): the cut reads the log once more and holds
    them whole. Before m68 the settle loop ended at once and the copy held nothing of them,
    although they were committed before the backup ended."""
    store = make_store(backend, tmp_path, "store")
    repo = new_repository(store, make_store(backend, tmp_path, "keys"))
    before = [_create(repo, n) for n in (1, 2)]
    during: list[Record] = []
    _catch_up_cut(store, lambda: None, lambda: during.extend(_create(repo, n) for n in (3, 4)))
    copy, key_copy = make_store(backend, tmp_path, "b-store"), LocalStore(tmp_path / "b-keys")
    made = backup(store, copy, label="store")
    del store.list
    backup(repo.keys.store, key_copy, label="keys", records=made.records)

    fresh = new_repository(make_store(backend, tmp_path, "again"), LocalStore(tmp_path / "again-keys"))
    done = restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    assert fresh.audit.verify().ok and done.floors == ()
    assert set(fresh.record_ids()) == {r.record_id for r in [*before, *during]}  # main: 1 and 2 only
    for record in during:
        assert record.registration is not None
        n = record.registration.number
        assert fresh.get(record.record_id, actor=CLERK).registration.number == n  # type: ignore[union-attr]
        assert fresh.read_content(record.record_id, actor=CLERK)[1] == _content(n)
    year = before[0].registration.year  # type: ignore[union-attr]
    numbers = [r.registration.number for r in fresh.register("den", year, actor=OPERATOR) if r.registration]
    assert numbers == [1, 2, 3, 4]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_version_whose_event_a_settle_round_copied_is_in_the_copy(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old record (made ten minutes ago by its id's clock: not one the cut waits for) is
    changed as the catch-up listing ends, after the listings passed its folder; the settle round
    (waiting for A, committed during the listing) copies the change's events. The copy holds
    its version 2 too: restored, the record opens at version 2 and fsck is clean. Before, the
    copy's log named version 2 and the copy held version 1 only: fsck ``rolled-back``."""
    store = make_store(backend, tmp_path, "store")
    repo = new_repository(store, make_store(backend, tmp_path, "keys"))
    lagging = lambda: f"{int((time.time() - 600) * 1000):012x}{os.urandom(6).hex()}"  # noqa: E731
    monkeypatch.setattr(records_module, "new_record_id", lagging)
    old = _create(repo, 1)
    monkeypatch.undo()

    def between() -> None:  # A: the settle round waits for its events and lists the log
        _create(repo, 2)

    def after() -> None:
        repo.update_metadata(old.record_id, {"subject": SUBJECT}, expected_version=1, actor=CLERK)

    _catch_up_cut(store, between, after)
    copy, key_copy = make_store(backend, tmp_path, "b-store"), LocalStore(tmp_path / "b-keys")
    made = backup(store, copy, label="store")
    del store.list
    backup(repo.keys.store, key_copy, label="keys", records=made.records)

    fresh = new_repository(make_store(backend, tmp_path, "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    events = fresh.audit.events()
    updates = [e.version for e in events if e.action == "record:update" and e.record_id == old.record_id]
    assert updates == [2]  # the copy's log holds the change
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]  # main: rolled-back …/v000002
    assert fresh.audit.verify().ok
    opened = fresh.get(old.record_id, actor=CLERK)
    assert opened.version == 2 and opened.metadata.subject == SUBJECT


@pytest.mark.parametrize("lag_seconds", [0.0, 600.0], ids=["young", "old"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_received_document_confirmed_while_the_cut_settles_keeps_its_number(
    backend: str, lag_seconds: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document received earlier (in intake: committed by its first version, young or made
    ten minutes ago) is confirmed as the catch-up listing ends: it takes number 3 (its entry,
    a new version, its guards). The settle round (waiting for A, number 2) copies the
    confirmation's events; the copy holds its entry, version and guards too. Restored: number 3
    in the register, fsck clean, no floor. Before, the copy held the record in intake and the
    log naming number 3 and its version (fsck ``rolled-back``, the number skipped by a floor)."""
    store = make_store(backend, tmp_path, "store")
    repo = new_repository(store, make_store(backend, tmp_path, "keys"))
    first = _create(repo, 1)
    lagging = lambda: f"{int((time.time() - lag_seconds) * 1000):012x}{os.urandom(6).hex()}"  # noqa: E731
    monkeypatch.setattr(records_module, "new_record_id", lagging)
    received = repo.create_intake("den", _content(2), "cv2.pdf", CLERK)
    monkeypatch.undo()
    checked = checked_by_ingest(repo, received.record_id)
    confirmed: list[Record] = []

    during: list[Record] = []

    def between() -> None:  # A: its entry is listed, its events are not: the settle round waits
        during.append(_create(repo, 3))

    def after() -> None:
        confirmed.append(repo.complete_intake(checked.record_id, incoming(code_number="2"),
                                              expected_version=checked.version, actor=CLERK))

    _catch_up_cut(store, between, after)
    copy, key_copy = make_store(backend, tmp_path, "b-store"), LocalStore(tmp_path / "b-keys")
    made = backup(store, copy, label="store")
    del store.list
    backup(repo.keys.store, key_copy, label="keys", records=made.records)
    [done_intake] = confirmed
    assert done_intake.registration is not None and done_intake.registration.number == 3

    fresh = new_repository(make_store(backend, tmp_path, "again"), LocalStore(tmp_path / "again-keys"))
    done = restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    assigns = [e.record_id for e in fresh.audit.events() if e.action == "register:assign"]
    assert checked.record_id in assigns  # the copy's log gives it its number
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]  # main: rolled-back
    assert fresh.audit.verify().ok and done.floors == ()
    year = first.registration.year  # type: ignore[union-attr]
    register = fresh.register("den", year, actor=OPERATOR)
    assert [(r.record_id, r.registration.number) for r in register if r.registration] == [
        (first.record_id, 1), (during[0].record_id, 2), (checked.record_id, 3)
    ]
    opened = fresh.get(checked.record_id, actor=CLERK)
    assert opened.version == done_intake.version and opened.state != "intake"
    assert fresh.read_content(checked.record_id, actor=CLERK)[1] == _content(2)
