"""The last gaps of write-once backups and restore: an incremental backup keeps every blob it
reuses locked as long as itself; a destruction leaves a signed, chained tombstone in a ledger at
every backup destination, which a restore of an older copy obeys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kho_buckets import new_bucket
from kho_testing import CLERK, backup_s3_options, incoming, new_repository

from kho.errors import KeyDestroyed, NotFound
from kho.timeutil import parse_iso
from repository.anchor import Anchor, generate_key
from repository.fsck import fsck
from repository.ledger import (
    DestructionLedger,
    LedgerUnavailable,
    ensure_genesis,
    entry_key,
    index_key,
    read_ledger,
    verify_ledger,
)
from repository.records import Actor, Repository
from repository.storage import open_store
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import (
    BackupReport,
    apply_tombstones,
    backup,
    blob_key,
    read_manifest,
    restore,
    verify_backup,
)
from retention.operations import read_ledgers

OPERATOR = Actor(user="operator", source="test", system=True)


def _documents(repo: Repository, count: int, start: int = 1) -> list[str]:
    return [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * (300 + n), f"cv{n}.pdf", CLERK
        ).record_id
        for n in range(start, start + count)
    ]


def _reused_locks_reach_the_new_backup(copy: ObjectStore, first: BackupReport, second: BackupReport) -> None:
    old = {e["sha256"] for e in read_manifest(copy, first.backup_id)["objects"]}
    newest = read_manifest(copy, second.backup_id)
    until = parse_iso(newest["lock_until"])
    reused = [e for e in newest["objects"] if e["sha256"] in old]
    assert reused and second.locks_extended >= 1
    for entry in reused:
        held = copy.get_retention(blob_key(entry["sha256"]))
        assert held is not None and held.mode == "COMPLIANCE" and held.until >= until
        assert parse_iso(entry["lock_until"]) >= until  # recorded in the manifest too


def test_an_incremental_backup_extends_the_lock_of_every_blob_it_reuses(tmp_path: Path) -> None:
    """Local folder: the lock lives beside each blob and in the manifest. A blob whose lock ends
    before its backup's (as an older Kho left it) is named by verify."""
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    _documents(repo, 3)
    copy = LocalStore(tmp_path / "usb")
    first = backup(repo.store, copy, label="store", lock_days=1)
    _documents(repo, 1, start=10)
    second = backup(repo.store, copy, label="store", lock_days=3)
    assert second.lock_until and first.lock_until
    assert parse_iso(second.lock_until) > parse_iso(first.lock_until)
    _reused_locks_reach_the_new_backup(copy, first, second)
    assert verify_backup(copy, second.backup_id).ok and verify_backup(copy, first.backup_id).ok

    # An earlier Kho did not extend: a reused blob keeps the first backup's shorter lock.
    victim = next(e for e in read_manifest(copy, second.backup_id)["objects"]
                  if e["key"].startswith("registers/"))
    meta = copy.root / "meta" / f"{blob_key(victim['sha256'])}.retention.json"
    meta.write_text(json.dumps({"mode": "COMPLIANCE", "until": first.lock_until}))
    report = verify_backup(copy, second.backup_id)
    assert not report.ok
    assert any(victim["key"] in p and "hết hạn trước bản sao lưu" in p for p in report.problems)
    assert verify_backup(copy, first.backup_id).ok  # long enough for the backup that wrote it


@pytest.mark.s3
def test_reused_blobs_on_a_write_once_bucket_are_locked_as_long_as_the_newest_backup(tmp_path: Path) -> None:
    """Ceph object lock (COMPLIANCE): after an incremental backup, each reused blob's
    retain-until is at least the new backup's."""
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    _documents(repo, 3)
    options = backup_s3_options()
    copy = open_store(f"s3://{new_bucket('extend', options)}", **options, object_lock=True)
    first = backup(repo.store, copy, label="store", lock_days=1)
    _documents(repo, 1, start=10)
    second = backup(repo.store, copy, label="store", lock_days=2)
    _reused_locks_reach_the_new_backup(copy, first, second)
    held = copy.get_retention(f"backups/{second.backup_id}.json")
    assert held is not None and second.lock_until and held.until >= parse_iso(second.lock_until)
    assert verify_backup(copy, second.backup_id).ok


