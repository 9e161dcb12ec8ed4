"""fsck checks everything against everything and never stops at the first bad object."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository

from repository.anchor import Anchor, generate_key, make_checkpoint
from repository.fsck import fsck
from repository.records import Repository, version_key
from repository.storage.local import LocalStore


@pytest.fixture
def filled(tmp_path: Path) -> Repository:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    key = tmp_path / "audit.key"
    generate_key(key)
    repo.anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "checkpoints")
    for n in range(4):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    assert fsck(repo, deep=True).clean
    return repo


def _entries(repo: Repository) -> list[str]:
    return [info.key for info in repo.store.list("registers/")]


def _kinds(repo: Repository, **options: bool) -> list[tuple[str, str]]:
    return [(i.kind, i.subject) for i in fsck(repo, **options).issues]


def test_deleted_last_entry_is_found_and_its_number_never_reused(filled: Repository) -> None:
    make_checkpoint(filled.store, filled.anchor or Anchor())
    last = _entries(filled)[-1]
    prefix = last.rsplit("/", 1)[0] + "/"
    filled.store.delete(last)
    issues = fsck(filled).issues
    assert ("register-truncated", prefix) in [(i.kind, i.subject) for i in issues]
    truncated = next(i for i in issues if i.kind == "register-truncated")
    assert "04" in truncated.message and not truncated.repairable
    # A fresh process registers the next document: số 05, never a second số 04.
    again = new_repository(filled.store, filled.keys.store)
    record = again.create_document("den", incoming(code_number="900"), None, None, CLERK)
    assert record.registration is not None and record.registration.number == 5


def test_swapped_record_ids_are_found(filled: Repository) -> None:
    store = filled.store
    first, second = _entries(filled)[:2]
    a, b = json.loads(store.get(first)), json.loads(store.get(second))
    store.put(
        first, json.dumps({**a, "record_id": b["record_id"], "sealed_version": b["sealed_version"]}).encode()
    )
    store.put(
        second, json.dumps({**b, "record_id": a["record_id"], "sealed_version": a["sealed_version"]}).encode()
    )
    found = _kinds(filled)
    mismatches = [s for k, s in found if k == "register-mismatch"]
    assert set(mismatches) == {first, second, a["record_id"], b["record_id"]}


def test_missing_catalog_marker_keeps_the_guards_and_is_restored(filled: Repository) -> None:
    store = filled.store
    record_id = next(filled.record_ids())
    claims_before = sorted(info.key for info in store.list("claims/"))
    store.delete(f"catalog/records/{record_id}")
    report = fsck(filled, repair=True, grace_seconds=0)
    assert [(i.kind, i.subject, i.repairable) for i in report.issues] == [
        ("catalog-missing", f"catalog/records/{record_id}", True)
    ]
    assert sorted(info.key for info in store.list("claims/")) == claims_before
    assert store.exists(f"catalog/records/{record_id}")
    assert fsck(filled, deep=True).clean


def test_missing_key_of_a_live_record_is_found(filled: Repository) -> None:
    record_id = next(filled.record_ids())
    filled.keys.store.delete(f"keys/{record_id}")
    filled.keys._cache.clear()
    assert ("key-missing", f"keys/{record_id}") in _kinds(filled, deep=True)


def test_wrong_master_key_is_a_key_error_not_corruption(tmp_path: Path) -> None:
    stores = LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")
    repo = new_repository(*stores)
    repo.keys.master_key = b"A" * 32
    for n in range(3):
        repo.create_document("den", incoming(code_number=f"{n + 1}"), None, None, CLERK)
    wrong = new_repository(*stores)
    wrong.keys.master_key = b"B" * 32
    kinds = [i.kind for i in fsck(wrong, deep=True).issues]
    assert kinds == ["master-key"]


def test_several_corruptions_at_once_are_all_named(filled: Repository) -> None:
    store, keystore = filled.store, filled.keys.store
    ids = sorted(filled.record_ids())
    bad_version = version_key(ids[0], 1)
    store.put(bad_version, b"KHO1" + b"\0" * 40)  # a damaged version blob
    keystore.put(f"keys/{ids[1]}", base64.b64decode(base64.b64encode(b"x" * 40)))  # a damaged key blob
    filled.keys._cache.clear()
    store.delete(_entries(filled)[2])  # a deleted entry in the middle
    found = _kinds(filled, deep=True)
    kinds = {k for k, _ in found}
    assert ("format", bad_version) in found
    assert ("key-corrupt", f"keys/{ids[1]}") in found
    assert "register-gap" in kinds
    assert all(not i.repairable for i in fsck(filled).issues if i.kind in {"register-gap", "key-corrupt"})


def test_number_stays_taken_when_the_store_checkpoint_is_deleted_too(filled: Repository) -> None:
    from repository.anchor import checkpoint_key

    anchor = filled.anchor or Anchor()
    make_checkpoint(filled.store, anchor)
    filled.store.delete(_entries(filled)[-1])
    filled.store.delete(checkpoint_key(1))  # the copy outside the store still vouches for số 04
    again = new_repository(filled.store, filled.keys.store)
    again.anchor = anchor
    record = again.create_document("den", incoming(code_number="901"), None, None, CLERK)
    assert record.registration is not None and record.registration.number == 5
    assert "register-truncated" not in {i.kind for i in fsck(again).issues}  # 05 exists; 04 is a gap
    assert "register-gap" in {i.kind for i in fsck(again).issues}


def test_orphaned_derived_data_is_found_and_repair_removes_only_it(filled: Repository) -> None:
    """Derived objects (text, OCR, verdicts) of a record that does not exist or was destroyed
    are named one by one; --repair deletes them and leaves the live record's derived data."""
    from repository.records import Actor

    live, gone = sorted(filled.record_ids())[:2]
    filled.put_derived(live, "text.json", b'{"text": "Ninh B\xc3\xacnh"}')
    filled.put_derived(gone, "text.json", b'{"text": "b\xc3\xad m\xe1\xba\xadt"}')
    filled.destroy(gone, decision="QĐ 12/QĐ-UBND", actor=Actor(user="op", source="test", system=True))
    assert not list(filled.store.list(f"records/{gone}/derived/"))  # destroy takes it along
    assert fsck(filled, deep=True).clean
    # Left behind anyway (a crash mid-destruction, an older version of Kho) and of nothing at all.
    filled.store.put(f"records/{gone}/derived/text.json", b"sealed text of a destroyed original")
    nobody = "0000000000ff" + "ab" * 6  # an id from 1970: long past the in-flight grace
    filled.store.put(f"records/{nobody}/derived/signatures.json", b"verdicts of nothing")
    filled.store.put(f"records/{nobody}/derived/text.json", b"text of nothing")
    found = [(i.kind, i.subject, i.repairable) for i in fsck(filled, deep=True).issues]
    assert sorted(found) == sorted([
        ("derived-orphan", f"records/{nobody}/derived/signatures.json", True),
        ("derived-orphan", f"records/{nobody}/derived/text.json", True),
        ("derived-orphan", f"records/{gone}/derived/text.json", True),
    ])
    repaired = fsck(filled, repair=True)
    assert all(i.repaired for i in repaired.issues) and len(repaired.issues) == 3
    assert fsck(filled, deep=True).clean
    assert not list(filled.store.list(f"records/{nobody}/"))
    assert filled.get_derived(live, "text.json") == b'{"text": "Ninh B\xc3\xacnh"}'
