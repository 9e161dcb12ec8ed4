"""Backup manifests are sealed (a3 left them open): whoever holds the backup destination could
rewrite a manifest consistently (entries and their hashes) and have a restore write what it says.

With ``KHO_MASTER_KEY``, each manifest carries an HMAC made with the key derived from the master
key (:mod:`repository.seals`), over the manifest and its key. ``kho backup verify`` names a
manifest whose seal does not check, and ``kho restore`` refuses it before writing anything. A
manifest written before seals (format 2) is read only in the upgrade window
(``KHO_ALLOW_UNSEALED``), as account versions are."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import People
from kho_testing import CLERK, incoming

from kho.config import Settings
from kho.errors import BackupError
from kho.timeutil import utcnow
from repository.seals import Sealer
from repository.service import open_repository
from repository.storage.local import LocalStore
from retention.backup import backup, blob_key, read_manifest, shred_destroyed_keys, store_hashes
from web.cli import main

MASTER = bytes(range(32))


@pytest.fixture
def sealed(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A Kho with a master key and a store and key backup place (made before ``people``)."""
    monkeypatch.setenv("KHO_MASTER_KEY", base64.b64encode(MASTER).decode())
    usb, keys = tmp_path / "usb", tmp_path / "keys-backup"
    monkeypatch.setenv("KHO_BACKUP_URLS", usb.as_uri())
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", keys.as_uri())
    return usb, keys


def _manifest_file(place: Path) -> Path:
    [found] = sorted((place / "objects" / "backups").glob("*.json"))
    return found


def _forge(place: Path, edit: object) -> None:
    """What the holder of the destination can do: rewrite the manifest consistently."""
    path = _manifest_file(place)
    body = json.loads(path.read_bytes())
    edit(body)  # type: ignore[operator]
    path.write_bytes(json.dumps(body, ensure_ascii=False, sort_keys=True).encode())


def _one_backup(people: People) -> tuple[str, str]:
    repo = open_repository(Settings.from_env())
    kept = repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4\n" + b"a" * 400, "a.pdf", CLERK)
    dropped = repo.create_document(
        "den", incoming(code_number="2"), b"%PDF-1.4\n" + b"b" * 400, "b.pdf", CLERK
    )
    made = CliRunner().invoke(main, ["backup"])
    assert made.exit_code == 0, made.output
    return kept.record_id, dropped.record_id


def _drop_record(record_id: str) -> object:
    def edit(body: dict) -> None:
        body["objects"] = [e for e in body["objects"] if record_id not in e["key"]]

    return edit


def test_a_manifest_is_sealed_and_a_consistent_edit_is_named_by_verify_and_refused_by_restore(
    sealed: tuple[Path, Path], people: People, env: dict[str, str]
) -> None:
    usb, keys = sealed
    _, dropped = _one_backup(people)
    assert isinstance(json.loads(_manifest_file(usb).read_bytes()).get("seal"), str)
    runner = CliRunner()
    clean = runner.invoke(main, ["backup", "verify", "--from", usb.as_uri()])
    assert clean.exit_code == 0 and "nguyên vẹn" in clean.output, clean.output

    _forge(usb, _drop_record(dropped))  # every remaining entry and hash still right
    checked = runner.invoke(main, ["backup", "verify", "--from", usb.as_uri()])
    assert checked.exit_code == 1, checked.output  # before: 0, "nguyên vẹn"
    assert "BACKUP_MANIFEST_SEAL_INVALID" in checked.output

    data = Path(env["KHO_DATA_DIR"])
    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    refused = runner.invoke(main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri()])
    assert refused.exit_code == 2 and "BACKUP_MANIFEST_SEAL_INVALID" in refused.output, refused.output
    assert not list(LocalStore(data / "store").list(""))  # nothing written


def test_a_swapped_blob_with_its_hash_rewritten_is_refused(
    sealed: tuple[Path, Path], people: People, env: dict[str, str]
) -> None:
    """The holder puts a blob of their own and rewrites its entry's hash and size to match."""
    usb, keys = sealed
    kept, _ = _one_backup(people)
    forged = b"%PDF-1.4\n" + b"z" * 400
    digest = hashlib.sha256(forged).hexdigest()
    LocalStore(usb).put_if_absent(blob_key(digest), forged)

    def swap(body: dict) -> None:
        for entry in body["objects"]:
            if entry["key"] == f"records/{kept}/v000001":  # the record's first version
                entry.update(sha256=digest, size=len(forged))
                return
        raise AssertionError("no entry swapped")

    _forge(usb, swap)
    live = LocalStore(Path(env["KHO_DATA_DIR"]) / "store")
    before = store_hashes(live)
    asked = ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri(), "--force"]
    refused = CliRunner().invoke(main, asked)
    assert refused.exit_code == 2 and "BACKUP_MANIFEST_SEAL_INVALID" in refused.output, refused.output
    assert store_hashes(live) == before  # the live store as it was


