"""rv67: which ``register:assign`` events count — fsck's scan (``sealed_events``) and the
restore's notes (``_NumbersGiven``) read the same crafted log and must keep the same events.

The log (local store): two legacy assigns written before the installation had a master key,
then sealed events (a sealed assign), then, by one who writes the store without the key, an
assign with no seal (after the sealing start) and one carrying another event's seal (forged).
Pinned before the rule moved to one function (they pass before and after)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import AGENCY, CLERK, incoming, new_repository

from repository.audit import EVENTS_PREFIX, EventDraft, listed_seq, parse_object, sealed_events
from repository.records import Repository, new_record_id
from repository.registers import ASSIGN_ACTION, number_given_in
from repository.seals import Sealer
from repository.storage.local import LocalStore
from retention.backup import _NumbersGiven

MASTER = b"k" * 32


def _assign(repo: Repository, year: int, number: int) -> None:
    ghost = new_record_id()
    repo.audit.append_many([
        EventDraft("vanthu.nguyen", "record:create", record_id=ghost, version=1, details={"kind": "den"}),
        EventDraft("vanthu.nguyen", ASSIGN_ACTION, record_id=ghost, version=1,
                   details={"series": "den", "year": year, "number": number, "organ_id": AGENCY}),
    ])


def _log(tmp_path: Path, *, forged: tuple[str, ...] = ("none", "copied")) -> tuple[LocalStore, int]:
    """Legacy assigns 11 and 12, sealed assign 13, forged assigns 40 (no seal) and 41 (copied)."""
    from audit_tamper import append_forged

    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    legacy = new_repository(store, keys)
    year = legacy.create_document("den", incoming(code_number="1"), None, None, CLERK).registration.year  # type: ignore[union-attr]
    _assign(legacy, year, 11)
    _assign(legacy, year, 12)
    sealed = Repository(store, keys, agency_id=AGENCY, master_key=MASTER)
    _assign(sealed, year, 13)
    copied = list(sealed.audit.events())[-1].seal
    assert copied is not None
    for number, how in ((40, "none"), (41, "copied")):
        if how in forged:
            details = {"series": "den", "year": year, "number": number, "organ_id": AGENCY}
            fields = {"actor": "vanthu.nguyen", "action": ASSIGN_ACTION, "record_id": new_record_id(),
                      "version": 1, "details": details}
            append_forged(store, fields, seal=copied if how == "copied" else None)
    return store, year


def _fsck_numbers(store: LocalStore, sealer: Sealer, since: int | None = None) -> list[int]:
    """The numbers fsck's scan keeps (as :func:`repository.fsck.fsck` step 9d reads them);
    ``since``: the sealing start its signed checkpoints say (``AuditLog.sealed_floor``)."""
    sealing = [False]
    kept: list[int] = []
    for info in store.list(EVENTS_PREFIX):
        if listed_seq(info.key) is None:
            continue
        for event in sealed_events(sealer, parse_object(store.get(info.key)), sealing, since):
            if event.action == ASSIGN_ACTION and isinstance(event.details, dict):
                given = number_given_in(event.details, event.record_id, event.seq)
                if given is not None:
                    kept.append(given.number)
    return kept


def _restore_numbers(
    store: LocalStore, sealer: Sealer | None, keys: list[str] | None = None, *, since: int | None = None
) -> list[int]:
    given = _NumbersGiven(sealer, since=since)
    for key in keys if keys is not None else [info.key for info in store.list(EVENTS_PREFIX)]:
        given.note(key, store.get(key))
    return sorted(g.number for g in given.events)


def test_both_sites_keep_legacy_and_sealed_assigns_and_drop_the_forged(tmp_path: Path) -> None:
    store, _ = _log(tmp_path)
    sealer = Sealer.from_master_key(MASTER)
    assert sorted(_fsck_numbers(store, sealer)) == [1, 11, 12, 13]
    assert _restore_numbers(store, sealer) == [1, 11, 12, 13]


@pytest.mark.parametrize("how", ["none", "copied"])
def test_each_forged_assign_alone_is_dropped_at_both_sites(tmp_path: Path, how: str) -> None:
    store, _ = _log(tmp_path, forged=(how,))
    sealer = Sealer.from_master_key(MASTER)
    assert sorted(_fsck_numbers(store, sealer)) == _restore_numbers(store, sealer) == [1, 11, 12, 13]


def test_without_the_key_both_sites_keep_every_assign(tmp_path: Path) -> None:
    store, _ = _log(tmp_path)
    inactive = Sealer.from_master_key(None)
    assert sorted(_fsck_numbers(store, inactive)) == [1, 11, 12, 13, 40, 41]
    assert _restore_numbers(store, inactive) == [1, 11, 12, 13, 40, 41]
    assert _restore_numbers(store, None) == [1, 11, 12, 13, 40, 41]


def test_the_restore_keeps_its_outcome_whatever_order_the_objects_come_in(tmp_path: Path) -> None:
    """A copy's objects are noted in its manifest's order: an unsealed assign written after the
    sealing start is not legacy even when the sealed events are noted after it."""
    store, _ = _log(tmp_path)
    sealer = Sealer.from_master_key(MASTER)
    keys = [info.key for info in store.list(EVENTS_PREFIX)]
    assert _restore_numbers(store, sealer, list(reversed(keys))) == [1, 11, 12, 13]


def test_a_legacy_assign_is_dropped_once_a_sealed_event_precedes_it_anywhere(tmp_path: Path) -> None:
    """Agreement where the two reads differ in shape: fsck streams (a sealed event met before),
    the restore takes the first sealed position of the whole copy. An unsealed assign stored
    after a sealed event, in the same batch object as legacy-looking events, counts at neither."""
    store, _ = _log(tmp_path, forged=("none",))
    sealer = Sealer.from_master_key(MASTER)
    # the forged one is the newest object; it is the only unsealed event after the sealed ones
    newest = [info.key for info in store.list(EVENTS_PREFIX)][-1]
    [event] = parse_object(store.get(newest))
    assert event.seal is None and event.action == ASSIGN_ACTION
    assert 40 not in _fsck_numbers(store, sealer)
    assert 40 not in _restore_numbers(store, sealer)



def _unsealed_only(tmp_path: Path) -> tuple[LocalStore, Sealer]:
    """A log rewritten without seals (a writer of the store removed every sealed event), its
    unsealed assigns 11, 12 (legacy) and 40 (forged) left."""
    store, _ = _log(tmp_path, forged=("none",))
    sealer = Sealer.from_master_key(MASTER)
    for info in list(store.list(EVENTS_PREFIX)):  # every sealed event gone: only unsealed left
        if any(e.seal is not None for e in parse_object(store.get(info.key))):
            store.delete(info.key)
    return store, sealer


def test_both_sites_drop_unsealed_assigns_past_a_signed_sealing_start(tmp_path: Path) -> None:
    """A signed checkpoint says the log is sealed from position 0: fsck (its anchor gives
    ``since``) and the restore (``kho restore`` reads the same ``sealed_floor`` before it
    replaces the store) keep none of the unsealed assigns. Without it (no anchor, or no
    checkpoint saying so) both read them as legacy, alike."""
    store, sealer = _unsealed_only(tmp_path)
    assert _fsck_numbers(store, sealer, since=0) == _restore_numbers(store, sealer, since=0) == []
    assert sorted(_fsck_numbers(store, sealer)) == _restore_numbers(store, sealer) == [1, 11, 12, 40]


def test_a_restore_told_the_sealing_start_writes_no_floor_for_a_forged_assign(tmp_path: Path) -> None:
    """The real backup and restore of that log into an empty store: told the signed sealing
    start, the restore moves no register past the forged number 40 (before: a floor at 40,
    numbers 13–39 never given); not told, it does what it always did (the floor)."""
    from repository.registers import FLOOR_PREFIX
    from retention.backup import backup, restore

    store, sealer = _unsealed_only(tmp_path)
    copies = LocalStore(tmp_path / "copies")
    backup(store, copies, sealer=sealer, settle_seconds=0.5)
    told, untold = LocalStore(tmp_path / "told"), LocalStore(tmp_path / "untold")
    restore(copies, told, sealer=sealer, sealed_since=0)
    restore(copies, untold, sealer=sealer)
    assert [info.key for info in told.list(FLOOR_PREFIX)] == []
    assert [info.key for info in untold.list(FLOOR_PREFIX)] != []
