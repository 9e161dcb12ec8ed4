"""rv5: a forced restore checks the key store's copies before it replaces the store, and writes
those checked bytes: the holder of the key backups who changes a key copy while the store is
being replaced cannot leave the store restored and its keys not (the key restore read every
copy again, found the change and stopped after the store was already rolled back)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_backups import RolledBack, newest_copies_removed
from kho_people import People
from kho_testing import CLERK

import retention.backup
from kho.config import Settings
from repository.service import open_repository
from repository.storage.local import LocalStore
from retention.backup import blob_key, read_manifest, store_hashes
from web.cli import main


@pytest.fixture
def copies(
    people: People,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> RolledBack:
    """Two copies with a registration between them, the newest removed by their holder."""
    return newest_copies_removed(tmp_path, monkeypatch)


def test_a_key_copy_changed_while_the_store_is_replaced_does_not_stop_the_key_restore(
    copies: RolledBack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_backup = LocalStore(Path(copies.keys_url.removeprefix("file://")))
    manifest = read_manifest(keys_backup, label="keys")
    changed = manifest["objects"][0]["sha256"]
    real_restore = retention.backup.restore
    labels: list[object] = []

    def holder_acts_meanwhile(*args: object, **kwargs: object) -> object:
        labels.append(kwargs.get("label"))
        if kwargs.get("label") == "store":  # after the key copies were checked
            (keys_backup.root / "objects" / blob_key(changed)).write_bytes(b"changed by the holder")
        return real_restore(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retention.backup, "restore", holder_acts_meanwhile)
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = CliRunner().invoke(main, ["restore", "--from", copies.store_url, "--keys-from",
                                     copies.keys_url, "--force", "--accept-older-history", reason])
    assert labels == ["store", "keys"]
    assert done.exit_code == 0, done.output
    keys_store = LocalStore(Path(env["KHO_DATA_DIR"]) / "keys")
    assert store_hashes(keys_store) == {e["key"]: e["sha256"] for e in manifest["objects"]}
    restored = open_repository(Settings.from_env())
    assert restored.read_content(copies.first, actor=CLERK)
    event = next(e for e in restored.audit.events() if e.action == "backup:restore")
    assert "failed_step" not in event.details and event.details["history_override"] == reason
