"""rv43 (held): a backup taken while a creation is between its first step and its commit point
restores to a pair of stores where every record the records copy holds anything of has its key
(m30's key copy leaves out only young keys of records the records copy holds nothing of). Run
with a writer whose clock is right (its record is young: left out whole of both copies) and one
whose clock lags by ten minutes (its record looks old: the records copy keeps what it holds of
it, so its key must be copied too)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

import repository.records as records_module
from repository.fsck import fsck
from repository.storage.local import LocalStore
from retention.backup import backup, restore


@pytest.mark.parametrize("lag_seconds", [0.0, 600.0], ids=["clock-right", "clock-lags"])
def test_a_backup_taken_before_a_creations_commit_point_restores_every_held_record_with_its_key(
    lag_seconds: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    first = repo.create_document("den", incoming(code_number="1"), pdf_bytes("first"), "a.pdf", CLERK)
    copies: dict[str, LocalStore] = {}
    real_allocate = repo._allocate

    def allocate(*args: object, **kwargs: object) -> object:
        # Both copies are taken while this creation's marker, key and original are durable and
        # its register entry (the commit point) is not written yet.
        copies["store"] = LocalStore(tmp_path / "b-store")
        made = backup(repo.store, copies["store"], label="store")
        copies["keys"] = LocalStore(tmp_path / "b-keys")
        backup(repo.keys.store, copies["keys"], label="keys", records=made.records)
        return real_allocate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(
        records_module,
        "new_record_id",
        lambda: f"{int((time.time() - lag_seconds) * 1000):012x}{os.urandom(6).hex()}",
    )
    monkeypatch.setattr(repo, "_allocate", allocate)
    late = repo.create_document("den", incoming(code_number="2"), pdf_bytes("late"), "b.pdf", CLERK)
    monkeypatch.undo()

    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copies["store"], fresh.store)
    restore(copies["keys"], fresh.keys.store)
    held = set(fresh.record_ids()) | {i.key.split("/")[1] for i in fresh.store.list("records/")}
    assert first.record_id in held
    # right clock: young, left out whole; lagging clock: looks old, what the copy holds is kept
    assert (late.record_id in held) == (lag_seconds > 0), held
    for record_id in held:
        assert fresh.keys.exists(record_id), record_id  # no record restored without its key
    # what the copy holds of the creation in flight is a creation that stopped: fsck removes it
    fsck(fresh, repair=True, grace_seconds=0)
    assert fsck(fresh, deep=True, grace_seconds=0).clean
    assert set(fresh.record_ids()) == {first.record_id}
    assert late.record_id not in {i.key.split("/")[1] for i in fresh.keys.store.list("keys/")}
    assert fresh.read_content(first.record_id, actor=CLERK)[1].startswith(b"%PDF")
