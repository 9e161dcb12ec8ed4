"""A store writer overwrites the audit witness with bytes that are no witness (not JSON, a JSON
list, JSON nested too deep, a made-up newer format). Review rv19: on main every audited act then
failed with FORMAT_INVALID / a RecursionError (HTTP 500), and ``verify`` raised instead of
reporting, so ``kho audit acknowledge`` (which starts with verify) could never run: no way out
but a hand in the store. Now the act is refused with AUDIT_CHAIN_BROKEN (503), verify names the
witness, and the auditor's acknowledgement (signed outside the store) lets acts go on again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_testing import AUDITOR, BACKENDS, CLERK, LOGIN, incoming, make_store, new_repository, outside_anchor

from kho.errors import AuditChainBroken
from repository.acknowledge import findings_digest
from repository.anchor import Anchor, make_checkpoint, verify_anchored
from repository.audit import ACKNOWLEDGE_ACTION, WITNESS_KEY, read_witness
from repository.records import Repository
from repository.storage.base import ObjectStore

REASON = "Bản ghi chứng bị ghi đè bằng dữ liệu rác; đã đối chiếu với điểm mốc, không mất sự kiện."

NOT_A_WITNESS = {
    "not-json": b"\x00not json",
    "a-list": b"[]",
    "nested-too-deep": b"[" * 100_000 + b"]" * 100_000,
    "newer-format": json.dumps({"format_version": 99, "seq": 1, "hash": "0" * 64}).encode(),
}


def _repo(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> Repository:
    repo = new_repository(store, keys)
    repo.anchor = anchor
    return repo


def _create(repo: Repository, number: int) -> str:
    return repo.create_document("den", incoming(code_number=str(number)), None, None, CLERK).record_id


@pytest.mark.parametrize("witness", sorted(NOT_A_WITNESS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_that_is_no_witness_refuses_acts_and_the_auditor_can_acknowledge_it(
    backend: str, witness: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "wu"), make_store(backend, tmp_path, "wuk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2):
        _create(repo, n)
    make_checkpoint(store, anchor)
    store.put(WITNESS_KEY, NOT_A_WITNESS[witness])

    fresh = _repo(store, keys, anchor)
    if witness == "newer-format":
        # A newer Kho may have written it: this one must not write past it, but verify and the
        # acknowledgement must still answer (below).
        with pytest.raises(Exception) as refused:
            _create(fresh, 3)
        assert getattr(refused.value, "code", None) in {"FORMAT_UNSUPPORTED", "AUDIT_CHAIN_BROKEN"}
    else:
        with pytest.raises(AuditChainBroken):
            _create(fresh, 3)

    report = verify_anchored(fresh.audit, anchor)
    assert [f.kind for f in report.open_findings] == ["truncated"], report.findings
    assert "witness" in report.open_findings[0].message

    event, cp, after = fresh.audit_acknowledge(
        actor=AUDITOR, digest=findings_digest(report.findings), reason=REASON, login=LOGIN
    )
    assert event.action == ACKNOWLEDGE_ACTION
    assert event.details["witness"] == {"state": "unreadable"}
    assert cp["acknowledges"] == {"seq": event.seq, "hash": event.hash}
    assert read_witness(store)["seq"] == event.seq
    assert after.ok, after.findings

    again = _repo(store, keys, anchor)
    _create(again, 4)
    assert verify_anchored(again.audit, anchor).ok
