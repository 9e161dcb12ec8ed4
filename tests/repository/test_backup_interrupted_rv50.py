"""A backup or a restore killed half-way (review rv50).

The backup's manifest is written last: a copy killed among its blobs has none, so it is not
listed, cannot be restored by its id (a coded refusal, not a half copy restored), and the next
backup is made and restores bit-identical. A restore killed half-way leaves a target that is not
empty: a plain re-run is refused with a code, and a forced one ends with exactly the backed-up
state. Both against the real stores (the local folder and the Ceph S3 gateway)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from kho_testing import BACKENDS, CLERK, exit_code_in_child, incoming, make_store, new_repository

from kho.errors import BackupError
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, backups, restore, store_hashes, verify_backup

KILLED = 137


def _filled(tmp_path: Path) -> Repository:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    for n in range(4):
        content = b"%PDF-1.4\n" + bytes([n]) * (1500 + 300 * n)
        repo.create_document("den", incoming(code_number=f"{n + 1}"), content, f"cv{n}.pdf", CLERK)
    return repo


def _dying_after(store: ObjectStore, writes: int) -> None:
    """In a forked child: the process ends (as if killed) at ``store``'s ``writes``-th create."""
    real = store.put_if_absent
    count = [0]

    def put_if_absent(key: str, data: bytes) -> Any:
        count[0] += 1
        if count[0] == writes:
            os._exit(KILLED)
        return real(key, data)

    store.put_if_absent = put_if_absent  # type: ignore[method-assign]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_killed_among_its_blobs_is_not_listed_nor_restored_and_the_next_one_is_whole(
    backend: str, tmp_path: Path
) -> None:
    repo = _filled(tmp_path)
    destination = make_store(backend, tmp_path, "rv50-bk")

    def killed_backup() -> None:
        _dying_after(destination, 4)
        backup(repo.store, destination, label="store", backup_id="rv50-cut", settle_seconds=0)

    assert exit_code_in_child(killed_backup) == KILLED
    assert backups(destination, "store") == []
    with pytest.raises(BackupError) as refused:
        restore(destination, LocalStore(tmp_path / "from-cut"), backup_id="rv50-cut")
    assert refused.value.code == "BACKUP_INVALID"
    assert not list(LocalStore(tmp_path / "from-cut").list(""))  # nothing half restored
    made = backup(repo.store, destination, label="store", settle_seconds=0)
    assert backups(destination, "store") == [made.backup_id]
    assert verify_backup(destination, made.backup_id).ok
    target = LocalStore(tmp_path / "restored")
    restore(destination, target, backup_id=made.backup_id)
    assert store_hashes(target) == store_hashes(repo.store)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restore_killed_half_way_is_refused_plain_and_ends_whole_when_forced(
    backend: str, tmp_path: Path
) -> None:
    repo = _filled(tmp_path)
    destination = make_store("local", tmp_path, "rv50-bk")
    made = backup(repo.store, destination, label="store", settle_seconds=0)
    target = make_store(backend, tmp_path, "rv50-target")

    def killed_restore() -> None:
        _dying_after(target, 5)
        restore(destination, target, backup_id=made.backup_id)

    assert exit_code_in_child(killed_restore) == KILLED
    half = store_hashes(target)
    assert half and half != store_hashes(repo.store)
    with pytest.raises(BackupError) as refused:
        restore(destination, target, backup_id=made.backup_id)
    assert refused.value.code == "BACKUP_INVALID"
    assert store_hashes(target) == half  # the refusal wrote nothing
    restore(destination, target, backup_id=made.backup_id, force=True)
    assert store_hashes(target) == store_hashes(repo.store)
