"""``kho restore --force`` reads the key store's backup once: its manifest and each of its blobs.
The key copies are still all checked before the store is replaced, and the key store restored
is the backup byte for byte. (Before: ``run_restore`` checked every key blob, then ``restore``
read the manifest and checked every blob again before writing.)"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_people import People
from kho_testing import incoming

from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention import operations
from retention.backup import (
    BLOBS_PREFIX,
    MANIFESTS_PREFIX,
    blob_key,
    manifest_hashes,
    manifest_key,
    read_manifest,
    store_hashes,
)
from web.cli import main


class CountingReads:
    """A backup destination as it is, with each read of a manifest or a blob counted (by key)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.reads: Counter[str] = Counter()

    def get(self, key: str, version_id: str | None = None) -> bytes:
        if key.startswith((BLOBS_PREFIX, MANIFESTS_PREFIX)):
            self.reads[key] += 1
        return self.store.get(key, version_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_forced_restore_reads_the_key_backup_once(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    data = Path(env["KHO_DATA_DIR"])
    media, keys = (f"file://{tmp_path / name}" for name in ("usb", "keys-backup"))
    clerk = people.actor("van_thu")
    for number in ("85", "86", "87"):
        people.kho.repo.create_document("den", incoming(code_number=number), None, None, clerk)
    made = runner.invoke(main, ["backup", "--to", media, "--keys-to", keys])
    assert made.exit_code == 0, made.output
    # A document after the backup: its key is in the live key store, not in the copy.
    people.kho.repo.create_document("den", incoming(code_number="88"), None, None, clerk)
    copy = read_manifest(LocalStore(tmp_path / "keys-backup"), label="keys")
    assert set(store_hashes(LocalStore(data / "keys"))) - set(manifest_hashes(copy))

    opened: list[CountingReads] = []
    real = operations.open_store

    def opening(url: str, **options: Any) -> ObjectStore:
        store = real(url, **options)
        if url != keys:
            return store
        opened.append(CountingReads(store))
        return opened[-1]  # type: ignore[return-value]

    monkeypatch.setattr(operations, "open_store", opening)
    done = runner.invoke(main, ["restore", "--from", media, "--keys-from", keys, "--force"])
    assert done.exit_code == 0, done.output

    reads = sum((c.reads for c in opened), Counter())
    blobs = {blob_key(e["sha256"]) for e in copy["objects"]}
    assert len(blobs) == 3 and {k for k in reads if k.startswith(BLOBS_PREFIX)} == blobs
    assert [k for k in reads if k.startswith(MANIFESTS_PREFIX)] == [manifest_key(copy["backup_id"])]
    assert max(reads.values()) == 1, reads.most_common(3)
    assert store_hashes(LocalStore(data / "keys")) == manifest_hashes(copy)  # the copy, byte for byte
