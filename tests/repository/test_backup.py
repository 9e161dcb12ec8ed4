"""Backup and restore drill: data → backup (local folder, second S3 bucket) → wipe → restore →
every object bit-identical, fsck --deep and the anchored audit verify clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kho_buckets import new_bucket
from kho_testing import BACKENDS, CLERK, backup_s3_options, incoming, make_store, new_repository, s3_options

from kho.errors import BackupError, KhoError, NotFound, RetentionLocked
from repository.anchor import Anchor, generate_key, make_checkpoint, verify_anchored
from repository.fsck import fsck
from repository.records import Actor, Repository
from repository.storage import open_store
from repository.storage.local import LocalStore
from retention.backup import (
    backup,
    blob_key,
    manifest_key,
    read_manifest,
    restore,
    store_hashes,
    verify_backup,
)

OPERATOR = Actor(user="operator", source="test", system=True)


def _fill(tmp_path: Path) -> Repository:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    repo.anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "offsite" / "checkpoints")
    ids = []
    for n in range(6):
        content = b"%PDF-1.4\n" + bytes([n]) * (2000 + 500 * n)
        record = repo.create_document("den", incoming(code_number=f"{n + 1}"), content, f"cv{n}.pdf", CLERK)
        ids.append(record.record_id)
    repo.update_metadata(ids[0], {"subject": "Về việc sửa đổi"}, expected_version=1, actor=CLERK)
    repo.destroy(ids[5], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    make_checkpoint(repo.store, repo.anchor)
    return repo


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_drill_is_bit_identical(backend: str, tmp_path: Path) -> None:
    repo = _fill(tmp_path)
    before, keys_before = store_hashes(repo.store), store_hashes(repo.keys.store)
    target = make_store(backend, tmp_path, "backup")
    key_target = make_store("local", tmp_path, "backup-keys")  # keys on a medium of their own
    made = backup(repo.store, target, label="store")
    made_keys = backup(repo.keys.store, key_target, label="keys")
    assert made.objects == len(before) and made.sampled >= 1
    assert made_keys.objects == len(keys_before)
    assert verify_backup(target).ok and verify_backup(key_target).ok

    shutil.rmtree(tmp_path / "store")
    shutil.rmtree(tmp_path / "keys")
    fresh = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    fresh.anchor = repo.anchor
    done = restore(target, fresh.store, label="store")
    restore(key_target, fresh.keys.store, label="keys")
    assert done.objects == len(before)
    assert store_hashes(fresh.store) == before
    assert store_hashes(fresh.keys.store) == keys_before
    assert fsck(fresh, deep=True).clean
    assert verify_anchored(fresh.audit, fresh.anchor).ok

    # A second backup to the same place copies only what changed.
    fresh.create_document("den", incoming(code_number="99"), b"%PDF-1.4\nnew", "moi.pdf", CLERK)
    again = backup(fresh.store, target, label="store")
    assert 0 < again.copied_bytes < again.bytes


def test_restore_refuses_a_non_empty_store_unless_forced(tmp_path: Path) -> None:
    repo = _fill(tmp_path)
    target = LocalStore(tmp_path / "backup")
    backup(repo.store, target, label="store")
    before = store_hashes(repo.store)
    repo.create_document("den", incoming(code_number="77"), None, None, CLERK)  # after the backup
    with pytest.raises(BackupError):
        restore(target, repo.store)
    report = restore(target, repo.store, force=True)
    assert report.removed > 0
    assert store_hashes(repo.store) == before  # exactly the backed-up state


def test_verify_names_a_damaged_or_missing_copy(tmp_path: Path) -> None:
    repo = _fill(tmp_path)
    target = LocalStore(tmp_path / "backup")
    backup(repo.store, target, label="store")
    entries = read_manifest(target)["objects"]
    (target.root / "objects" / blob_key(entries[3]["sha256"])).write_bytes(b"rot")
    target.delete(blob_key(entries[5]["sha256"]))
    report = verify_backup(target)
    assert not report.ok and len(report.problems) == 2
    with pytest.raises(BackupError):
        restore(target, LocalStore(tmp_path / "elsewhere"))


def test_destroyed_key_leaves_key_backups_after_the_stated_period(tmp_path: Path) -> None:
    from datetime import timedelta

    from kho.errors import KeyDestroyed
    from kho.timeutil import utcnow
    from retention.backup import shred_destroyed_keys

    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    ids = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * 99, "a.pdf", CLERK
        ).record_id
        for n in (1, 2)
    ]
    store_copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
    backup(repo.store, store_copy, label="store")  # made before the destruction
    backup(repo.keys.store, key_copy, label="keys")
    repo.destroy(ids[0], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    times = repo.destruction_times()

    early = shred_destroyed_keys(key_copy, times, period_days=30, now=utcnow())
    assert early.due == () and early.blobs == 0  # within the period a restore can still undo it
    later = shred_destroyed_keys(key_copy, times, period_days=30, now=utcnow() + timedelta(days=31))
    assert later.due == (ids[0],) and later.blobs == 1 and later.manifests == 1
    assert verify_backup(key_copy).ok

    shutil.rmtree(tmp_path / "store")
    shutil.rmtree(tmp_path / "keys")
    old = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    restore(store_copy, old.store)
    restore(key_copy, old.keys.store)
    with pytest.raises(KeyDestroyed):
        old.read_content(ids[0], actor=CLERK)
    assert old.read_content(ids[1], actor=CLERK)


@pytest.mark.s3
def test_write_once_copy_on_a_second_s3_account(tmp_path: Path) -> None:
    """The S3 copy lives under the backup destination's own credential, in a bucket made with
    object lock: its blobs and manifest cannot be deleted, an overwrite leaves the locked
    original (which verify and restore use), and the store's credential cannot reach it."""
    options = backup_s3_options()
    repo = _fill(tmp_path)
    bucket = new_bucket("worm", options)
    copy = open_store(f"s3://{bucket}", **options, object_lock=True)
    made = backup(repo.store, copy, label="store", lock_days=1)
    entries = read_manifest(copy)["objects"]
    victim = entries[-1]
    for key in (blob_key(victim["sha256"]), manifest_key(made.backup_id)):
        assert copy.get_retention(key).mode == "COMPLIANCE"
        with pytest.raises(RetentionLocked):
            copy.delete(key)
    with pytest.raises(RetentionLocked):
        copy.put(blob_key(victim["sha256"]), b"forged")
    # A raw client with the backup credential can add a newer version; the locked one stays.
    import io

    forged = b"forged over the locked version"
    copy._client.put_object(bucket, blob_key(victim["sha256"]), io.BytesIO(forged), len(forged))
    assert copy.get(blob_key(victim["sha256"])) == forged
    assert verify_backup(copy).ok  # the locked original still answers
    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    assert store_hashes(fresh.store) == store_hashes(repo.store, [e["key"] for e in entries])

    outsider = open_store(f"s3://{bucket}", **(s3_options() or {}), create_bucket=False,
                          conditional_create=True)
    with pytest.raises(KhoError):
        outsider.get(blob_key(victim["sha256"]))
    with pytest.raises(KhoError):
        outsider.delete(blob_key(victim["sha256"]))


