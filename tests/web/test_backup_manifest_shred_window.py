"""Shredding keys never seals a manifest nobody vouched for, in the upgrade window too (review r25).

m6 re-sealed a key-backup manifest on shredding when its seal "checked", and in the upgrade
window (``KHO_ALLOW_UNSEALED``) an unsealed manifest of the format before seals (2) checks. So
the holder of the key-backup destination wrote a manifest of format 2 that lists a key of its
own (``keys/r9``) and one key due for shredding; the next ``kho backup`` shredded it and sealed
it: after the window, the forged key list was read as sealed and a restore wrote it back. Now
only a manifest whose seal was verified is sealed again; an old one is written back unsealed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from kho.errors import BackupError
from kho.timeutil import utcnow
from repository.seals import Sealer
from repository.storage.local import LocalStore
from retention.backup import backup, read_manifest, shred_destroyed_keys

MASTER = bytes(range(32))


def test_shredding_in_the_upgrade_window_does_not_seal_a_forged_old_manifest(tmp_path: Path) -> None:
    keys, place = LocalStore(tmp_path / "keys"), LocalStore(tmp_path / "dst")
    keys.put_if_absent("keys/r1", b"k" * 32)
    backup(keys, place, label="keys", backup_id="20250101T000000000000Z-keys")  # before seals
    path = tmp_path / "dst" / "objects" / "backups" / "20250101T000000000000Z-keys.json"
    body = json.loads(path.read_bytes())
    body["objects"].append({"key": "keys/r9", "sha256": "0" * 64, "size": 1})  # the holder's entry
    path.write_bytes(json.dumps({**body, "format_version": 2}).encode())  # the format before seals

    window = Sealer.from_master_key(MASTER, allow_unsealed=True)
    long_ago = (utcnow() - timedelta(days=400)).isoformat().replace("+00:00", "Z")
    shred_destroyed_keys(place, {"r1": long_ago}, period_days=30, now=utcnow(), sealer=window)
    assert [e["key"] for e in read_manifest(place, sealer=window)["objects"]] == ["keys/r9"]

    with pytest.raises(BackupError) as refused:  # the window closed: still not vouched for
        read_manifest(place, sealer=Sealer.from_master_key(MASTER))
    assert refused.value.code == "BACKUP_MANIFEST_UNSEALED"  # before: read as sealed


def test_an_unsealed_manifest_newer_than_a_sealed_one_is_refused_in_the_window(tmp_path: Path) -> None:
    """As for account versions: an unsealed manifest after a sealed one is no pre-upgrade copy
    but a downgrade. The holder of the destination wrote a newer format-2 manifest (a record's
    objects dropped, hashes consistent); the default restore read the newest: it was used."""
    source, place = LocalStore(tmp_path / "src"), LocalStore(tmp_path / "dst")
    source.put_if_absent("records/x/v1.json", b"{}")
    source.put_if_absent("records/y/v1.json", b"[]")
    window = Sealer.from_master_key(MASTER, allow_unsealed=True)
    backup(source, place, label="store", backup_id="20260101T000000000000Z-store", sealer=window)
    sealed = tmp_path / "dst" / "objects" / "backups" / "20260101T000000000000Z-store.json"
    body = json.loads(sealed.read_bytes())
    body.pop("seal", None)
    forged = {**body, "backup_id": "20260102T000000000000Z-store", "format_version": 2}
    forged["objects"] = [e for e in body["objects"] if e["key"] != "records/y/v1.json"]
    (sealed.parent / "20260102T000000000000Z-store.json").write_bytes(json.dumps(forged).encode())
    with pytest.raises(BackupError) as refused:
        read_manifest(place, "20260102T000000000000Z-store", sealer=window)
    assert refused.value.code == "BACKUP_MANIFEST_SEAL_INVALID"
    with pytest.raises(BackupError):  # the default (newest) too
        read_manifest(place, label="store", sealer=window)
    # A manifest truly written before seals (older than every sealed one) is still read.
    old = {**forged, "backup_id": "20250101T000000000000Z-store"}
    (sealed.parent / "20250101T000000000000Z-store.json").write_bytes(json.dumps(old).encode())
    assert read_manifest(place, "20250101T000000000000Z-store", sealer=window)["objects"]
