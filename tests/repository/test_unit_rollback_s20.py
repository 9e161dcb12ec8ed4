"""A unit rolled back in the store is refused where the unit tree is read (review s20), on the
local folder and the real S3 gateway, sealed with ``KHO_MASTER_KEY``, the audit log's index in
a SQLite file of the data folder as the application opens it.

Before: deleting a unit's newest version(s) brought the older version back without a word — a
unit moved under another parent came back under the old one, so the heads of the old parent
saw its documents again and its quản trị managed its accounts again; only ``kho fsck`` found
it. Now the audit log's index keeps the highest unit version the log names (schema 8), and
:meth:`AccountService.units` / :meth:`AccountService.get_unit` refuse a unit whose newest
stored version is below it: ``UNIT_ROLLED_BACK`` (as ``ACCOUNT_ROLLED_BACK`` for accounts,
review s18). The way out: the lost version restored, or ``kho unit accept-rollback``."""

from __future__ import annotations

import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kho_sealing import GOOD, VP
from kho_testing import AGENCY, BACKENDS, make_store
from kho_unit_rollback import ADMIN, OTHER, agency_with_office_moved, open_service, unit_keys

from kho.errors import KhoError
from repository.policy import Role


def _assert_rolled_back(refused: pytest.ExceptionInfo[KhoError], stored: int, named: int) -> None:
    error = refused.value
    assert error.code == "UNIT_ROLLED_BACK", error.code
    assert error.http_status == 503
    assert error.details["version"] == stored and error.details["named_version"] == named
    assert "nhật ký kiểm toán" in error.message and unicodedata.is_normalized("NFC", error.message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_unit_whose_newest_version_is_deleted_refuses_the_acts_that_need_the_unit_tree(
    backend: str, tmp_path: Path
) -> None:
    """The move of the Văn phòng under Phòng Nội vụ deleted from the store. Before: the Văn phòng
    was read back under the agency (its version 1) and every act went on with that tree. Now the
    unit tree, the unit itself and an act whose decision needs the tree (the quản trị creating an
    account in the Văn phòng) are refused with ``UNIT_ROLLED_BACK``; nothing is written. Another
    host's process (its index in memory, empty) refuses too once a token request has caught its
    index up — the one witness read the token check already pays."""
    svc = agency_with_office_moved(backend, tmp_path, "s20")
    versions = unit_keys(svc, VP)
    assert len(versions) == 2
    svc.store.delete(versions[-1])
    admin = svc.get(ADMIN)
    with pytest.raises(KhoError) as tree:
        svc.units()
    _assert_rolled_back(tree, 1, 2)
    with pytest.raises(KhoError) as unit:
        svc.get_unit(VP)
    _assert_rolled_back(unit, 1, 2)
    with pytest.raises(KhoError) as act:
        svc.create_account("Lê Văn Cường", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    _assert_rolled_back(act, 1, 2)
    with pytest.raises(KhoError) as moved:  # no version 2 written again over the lost one
        svc.update_unit(VP, name="Văn phòng", actor=admin)
    _assert_rolled_back(moved, 1, 2)
    assert unit_keys(svc, VP) == versions[:-1]
    # another host: what it knows of the log it reads from the store, when a token request catches up
    other = open_service(svc.store, make_store("local", tmp_path, "keys"), tmp_path / "other-host")
    token = svc.issue_token(ADMIN, "s20", svc.authenticate(ADMIN, GOOD))
    assert other.resolve_token(token).username == ADMIN
    with pytest.raises(KhoError) as there:
        other.units()
    _assert_rolled_back(there, 1, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_unit_version_stored_before_its_event_is_not_taken_for_a_rollback(
    backend: str, tmp_path: Path
) -> None:
    """Kho stores a unit version before its event: a reader between the two (another instance on
    the same data folder, in another thread) sees a version the log does not name yet — no
    refusal. And a reader while a writer renames the unit again and again, at once: never
    refused (the log's word is read before the store is listed)."""
    svc = agency_with_office_moved(backend, tmp_path, "s20")
    reader = open_service(svc.store, make_store("local", tmp_path, "keys"), tmp_path / "data")
    admin = svc.get(ADMIN)
    seen: list[list[str]] = []
    put = svc.store.put_if_absent

    def put_then_read(key: str, data: bytes) -> object:
        out = put(key, data)
        if key.startswith(f"units/{VP}/"):  # stored, its event not yet appended
            with ThreadPoolExecutor(1) as pool:
                seen.append([u.name for u in pool.submit(reader.units).result(timeout=300)])
        return out

    svc.store.put_if_absent = put_then_read  # type: ignore[method-assign]
    try:
        svc.update_unit(VP, name="Văn phòng Ủy ban", actor=admin)
    finally:
        del svc.store.put_if_absent
    assert seen and "Văn phòng Ủy ban" in seen[0]
    stop = threading.Event()
    refused: list[str] = []

    def read() -> None:
        while not stop.is_set():
            try:
                reader.units()
            except KhoError as error:
                refused.append(error.code)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(4):
            svc.update_unit(VP, name=f"Văn phòng {n}", actor=svc.get(ADMIN))
    finally:
        stop.set()
        thread.join(timeout=300)
    assert refused == []
    assert [u.name for u in reader.units() if u.unit_id == VP] == ["Văn phòng 3"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_instances_on_one_data_folder_both_refuse_and_both_work_again_once_restored(
    backend: str, tmp_path: Path
) -> None:
    """Two application instances on one store and one data folder (the SQLite index shared): the
    rollback is refused by both without any store read more; the lost version put back (from a
    backup), both work again, with the moved unit where the log says."""
    svc = agency_with_office_moved(backend, tmp_path, "s20")
    second = open_service(svc.store, make_store("local", tmp_path, "keys"), tmp_path / "data")
    assert {u.unit_id: u.parent_id for u in second.units()}[VP] == OTHER
    lost = unit_keys(svc, VP)[-1]
    kept = svc.store.get(lost)
    svc.store.delete(lost)
    for instance in (svc, second):
        with pytest.raises(KhoError) as refused:
            instance.units_below(AGENCY)
        _assert_rolled_back(refused, 1, 2)
    svc.store.put(lost, kept)
    for instance in (svc, second):
        assert {u.unit_id: u.parent_id for u in instance.units()}[VP] == OTHER
        assert VP in instance.units_below(OTHER)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_operator_accepts_a_unit_rollback_no_backup_can_undo(backend: str, tmp_path: Path) -> None:
    """``kho unit accept-rollback``: refused for a unit that is not rolled back
    (``UNIT_NOT_ROLLED_BACK``) and without a reason (``ROLLBACK_REASON_REQUIRED``); then the stored
    version is written on as the version after the one the log names (never reusing a lost
    number), the tree works again (the lost move kept, s21), audited ``unit:rollback-accept`` by
    ``operator``; a second accept is refused."""
    svc = agency_with_office_moved(backend, tmp_path, "s20")
    with pytest.raises(KhoError) as not_rolled:
        svc.accept_unit_rollback(VP, "thử")
    assert not_rolled.value.code == "UNIT_NOT_ROLLED_BACK"
    svc.store.delete(unit_keys(svc, VP)[-1])
    with pytest.raises(KhoError) as blank:
        svc.accept_unit_rollback(VP, "  ")
    assert blank.value.code == "ROLLBACK_REASON_REQUIRED"
    assert unit_keys(svc, VP) == [f"units/{VP}/v000001"]
    accepted = svc.accept_unit_rollback(VP, "Phiên bản mới nhất mất cùng ổ đĩa hỏng; không có bản sao lưu")
    # the lost move is kept from its trusted event (review s21); before s21: back under the agency
    assert accepted.version == 3 and accepted.parent_id == OTHER
    assert unit_keys(svc, VP) == [f"units/{VP}/v000001", f"units/{VP}/v000003"]
    assert {u.unit_id: u.parent_id for u in svc.units()}[VP] == OTHER
    (event,) = [e for e in svc.audit.events() if e.action == "unit:rollback-accept"]
    assert event.actor == "operator"
    assert event.details["stored_version"] == 1 and event.details["named_version"] == 2
    assert event.details["unit_id"] == VP and "ổ đĩa hỏng" in event.details["reason"]
    with pytest.raises(KhoError) as again:
        svc.accept_unit_rollback(VP, "lần nữa")
    assert again.value.code == "UNIT_NOT_ROLLED_BACK"
    admin = svc.get(ADMIN)  # the tree works again: a quản trị act that needs it goes through
    assert svc.update_unit(VP, parent_id=AGENCY, actor=admin).version == 4
