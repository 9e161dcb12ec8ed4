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
