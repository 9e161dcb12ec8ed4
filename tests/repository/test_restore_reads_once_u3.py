"""A forced restore over a live store reads each blob of the backup once: the bytes checked
before the first removal are the bytes written (below a size bound). It still reads and checks
every blob before it removes anything, so a damaged copy changes nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from kho.errors import BackupError
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention import backup as backups
from retention.backup import BLOBS_PREFIX, backup, blob_key, read_manifest, restore, store_hashes


class CountingReads:
    """The backup destination as it is, with each read of a blob counted (by key)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.reads: Counter[str] = Counter()

    def get(self, key: str, version_id: str | None = None) -> bytes:
        if key.startswith(BLOBS_PREFIX):
            self.reads[key] += 1
        return self.store.get(key, version_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _live(tmp_path: Path, backend: str) -> tuple[Repository, ObjectStore, str]:
    """A store with four documents and one shared content, its backup, and a document made after
    the backup (so the forced restore has something to remove)."""
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    for n in range(4):
        content = b"%PDF-1.4\n" + bytes([n]) * (2000 + 300 * n)
        repo.create_document("den", incoming(code_number=f"{n + 1}"), content, f"cv{n}.pdf", CLERK)
    target = make_store(backend, tmp_path, "backup")
    made = backup(repo.store, target, label="store")
    repo.create_document("den", incoming(code_number="77"), b"%PDF-1.4\nnewer", "n.pdf", CLERK)
    return repo, target, made.backup_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forced_restore_reads_each_blob_once(backend: str, tmp_path: Path) -> None:
    repo, target, backup_id = _live(tmp_path, backend)
    counted = CountingReads(target)
    entries = read_manifest(target, backup_id)["objects"]
    done = restore(counted, repo.store, backup_id=backup_id, force=True)  # type: ignore[arg-type]
    assert done.removed > 0 and done.objects == len(entries)
    assert store_hashes(repo.store) == {e["key"]: e["sha256"] for e in entries}
    assert set(counted.reads) == {blob_key(e["sha256"]) for e in entries}
    assert max(counted.reads.values()) == 1, counted.reads.most_common(3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_blob_above_the_bound_is_read_again(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, target, backup_id = _live(tmp_path, backend)
    entries = read_manifest(target, backup_id)["objects"]
    largest = max(entries, key=lambda e: e["size"])
    monkeypatch.setattr(backups, "KEEP_BLOB_BYTES", largest["size"] - 1)
    counted = CountingReads(target)
    restore(counted, repo.store, backup_id=backup_id, force=True)  # type: ignore[arg-type]
    assert store_hashes(repo.store) == {e["key"]: e["sha256"] for e in entries}
    over = {blob_key(e["sha256"]) for e in entries if e["size"] > largest["size"] - 1}
    assert over and {key for key, n in counted.reads.items() if n == 2} == over
    assert all(n == 1 for key, n in counted.reads.items() if key not in over)


def test_a_damaged_blob_still_stops_the_restore_before_any_removal(tmp_path: Path) -> None:
    repo, target, backup_id = _live(tmp_path, "local")
    assert isinstance(target, LocalStore)
    entries = sorted(read_manifest(target, backup_id)["objects"], key=lambda e: e["key"])
    last = entries[-1]  # the blob the check reaches last: every other one was kept already
    (target.root / "objects" / blob_key(last["sha256"])).write_bytes(b"forged by the holder")
    before = store_hashes(repo.store)
    counted = CountingReads(target)
    with pytest.raises(BackupError) as refused:
        restore(counted, repo.store, backup_id=backup_id, force=True)  # type: ignore[arg-type]
    assert refused.value.code and "không khôi phục" in str(refused.value)
    assert store_hashes(repo.store) == before  # nothing removed, nothing overwritten
    # refused during the check: no other blob was read a second time (for a write)
    assert all(n == 1 for key, n in counted.reads.items() if key != blob_key(last["sha256"]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_checked_bytes_kept_stay_within_the_total_bound(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rv5: KEEP_TOTAL_BYTES bounds what the check keeps in all (not only each blob): with room
    for about half the blobs, the rest are read and checked again when written, and the store
    is still exactly the backup's."""
    repo, target, backup_id = _live(tmp_path, backend)
    manifest = read_manifest(target, backup_id)
    sizes = {e["sha256"]: e["size"] for e in manifest["objects"]}
    bound = sum(sorted(sizes.values())[: len(sizes) // 2])
    monkeypatch.setattr(backups, "KEEP_TOTAL_BYTES", bound)
    kept = backups.check_copies(target, manifest, keep=True)
    assert kept and len(kept) < len(sizes)
    assert sum(len(data) for data in kept.values()) <= bound
    counted = CountingReads(target)
    restore(counted, repo.store, backup_id=backup_id, force=True)  # type: ignore[arg-type]
    assert store_hashes(repo.store) == {e["key"]: e["sha256"] for e in manifest["objects"]}
    assert {key for key, n in counted.reads.items() if n == 1} == {blob_key(s) for s in kept}
    assert {key for key, n in counted.reads.items() if n >= 2} == {
        blob_key(s) for s in sizes if s not in kept
    }