def test_a_sealed_manifest_moved_to_another_id_does_not_check(tmp_path: Path) -> None:
    source, place = LocalStore(tmp_path / "src"), LocalStore(tmp_path / "dst")
    source.put_if_absent("records/x/v1.json", b"{}")
    sealer = Sealer.from_master_key(MASTER)
    backup(source, place, label="store", backup_id="20260101T000000000000Z-store", sealer=sealer)
    (tmp_path / "dst" / "objects" / "backups" / "20270101T000000000000Z-store.json").write_bytes(
        (tmp_path / "dst" / "objects" / "backups" / "20260101T000000000000Z-store.json").read_bytes()
    )
    assert read_manifest(place, "20260101T000000000000Z-store", sealer=sealer)["objects"]
    with pytest.raises(BackupError) as refused:
        read_manifest(place, "20270101T000000000000Z-store", sealer=sealer)
    assert refused.value.code == "BACKUP_MANIFEST_SEAL_INVALID"


def test_a_manifest_written_before_seals_is_read_only_in_the_upgrade_window(tmp_path: Path) -> None:
    source, place = LocalStore(tmp_path / "src"), LocalStore(tmp_path / "dst")
    source.put_if_absent("records/x/v1.json", b"{}")
    backup(source, place, label="store", backup_id="20250101T000000000000Z-store")  # as Kho did before
    path = tmp_path / "dst" / "objects" / "backups" / "20250101T000000000000Z-store.json"
    body = json.loads(path.read_bytes())
    path.write_bytes(json.dumps({**body, "format_version": 2}).encode())  # the format before seals
    with pytest.raises(BackupError) as refused:
        read_manifest(place, sealer=Sealer.from_master_key(MASTER))
    assert refused.value.code == "BACKUP_MANIFEST_UNSEALED"
    assert "KHO_ALLOW_UNSEALED" in refused.value.message
    window = Sealer.from_master_key(MASTER, allow_unsealed=True)
    assert read_manifest(place, sealer=window)["objects"][0]["key"] == "records/x/v1.json"
    # A current-format manifest with no seal is no old one: refused even in the window.
    path.write_bytes(json.dumps({**body, "format_version": 3}).encode())
    with pytest.raises(BackupError) as broken:
        read_manifest(place, sealer=window)
    assert broken.value.code == "BACKUP_MANIFEST_SEAL_INVALID"


def test_shredding_a_key_keeps_a_sealed_manifest_sealed_and_never_seals_a_forged_one(tmp_path: Path) -> None:
    keys, place = LocalStore(tmp_path / "keys"), LocalStore(tmp_path / "dst")
    for rid in ("r1", "r2"):
        keys.put_if_absent(f"keys/{rid}", rid.encode() * 16)
    sealer = Sealer.from_master_key(MASTER)
    backup(keys, place, label="keys", backup_id="20260101T000000000000Z-keys", sealer=sealer)
    long_ago = (utcnow() - timedelta(days=400)).isoformat().replace("+00:00", "Z")
    shred_destroyed_keys(place, {"r1": long_ago}, period_days=30, now=utcnow(), sealer=sealer)
    assert [e["key"] for e in read_manifest(place, sealer=sealer)["objects"]] == ["keys/r2"]

    path = tmp_path / "dst" / "objects" / "backups" / "20260101T000000000000Z-keys.json"
    body = json.loads(path.read_bytes())
    body["objects"].append({"key": "keys/r9", "sha256": "0" * 64, "size": 1})  # forged
    path.write_bytes(json.dumps(body).encode())
    shred_destroyed_keys(place, {"r2": long_ago}, period_days=30, now=utcnow(), sealer=sealer)
    with pytest.raises(BackupError) as refused:  # shredded, and still not vouched for
        read_manifest(place, sealer=sealer)
    assert refused.value.code == "BACKUP_MANIFEST_SEAL_INVALID"
