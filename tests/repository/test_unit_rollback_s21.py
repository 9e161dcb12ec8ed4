"""The two unit rollback cases s20 left open (review s21), on the local folder and the real S3
gateway, sealed with ``KHO_MASTER_KEY``, the audit log's index in a SQLite file of the data
folder as the application opens it.

1. A unit deleted whole from the store (every version): before, :meth:`AccountService.units`
   listed what is stored, so the unit vanished from the tree without a word (its sub-units lost
   their parent, its accounts their unit). Now a unit the log names and the store has no version
   of is refused ``UNIT_ROLLED_BACK`` (stored version 0) wherever the tree is read, and
   ``kho unit accept-rollback`` refuses it (``UNIT_ROLLBACK_NOTHING_STORED``: restore it from a
   backup). A unit being created (its version stored before its event) is not refused.
2. ``kho unit accept-rollback`` wrote the stored version on as it was, undoing a move or a rename
   the lost versions made. Now the name and parent the newest lost version had are kept, from the
   lost versions' trusted events (:func:`repository.accounts.unit_kept_from_lost`), and the accept
   is refused (``UNIT_ROLLBACK_STATE_UNKNOWN``) when the events do not say them."""

from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kho_sealing import GOOD, VP, seed_agency
from kho_testing import AGENCY, BACKENDS, make_store
from kho_unit_rollback import ADMIN, OTHER, agency_with_office_moved, open_service, unit_keys

from kho.errors import KhoError
from repository import accounts, formats
from repository.accounts import Unit, _draft, unit_key
from repository.policy import Role

SUB = "000.03.18.H40"  # a unit under the Văn phòng





