"""rv32: a restore's note planted in the checkpoint folder does not open a store put back.

``kho restore`` leaves ``restored-head.state`` in the checkpoint folder: the head it restored,
which supersedes the signed checkpoints numbered up to ``through``. The note was unsigned, and
the folder is by default ``<data>/audit-checkpoints``, beside the local store: whoever put the
store back behind its newest signed checkpoint could plant a note naming the head of the copy
with a high ``through``, and a fresh process appended to the past again (re-issuing the numbers
given since). Now, where an audit key is configured, ``kho restore`` signs the note and a note
counts only with a signature that holds. Local folder and real Ceph S3."""

from __future__ import annotations

import json
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import CLERK, incoming, make_store, outside_anchor

from kho.errors import AuditHistoryBehind
from repository.anchor import make_checkpoint
from repository.rollback import RESTORED_HEAD, WRITTEN_HEAD, log_head, note_restored, restored_head


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_planted_restore_note_does_not_open_a_store_put_back(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, "rv32-note")
    keystore = make_store(kind, tmp_path, "rv32-note-keys")
    anchor = outside_anchor(tmp_path)
    repo = tamper.fresh_process(store, keystore, anchor)
    repo.create_document("den", incoming(code_number="101"), None, None, CLERK)
    put_back = tamper.snapshot(store, tmp_path / "old-copy")
    repo.create_document("den", incoming(code_number="102"), None, None, CLERK)
    make_checkpoint(store, anchor)
    put_back()
    if kind == "local":
        from repository.storage.local import LocalStore

        store = LocalStore(store.root)  # type: ignore[attr-defined]
    seq, digest = log_head(store)
    assert anchor.checkpoint_dir is not None
    planted = {"seq": seq, "hash": digest, "through": 10**6, "at": "2026-12-05T00:00:00Z", "backup_id": "x"}
    (anchor.checkpoint_dir / RESTORED_HEAD).write_text(json.dumps(planted), encoding="utf-8")
    repo.history_guard.close()  # (its last note written now, then removed by the same hand: unsigned too)
    (anchor.checkpoint_dir / WRITTEN_HEAD).unlink()

    fresh = tamper.fresh_process(store, keystore, anchor)
    before = tamper.store_keys(store)
    with pytest.raises(AuditHistoryBehind) as refused:
        fresh.create_document("den", incoming(code_number="103"), None, None, CLERK)
    assert "điểm mốc ký số số 1" in refused.value.message
    assert tamper.store_keys(store) == before  # số 2 not issued again

    # the note kho restore writes is signed, and counts
    note = note_restored(store, anchor, backup_id="restored-by-the-operator")
    assert note is not None and note["signature"]
    assert restored_head(anchor.checkpoint_dir, anchor.public_key()) == note
    again = tamper.fresh_process(store, keystore, anchor)
    assert (
        again.create_document("den", incoming(code_number="104"), None, None, CLERK).registration is not None
    )
