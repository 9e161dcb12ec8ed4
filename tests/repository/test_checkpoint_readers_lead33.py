"""The newest signed checkpoint, as the first-write check (rollback) and the sealed floor read it:
a checkpoint signed before format 2 still counts. Its signature covers the bytes as written, so
it must be judged as stored, never as an upcast copy (the first-write check upcast it, so every
store checkpoint of an upgraded installation was read as unsigned: the check fell back to none)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from repository import audit_offline as offline
from repository.anchor import Anchor, newest_folder_checkpoint, newest_store_checkpoint, signed_sealed_since
from repository.rollback import newest_checkpoint
from repository.storage.local import LocalStore

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "v0" / "audit-checkpoint"


def _old_checkpoint() -> tuple[bytes, int, Path]:
    raw = (FIXTURE / "checkpoint.json").read_bytes()
    return raw, int(json.loads(raw)["number"]), FIXTURE / "checkpoint.pub.pem"


def test_a_checkpoint_signed_before_format_2_is_the_stores_newest(tmp_path: Path) -> None:
    raw, number, pem = _old_checkpoint()
    store = LocalStore(tmp_path / "s")
    store.put(f"audit/checkpoints/{number:012d}.json", raw)
    key = offline.load_public_key(pem)

    found = newest_store_checkpoint(store, key)

    assert found is not None and found["number"] == number
    assert found == json.loads(raw)  # as stored: no format stamp or field added
    assert newest_store_checkpoint(store, key, above=number) is None


def test_the_first_write_check_knows_an_old_store_checkpoint_without_a_folder(tmp_path: Path) -> None:
    raw, number, pem = _old_checkpoint()
    store = LocalStore(tmp_path / "s")
    store.put(f"audit/checkpoints/{number:012d}.json", raw)

    newest = newest_checkpoint(store, Anchor(public_key_file=pem))

    assert newest is not None and newest["number"] == number
    assert signed_sealed_since(store, Anchor(public_key_file=pem)) is None  # format 1 says none


def test_the_folder_and_the_store_are_read_alike(tmp_path: Path) -> None:
    _raw, number, pem = _old_checkpoint()
    folder = tmp_path / "cp"
    folder.mkdir()
    shutil.copy(FIXTURE / "checkpoint.json", folder / f"{number:012d}.json")
    (folder / "000000000999.json").write_text("{not json", encoding="utf-8")  # newer name, unreadable

    found = newest_folder_checkpoint(folder, offline.load_public_key(pem))

    assert found is not None and found["number"] == number