def test_restoring_a_backup_made_before_a_destruction_does_not_undo_it(tmp_path: Path) -> None:
    """The "đã hủy" rows live in the store; an older backup does not have them. The restore
    takes them from the newest copies (and the store it replaces), puts them back and destroys
    the key the old key backup brought back: the row shows in the register, the content stays
    unreadable, fsck is clean; once the key-backup period has passed the key is not even in the
    backups."""
    from datetime import timedelta

    from kho.errors import KeyDestroyed
    from kho.timeutil import utcnow
    from retention.backup import backups, destruction_rows, reapply_destructions, shred_destroyed_keys

    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    ids = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * 99, "a.pdf", CLERK
        ).record_id
        for n in (1, 2)
    ]
    copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
    before = backup(repo.store, copy, label="store", backup_id="20260101T000000000000Z-store").backup_id
    old_keys = backup(repo.keys.store, key_copy, label="keys", backup_id="20260101T000000000000Z-keys")
    repo.destroy(ids[0], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    backup(repo.store, copy, label="store")  # the newest copy knows of the destruction
    assert len(backups(copy, "store")) == 2

    for period_passed in (False, True):
        if period_passed:
            later = utcnow() + timedelta(days=31)
            shred_destroyed_keys(key_copy, repo.destruction_times(), period_days=30, now=later)
        shutil.rmtree(tmp_path / "store", ignore_errors=True)
        shutil.rmtree(tmp_path / "keys", ignore_errors=True)
        old = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
        rows = destruction_rows(copy, backed_up=True)
        restore(copy, old.store, backup_id=before)
        restore(key_copy, old.keys.store, backup_id=old_keys.backup_id)
        assert old.keys.exists(ids[0]) is not period_passed  # within the period the old key is back
        assert reapply_destructions(old, rows, actor=OPERATOR) == (ids[0],)
        assert not old.keys.exists(ids[0])
        with pytest.raises(KeyDestroyed):
            old.keys.get(ids[0])
        with pytest.raises((KeyDestroyed, NotFound)):  # the tombstone has no readable file
            old.read_content(ids[0], actor=CLERK)
        row = next(r for r in old.register("den", 2026, actor=OPERATOR) if r.record_id == ids[0])
        assert row.state == "destroyed"
        assert old.read_content(ids[1], actor=CLERK)
        assert fsck(old, deep=True).clean
        events = [e for e in old.audit.events() if e.action == "backup:reapply-destruction"]
        assert [e.record_id for e in events] == [ids[0]]
        assert reapply_destructions(old, rows, actor=OPERATOR) == ()  # idempotent


WRITER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from kho_testing import CLERK, incoming, new_repository
from repository.storage.local import LocalStore
repo = new_repository(LocalStore(sys.argv[1] + "/store"), LocalStore(sys.argv[1] + "/keys"))
stop, n = Path(sys.argv[2]), 0
while not stop.exists():
    n += 1
    repo.create_document("den", incoming(code_number=str(1000 + n)), b"%PDF-1.4\\n" + str(n).encode() * 300,
                         f"cv{n}.pdf", CLERK)
    if n % 3 == 0:
        repo.create_file({"file_notation": f"{n:02d}.VP", "title": f"Hồ sơ {n}", "maintenance": "10 năm",
                          "creator": "Nguyễn An", "start_date": "2026-01-05"}, CLERK)
print(n)
"""


def test_backup_taken_while_records_are_written_restores_consistent(tmp_path: Path) -> None:
    """A writer process keeps registering documents (and opening hồ sơ) during the backup; the
    copy restores to a store fsck --deep and audit verify call clean, holding a prefix of what
    was written: every number up to the newest in the copy, nothing half-written."""
    import subprocess
    import sys
    import time

    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4\nfirst", "a.pdf", CLERK)
    stop = tmp_path / "stop"
    support = Path(__file__).resolve().parents[1] / "support"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), str(stop), str(support)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        while sum(1 for _ in repo.store.list("registers/")) < 15:
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.05)
        copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
        made = backup(repo.store, copy, label="store")  # the store first, then its keys
        backup(repo.keys.store, key_copy, label="keys")
        time.sleep(0.3)  # and the writer goes on after the copy
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err.decode()
    written = int(out.decode().strip())
    entries = sum(1 for _ in repo.store.list("registers/"))
    assert written + 1 == entries

    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    report = fsck(fresh, deep=True, grace_seconds=0)  # nothing may pass as "still in flight"
    assert report.clean, report.issues
    assert fresh.audit.verify().ok
    numbers = [n for n in (r.registration.number for r in fresh.register("den", 2026, actor=OPERATOR)
                           if r.registration)]
    assert numbers == list(range(1, len(numbers) + 1)) and 1 < len(numbers) < entries
    assert made.objects == len(read_manifest(copy)["objects"])
