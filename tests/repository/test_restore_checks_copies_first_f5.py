"""A forced restore over a live store from a copy with one damaged or missing blob (the holder of
the backup destination can change any blob; the manifest's seal does not cover the blobs' bytes)
must be refused before the first removal or write: the live store stays as it was, nothing newer
than the copy is lost, and the refusal carries a code."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from kho.errors import BackupError
from repository.records import Repository
from repository.storage.local import LocalStore
from retention.backup import backup, blob_key, read_manifest, restore, store_hashes


def _repo(tmp_path: Path) -> Repository:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    for n in range(4):
        content = b"%PDF-1.4\n" + bytes([n]) * (2000 + 300 * n)
        repo.create_document("den", incoming(code_number=f"{n + 1}"), content, f"cv{n}.pdf", CLERK)
    return repo


CASES = [(backend, "missing") for backend in BACKENDS] + [("local", "changed")]
"""A blob changed in place: in a folder (a versioned bucket keeps the original, which
:func:`read_blob` finds)."""


@pytest.mark.parametrize(("backend", "damage"), CASES)
def test_a_forced_restore_from_a_damaged_copy_changes_nothing(
    backend: str, damage: str, tmp_path: Path
) -> None:
    repo = _repo(tmp_path)
    target = make_store(backend, tmp_path, "backup")
    made = backup(repo.store, target, label="store")
    newer = repo.create_document("den", incoming(code_number="77"), b"%PDF-1.4\nnewer", "n.pdf", CLERK)
    before = store_hashes(repo.store)
    entries = sorted(read_manifest(target, made.backup_id)["objects"], key=lambda e: e["key"])
    last = entries[-1]  # the blob a restore in key order reaches last
    if damage == "changed":
        assert isinstance(target, LocalStore)
        (target.root / "objects" / blob_key(last["sha256"])).write_bytes(b"forged by the holder")
    else:
        target.delete(blob_key(last["sha256"]))
    with pytest.raises(BackupError) as refused:
        restore(target, repo.store, backup_id=made.backup_id, force=True)
    assert refused.value.code and "không khôi phục" in str(refused.value)
    assert store_hashes(repo.store) == before  # nothing removed, nothing overwritten
    assert repo.get(newer.record_id, actor=CLERK).record_id == newer.record_id  # still readable