def _refused_whole(refused: pytest.ExceptionInfo[KhoError], named: int) -> None:
    error = refused.value
    assert error.code == "UNIT_ROLLED_BACK", error.code
    assert error.http_status == 503
    assert error.details["version"] == 0 and error.details["named_version"] == named
    assert error.details["unit_id"] == VP
    assert "nhật ký kiểm toán" in error.message and unicodedata.is_normalized("NFC", error.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_unit_deleted_whole_is_refused_wherever_the_tree_is_read_and_a_restore_mends_it(
    backend: str, tmp_path: Path
) -> None:
    """Every version of the Văn phòng (moved under Phòng Nội vụ, with a unit under it) deleted.
    Before: the tree read on without it — its sub-unit under a parent that is not there, the
    Văn phòng unknown (``UNIT_NOT_FOUND``). Now the tree, the unit, the sub-unit's tree below the
    agency and an account act in it are refused ``UNIT_ROLLED_BACK`` (version 0, named 2); the
    operator's accept is refused ``UNIT_ROLLBACK_NOTHING_STORED`` and writes nothing; the versions
    put back from a backup, everything works again as the log says."""
    svc = agency_with_office_moved(backend, tmp_path, "s21")
    admin = svc.get(ADMIN)
    svc.create_unit(SUB, "Tổ Một cửa", "tmc", VP, admin)
    versions = unit_keys(svc, VP)
    assert len(versions) == 2
    backup = {key: svc.store.get(key) for key in versions}
    for key in versions:
        svc.store.delete(key)
    with pytest.raises(KhoError) as tree:
        svc.units()
    _refused_whole(tree, 2)
    with pytest.raises(KhoError) as unit:
        svc.get_unit(VP)
    _refused_whole(unit, 2)
    with pytest.raises(KhoError) as below:
        svc.units_below(AGENCY)
    _refused_whole(below, 2)
    with pytest.raises(KhoError) as act:
        svc.create_account("Lê Văn Cường", SUB, [Role.CHUYEN_VIEN], 0, None, svc.get(ADMIN))
    _refused_whole(act, 2)
    with pytest.raises(KhoError) as accept:
        svc.accept_unit_rollback(VP, "Ổ đĩa hỏng, không có bản sao lưu")
    assert accept.value.code == "UNIT_ROLLBACK_NOTHING_STORED"
    assert accept.value.http_status == 409 and accept.value.details["named_version"] == 2
    assert "bản sao lưu" in accept.value.message
    assert unicodedata.is_normalized("NFC", accept.value.message)
    assert unit_keys(svc, VP) == []
    assert not [e for e in svc.audit.events() if e.action == "unit:rollback-accept"]
    for key, data in backup.items():
        svc.store.put(key, data)
    assert {u.unit_id: u.parent_id for u in svc.units()}[VP] == OTHER
    assert SUB in svc.units_below(OTHER)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_unit_being_created_is_not_taken_for_a_unit_deleted_whole(backend: str, tmp_path: Path) -> None:
    """A new unit's first version is stored before its event: a second instance on the same data
    folder reading the tree between the two (another thread) sees the new unit, no refusal; the
    index is read before the listing, so a unit it names was stored when the store was listed."""
    svc = agency_with_office_moved(backend, tmp_path, "s21")
    reader = open_service(svc.store, make_store("local", tmp_path, "keys"), tmp_path / "data")
    seen: list[set[str]] = []
    put = svc.store.put_if_absent

    def put_then_read(key: str, data: bytes) -> object:
        out = put(key, data)
        if key.startswith(f"units/{SUB}/"):  # stored, its event not yet appended
            with ThreadPoolExecutor(1) as pool:
                seen.append({u.unit_id for u in pool.submit(reader.units).result(timeout=300)})
        return out

    svc.store.put_if_absent = put_then_read  # type: ignore[method-assign]
    try:
        svc.create_unit(SUB, "Tổ Một cửa", "tmc", VP, svc.get(ADMIN))
    finally:
        del svc.store.put_if_absent
    assert seen and SUB in seen[0]
    assert SUB in {u.unit_id for u in reader.units()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_accepted_unit_rollback_keeps_the_move_and_the_rename_the_lost_versions_made(
    backend: str, tmp_path: Path
) -> None:
    """The Văn phòng moved under Phòng Nội vụ (version 2) and renamed (version 3); both deleted.
    Before: the accept wrote version 1 on as version 4 — back under the agency with its old name,
    the move undone by whoever deleted two objects. Now version 4 is under Phòng Nội vụ with the
    new name, from the lost versions' trusted events; the accept event says what it wrote."""
    svc = agency_with_office_moved(backend, tmp_path, "s21")
    svc.update_unit(VP, name="Văn phòng Ủy ban", actor=svc.get(ADMIN))
    versions = unit_keys(svc, VP)
    assert len(versions) == 3
    for key in versions[1:]:
        svc.store.delete(key)
    accepted = svc.accept_unit_rollback(VP, "Hai phiên bản mất cùng ổ đĩa hỏng; không có bản sao lưu")
    assert (accepted.version, accepted.parent_id, accepted.name) == (4, OTHER, "Văn phòng Ủy ban")
    assert {u.unit_id: (u.parent_id, u.name) for u in svc.units()}[VP] == (OTHER, "Văn phòng Ủy ban")
    assert VP in svc.units_below(OTHER)
    (event,) = [e for e in svc.audit.events() if e.action == "unit:rollback-accept"]
    assert event.details["parent_id"] == OTHER and event.details["name"] == "Văn phòng Ủy ban"
    assert (event.details["stored_version"], event.details["named_version"]) == (1, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_accept_is_refused_when_the_lost_versions_events_do_not_say_the_parent(
    backend: str, tmp_path: Path
) -> None:
    """Version 2 moved the Văn phòng; version 3 was an accept written by a Kho before s21 (its
    event names no name or parent). Both deleted: the newest lost state is not known, so the
    accept is refused ``UNIT_ROLLBACK_STATE_UNKNOWN`` (409, NFC) and writes nothing — before,
    it wrote version 1 on, back under the agency."""
    svc = agency_with_office_moved(backend, tmp_path, "s21")
    stored = svc.get_unit(VP)
    now = svc.clock()
    old_accept = Unit(VP, stored.name, stored.parent_id, stored.code, 3, now, "operator")
    details = {"unit_id": VP, "reason": "trước s21", "stored_version": 1, "named_version": 2}
    svc._write_audited(
        unit_key(VP, 3), formats.UNIT, old_accept.to_dict(),
        [_draft("operator", "unit:rollback-accept", "cli", details)], now,
    )
    versions = unit_keys(svc, VP)
    assert len(versions) == 3
    for key in versions[1:]:
        svc.store.delete(key)
    with pytest.raises(KhoError) as refused:
        svc.accept_unit_rollback(VP, "Mất hai phiên bản")
    assert refused.value.code == "UNIT_ROLLBACK_STATE_UNKNOWN", refused.value.code
    assert refused.value.http_status == 409 and refused.value.details["named_version"] == 3
    assert unicodedata.is_normalized("NFC", refused.value.message)
    assert unit_keys(svc, VP) == versions[:1]
    with pytest.raises(KhoError) as still:
        svc.units()
    assert still.value.code == "UNIT_ROLLED_BACK"


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_accept_that_would_make_a_cycle_waits_for_the_parents_accept(backend: str, tmp_path: Path) -> None:
    """Phòng Nội vụ was moved under the Văn phòng and back (its version 3), then the Văn phòng
    under Phòng Nội vụ (version 2); both newest versions deleted. Stored, Phòng Nội vụ is under
    the Văn phòng: keeping the Văn phòng's lost move first would make a cycle cut off from the
    agency. Refused ``UNIT_PARENT_CYCLE`` (NFC), nothing written; Phòng Nội vụ's accept first,
    then the Văn phòng's goes through, both where the log says."""
    store, keys = make_store(backend, tmp_path, "s21"), make_store("local", tmp_path, "keys")
    svc = open_service(store, keys, tmp_path / "data")
    seed_agency(svc)
    admin = svc.authenticate(ADMIN, GOOD)
    svc.create_unit(OTHER, "Phòng Nội vụ", "pnv", AGENCY, admin)
    svc.update_unit(OTHER, parent_id=VP, actor=svc.get(ADMIN))
    svc.update_unit(OTHER, parent_id=AGENCY, actor=svc.get(ADMIN))
    svc.update_unit(VP, parent_id=OTHER, actor=svc.get(ADMIN))
    svc.store.delete(unit_keys(svc, OTHER)[-1])
    svc.store.delete(unit_keys(svc, VP)[-1])
    with pytest.raises(KhoError) as refused:
        svc.accept_unit_rollback(VP, "Mất phiên bản")
    assert refused.value.code == "UNIT_PARENT_CYCLE", refused.value.code
    assert unicodedata.is_normalized("NFC", refused.value.message)
    assert unit_keys(svc, VP) == [f"units/{VP}/v000001"]
    assert svc.accept_unit_rollback(OTHER, "Mất phiên bản").parent_id == AGENCY
    assert svc.accept_unit_rollback(VP, "Mất phiên bản").parent_id == OTHER
    assert VP in svc.units_below(OTHER) and OTHER in svc.units_below(AGENCY)


def test_the_rule_of_what_a_unit_accept_keeps() -> None:
    """:func:`unit_kept_from_lost`: the newest update's name and parent; a seal keeps the state
    before it; an accept that names its state sets it; a version with no event, or only an
    accept that does not say, leaves it unknown until a later update; the root stays the root."""
    unit_kept_from_lost = accounts.unit_kept_from_lost
    stored = Unit(VP, "Văn phòng", AGENCY, "vp", 1)
    move = ("unit:update", {"after": {"name": "Văn phòng", "parent_id": OTHER}})
    rename = ("unit:update", {"after": {"name": "VP", "parent_id": OTHER}})
    seal = ("unit:seal", {})
    old_accept = ("unit:rollback-accept", {"stored_version": 1})
    new_accept = ("unit:rollback-accept", {"name": "X", "parent_id": AGENCY})
    assert unit_kept_from_lost(stored, [(2, *move)], 2) == {"parent_id": OTHER}
    assert unit_kept_from_lost(stored, [(2, *move), (3, *rename), (4, *seal)], 4) == {
        "name": "VP", "parent_id": OTHER
    }
    assert unit_kept_from_lost(stored, [(2, *seal)], 2) == {}
    assert unit_kept_from_lost(stored, [(2, *move), (3, *new_accept)], 3) == {"name": "X"}
    assert unit_kept_from_lost(stored, [(2, *move), (3, *old_accept)], 3) is None
    assert unit_kept_from_lost(stored, [(3, *seal)], 3) is None  # version 2: no event
    assert unit_kept_from_lost(stored, [(2, *old_accept), (3, *rename)], 3) == {
        "name": "VP", "parent_id": OTHER
    }
    root = Unit(AGENCY, "UBND", None, "ubnd", 1)
    moved_root = ("unit:update", {"after": {"name": "UBND tỉnh", "parent_id": OTHER}})
    assert unit_kept_from_lost(root, [(2, *moved_root)], 2) == {"name": "UBND tỉnh"}
