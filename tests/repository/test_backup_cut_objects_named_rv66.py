"""rv66: a backup cut holds the objects outside a record's folder that its copied log names.

m68 made the settle step fetch the records (entry, version, marker, guards) the copied events
name, and left the other objects an act writes before its event under a prefix the walk may
already have passed: a hold (``holds/<record>/<hold>``, ``hold:place``), a "đã hủy" row
(``catalog/destroyed/<record>``, ``record:destroy``), a hồ sơ's link to a document
(``links/<document>/<hồ sơ>``, ``file:add-document``). An act written as the settle step's
catch-up listing ends (m68's ``_catch_up_cut``) had its event in the copy and its object not:
the restored store's log placed a hold the store lacked (fsck ``hold-missing``), destroyed a
record the store still showed, filed a document with no link. Now each is looked for (at most
``_LOOKS`` rounds, never waited for). After the restore fsck --deep is clean, the hold still
refuses the destruction, the destroyed record stays destroyed, the link is there.

Real stores: the local folder and the S3 gateway (Ceph RGW)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from kho_backup_cut import catch_up_cut, cut_and_restore
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from kho.errors import LegalHold
from repository.audit import EventDraft
from repository.records import Actor, Record, Repository, destroyed_key, hold_key, new_record_id
from repository.storage.base import ObjectStore
from retention.backup import backup

OPERATOR = Actor(user="operator", source="test", system=True)


def _create(repo: Repository, n: int) -> Record:
    """A registered incoming document (m68's test's)."""
    content = b"%PDF-1.4\n" + f"rv66 record {n} ".encode() * 60
    record = repo.create_document("den", incoming(code_number=str(n)), content, f"cv{n}.pdf", CLERK)
    assert record.registration is not None
    return record


def _catch_up_cut(store: ObjectStore, between: Callable[[], None], after: Callable[[], None]) -> list[int]:
    """m68's cut: :func:`kho_backup_cut.catch_up_cut`."""
    return catch_up_cut(store, between, after)


def _cut_and_restore(backend: str, tmp_path: Path, repo: Repository, after: Callable[[], None]) -> Repository:
    """:func:`kho_backup_cut.cut_and_restore`."""
    return cut_and_restore(backend, tmp_path, repo, after)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hold_placed_while_the_cut_settles_is_in_the_copy_and_refuses_destruction(
    backend: str, tmp_path: Path
) -> None:
    """Main: fsck of the restored copy names ``hold-missing`` (the hold's event, no hold), and
    the destruction is refused only by the log (``HOLD_MISSING``), the hold itself lost."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    record = _create(repo, 1)
    _create(repo, 2)

    def after() -> None:
        repo.place_hold(record.record_id, "rv66hold00000001", "Thanh tra (rv66)", actor=OPERATOR)

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert fresh.store.exists(hold_key(record.record_id, "rv66hold00000001"))
    assert [h["hold_id"] for h in fresh.holds_on(record.record_id)] == ["rv66hold00000001"]
    with pytest.raises(LegalHold) as refused:
        fresh.destroy(record.record_id, decision="QĐ 66/QĐ-UBND", actor=OPERATOR)
    assert refused.value.code == "LEGAL_HOLD"  # the hold itself, not the log's HOLD_MISSING
    assert fresh.destroyed(record.record_id) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_record_destroyed_while_the_cut_settles_is_destroyed_in_the_copy(
    backend: str, tmp_path: Path
) -> None:
    """Main: the copy's log destroys the record, the copy has no "đã hủy" row (fsck names it,
    and its key is gone from the key store's copy)."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    record = _create(repo, 1)
    _create(repo, 2)

    def after() -> None:
        repo.destroy(record.record_id, decision="QĐ 66/QĐ-UBND", actor=OPERATOR)

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert fresh.store.exists(destroyed_key(record.record_id))
    assert fresh.destroyed(record.record_id) is not None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_document_filed_while_the_cut_settles_keeps_its_link_in_the_copy(
    backend: str, tmp_path: Path
) -> None:
    """Main: the hồ sơ's version (m68) is in the copy, its link ``links/<document>/<hồ sơ>`` not."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    document = _create(repo, 1)
    folder = repo.create_file(
        {
            "file_notation": "66.VP",
            "title": "Hồ sơ rv66",
            "maintenance": "10 năm",
            "creator": "Nguyễn An",
            "start_date": "2026-01-05",
        },
        CLERK,
    )

    def after() -> None:
        repo.add_to_file(folder.record_id, document.record_id, expected_version=1, actor=CLERK)

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert fresh.store.exists(f"links/{document.record_id}/{folder.record_id}")
    assert document.record_id in fresh.get(folder.record_id, actor=CLERK).documents


def test_a_crafted_hold_event_makes_the_cut_read_no_key_outside_holds(tmp_path: Path) -> None:
    """Events with a hold id ``../../keys/x``, a record id that is a path, a document id with a
    ``/``, a handling step number out of range or a path: the backup ends and reads no key the
    store lacks (no ``ValueError`` traceback)."""
    repo = new_repository(make_store("local", tmp_path, "store"), make_store("local", tmp_path, "keys"))
    record = _create(repo, 1)
    crafted = [
        EventDraft("x", "hold:place", record_id=record.record_id, details={"hold_id": "../../keys/x"}),
        EventDraft("x", "hold:place", record_id="../keys", details={"hold_id": "h"}),
        EventDraft(
            "x", "file:add-document", record_id=record.record_id, details={"document_id": "a/../../b"}
        ),
        EventDraft("x", "record:destroy", record_id=new_record_id() + "/..", details={}),
        EventDraft("x", "handling:submit", record_id=record.record_id, details={"seq": 10**9}),
        EventDraft("x", "handling:submit", record_id=record.record_id, details={"seq": "../../keys"}),
    ]
    read: list[str] = []
    plain = repo.store.get

    def get(key: str, version_id: str | None = None) -> bytes:
        read.append(key)
        return plain(key, version_id)

    def after() -> None:
        repo.audit.append_many(crafted)
        repo.store.get = get  # type: ignore[method-assign]

    store = repo.store
    _catch_up_cut(store, lambda: None, after)
    made = backup(store, make_store("local", tmp_path, "b-store"), label="store", settle_seconds=10)
    assert made.records.record_ids
    assert not [
        key for key in read if key.startswith(("keys", "holds/", "links/", "catalog/destroyed/", "workflow/"))
    ], read