def _signed(tmp_path: Path) -> Anchor:
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir(exist_ok=True)
    generate_key(key)
    return Anchor(signing_key=key)


def _with_ledger(tmp_path: Path, anchor: Anchor | None) -> tuple[Repository, list[LocalStore]]:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    repo.anchor = anchor
    places = [LocalStore(tmp_path / "usb"), LocalStore(tmp_path / "second"), LocalStore(tmp_path / "b-keys")]
    signer = (lambda: anchor.private_key()) if anchor is not None else (lambda: None)
    repo.ledger = DestructionLedger([(str(p.root), lambda p=p: p) for p in places], signing_key=signer)
    return repo, places


def test_a_restore_of_a_copy_older_than_the_destruction_destroys_the_record_again(tmp_path: Path) -> None:
    """Backup → destroy → restore the pre-destruction copy into an empty store, inside the
    key-backup period: the ledger's tombstone makes the record unreadable again, the register
    shows its "đã hủy" row, fsck and audit verify are clean."""
    anchor = _signed(tmp_path)
    repo, (usb, second, key_copy) = _with_ledger(tmp_path, anchor)
    ids = _documents(repo, 3)
    old = backup(repo.store, usb, label="store")
    old_keys = backup(repo.keys.store, key_copy, label="keys")
    for place in (usb, second, key_copy):
        ensure_genesis(place, signing_key=anchor.private_key(), lock_days=0, now=repo.clock())
    repo.destroy(ids[0], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    destroy_event = next(e for e in repo.audit.events() if e.action == "record:destroy")
    assert set(destroy_event.details["ledgers"]) == {str(p.root) for p in (usb, second, key_copy)}
    for place in (usb, second, key_copy):
        assert place.exists(index_key(ids[0])) and verify_ledger(place, anchor.public_key()).ok
    repo.destroy(ids[0], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)  # retried: one tombstone only
    assert len(read_ledger(usb)) == 2

    shutil.rmtree(tmp_path / "store")
    shutil.rmtree(tmp_path / "keys")
    fresh = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    fresh.anchor = anchor
    reading = read_ledgers(fresh, [("usb", usb), ("second", second), ("keys", key_copy)])
    assert reading.reached == ("usb", "second", "keys") and not reading.problems
    assert set(reading.tombstones) == {ids[0]}
    restore(usb, fresh.store, backup_id=old.backup_id)
    restore(key_copy, fresh.keys.store, backup_id=old_keys.backup_id)
    assert fresh.keys.exists(ids[0])  # the old key backup brought the key back…
    assert apply_tombstones(fresh, reading.tombstones, actor=OPERATOR) == (ids[0],)
    assert not fresh.keys.exists(ids[0])  # …and the ledger takes it away before anything is served
    with pytest.raises((KeyDestroyed, NotFound)):
        fresh.read_content(ids[0], actor=CLERK)
    row = next(r for r in fresh.register("den", 2026, actor=OPERATOR) if r.record_id == ids[0])
    assert row.state == "destroyed"
    assert fresh.store.get(f"catalog/destroyed/{ids[0]}") == reading.tombstones[ids[0]].row
    assert fresh.read_content(ids[1], actor=CLERK)
    assert fsck(fresh, deep=True).clean
    assert fresh.audit.verify().ok
    event = next(e for e in fresh.audit.events() if e.action == "backup:reapply-destruction")
    assert event.record_id == ids[0] and event.details["from"] == "ledger"
    assert event.details["decision"] == "QĐ 12/QĐ-UBND"
    assert apply_tombstones(fresh, reading.tombstones, actor=OPERATOR) == ()  # idempotent


def test_a_tampered_or_cut_ledger_is_detected(tmp_path: Path) -> None:
    anchor = _signed(tmp_path)
    repo, (usb, second, _keys) = _with_ledger(tmp_path, anchor)
    ids = _documents(repo, 4)
    for record_id in ids[:3]:
        repo.destroy(record_id, decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    public = anchor.public_key()
    assert verify_ledger(usb, public).ok and set(verify_ledger(usb, public).tombstones) == set(ids[:3])

    # A writer of the destination turns the tombstone of ids[1] into one of the live ids[3].
    path = usb.root / "objects" / entry_key(2)
    body = json.loads(path.read_bytes())
    assert body["record_id"] == ids[1]
    path.write_bytes(json.dumps({**body, "record_id": ids[3]}, ensure_ascii=False, sort_keys=True).encode())
    report = verify_ledger(usb, public)
    assert not report.ok
    kinds = {(p.key, p.kind) for p in report.problems}
    assert (entry_key(2), "bad-signature") in kinds and (entry_key(3), "changed") in kinds
    assert ids[3] not in report.tombstones  # a forged tombstone destroys nothing
    assert set(report.tombstones) == {ids[0], ids[2]}

    # Without the key, the chain still names the change (the next entry no longer follows it).
    unsigned = verify_ledger(usb, None)
    assert (entry_key(3), "changed") in {(p.key, p.kind) for p in unsigned.problems}
    assert set(unsigned.tombstones) == {ids[0]}  # only what the unbroken chain vouches for

    # Cutting the tail: the index still says which entry tombstoned the record.
    second.delete(entry_key(3))
    cut = verify_ledger(second, public)
    assert (entry_key(3), "removed") in {(p.key, p.kind) for p in cut.problems}

    # Every reachable ledger is read: the intact one still carries ids[1] and ids[2].
    reading = read_ledgers(repo, [("usb", usb), ("second", second)])
    assert set(reading.tombstones) == set(ids[:3]) and len(reading.problems) >= 3


def test_a_destruction_waits_when_no_ledger_can_be_written(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    (tmp_path / "not-a-folder").write_text("x")
    repo.ledger = DestructionLedger([("gone", lambda: LocalStore(tmp_path / "not-a-folder" / "usb"))])
    record_id = _documents(repo, 1)[0]
    with pytest.raises(LedgerUnavailable) as refused:
        repo.destroy(record_id, decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    assert refused.value.code == "LEDGER_UNAVAILABLE"
    assert repo.keys.exists(record_id)  # the key stays until a ledger holds the tombstone
    assert repo.destroyed(record_id) is None  # nothing half-done: no "đã hủy" row either
    assert not any(e.action == "record:destroy" for e in repo.audit.events())


def test_unsigned_entries_from_before_the_key_count_and_unsigned_ones_after_it_do_not(tmp_path: Path) -> None:
    """A ledger started before KHO_AUDIT_SIGNING_KEY was configured keeps its unsigned entries
    (the chain vouches for them); once entries are signed, an unsigned one appended after them,
    even correctly chained, is named and destroys nothing."""
    from repository.ledger import append_tombstone

    repo, (usb, _second, _keys) = _with_ledger(tmp_path, None)
    ids = _documents(repo, 4)
    repo.destroy(ids[0], decision="QĐ 1/QĐ-UBND", actor=OPERATOR)
    anchor = _signed(tmp_path)
    repo.anchor = anchor
    repo.ledger = DestructionLedger([("usb", lambda: usb)], signing_key=anchor.private_key)
    repo.destroy(ids[1], decision="QĐ 2/QĐ-UBND", actor=OPERATOR)
    report = verify_ledger(usb, anchor.public_key())
    assert report.ok and set(report.tombstones) == {ids[0], ids[1]}

    # Someone with write access appends an unsigned tombstone of the live ids[2].
    other = new_repository(LocalStore(tmp_path / "other"), LocalStore(tmp_path / "other-keys"))
    forged_id = other.create_document("den", incoming(code_number="9"), None, None, CLERK).record_id
    other.destroy(forged_id, decision="QĐ giả", actor=OPERATOR)
    row = other.store.get(f"catalog/destroyed/{forged_id}").replace(forged_id.encode(), ids[2].encode())
    append_tombstone(usb, row, signing_key=None, lock_days=0, now=repo.clock())
    forged = verify_ledger(usb, anchor.public_key())
    assert [(p.key, p.kind) for p in forged.problems] == [(entry_key(3), "unsigned")]
    assert set(forged.tombstones) == {ids[0], ids[1]}
