"""rv28 (rv23's open item 1): a store put back to a state *after* its newest checkpoint.

rv23 refuses a process's first write to a store behind the newest signed checkpoint. A copy
taken after that checkpoint holds the checkpoint's event: nothing outside the store knew the
events written after it, so a fresh process appended to the past and issued the numbers given
since again. Now every process that writes notes the head it wrote (position and hash) in the
checkpoint folder outside the store (``written-head.state``); the first write of a fresh process
compares the log with it too. Local folder and real Ceph S3."""

from __future__ import annotations

import time
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, CLERK, acknowledge_cut, incoming, make_store, outside_anchor

from kho.errors import AuditChainBroken, AuditHistoryBehind
from repository.anchor import make_checkpoint
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.rollback import NOTE_EVERY

_numbers = tamper.register_numbers
_keys = tamper.store_keys
_open = tamper.fresh_process


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_store_put_back_after_the_newest_checkpoint_is_refused(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, "rv28-store")
    keystore = make_store(kind, tmp_path, "rv28-keys")
    anchor = outside_anchor(tmp_path)
    repo = _open(store, keystore, anchor)
    repo.create_document("den", incoming(code_number="101"), None, None, CLERK)
    make_checkpoint(store, anchor)
    repo.create_document("den", incoming(code_number="102"), None, None, CLERK)
    put_back = tamper.snapshot(store, tmp_path / "old-copy")  # after the checkpoint: it holds its event
    repo.create_document("den", incoming(code_number="103"), None, None, CLERK)
    assert _numbers(repo) == [1, 2, 3]
    time.sleep(NOTE_EVERY + 0.5)  # a busy process notes its head at most every NOTE_EVERY seconds
    put_back()

    fresh = _open(store, keystore, anchor)
    assert _numbers(fresh) == [1, 2]
    before, witness = _keys(store), store.get(WITNESS_KEY)
    with pytest.raises(AuditHistoryBehind) as refused:
        fresh.create_document("den", incoming(code_number="104"), None, None, CLERK)
    assert refused.value.code == "AUDIT_HISTORY_BEHIND"
    assert "ghi chú ngoài kho" in refused.value.message and "kho restore" in refused.value.message
    assert _keys(store) == before and store.get(WITNESS_KEY) == witness  # số 3 not issued again
    with pytest.raises(AuditHistoryBehind):
        _open(store, keystore, anchor).registers.allocate(
            AGENCY, 2026, "den", lambda n: pytest.fail(f"number {n} taken")
        )

    # the auditor's acknowledgement moves the note: processes write again
    acknowledge_cut(store, anchor, "Kho bị chép đè bằng bản sau điểm mốc; đã xác minh, tiếp tục")
    again = _open(store, keystore, anchor)
    record = again.create_document("den", incoming(code_number="105"), None, None, CLERK)
    assert record.registration is not None


def test_a_cut_end_is_still_named_a_cut_and_writes_go_on_without_a_folder(tmp_path: Path) -> None:
    """The note does not change what a cut log answers (AUDIT_CHAIN_BROKEN, the witness names
    the missing event), and an installation without a folder writes as before."""
    store = make_store("local", tmp_path, "rv28-store")
    keystore = make_store("local", tmp_path, "rv28-keys")
    anchor = outside_anchor(tmp_path)
    repo = _open(store, keystore, anchor)
    for n in (1, 2):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    store.delete([info.key for info in store.list(EVENTS_PREFIX)][-1])
    with pytest.raises(AuditChainBroken) as refused:
        _open(store, keystore, anchor).create_document("den", incoming(code_number="103"), None, None, CLERK)
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"

    bare = make_store("local", tmp_path, "rv28-bare")
    plain = _open(bare, make_store("local", tmp_path, "rv28-bare-keys"), None)
    plain.create_document("den", incoming(code_number="201"), None, None, CLERK)
    assert _numbers(_open(bare, keystore, None)) == [1]
