"""Review r19 of the merge integ17: s3's check of a running process's last event (the witness
past its cached end) on an S3 store of s2's layout, during the upgrade's move, after a cut an
auditor acknowledged (``kho audit acknowledge`` moves the witness on purpose).

Two running processes of the upgraded code on an old-layout store (the witness in the data
bucket): the first's first act moves the witness, the second writes after it. Then the first's
last event, or the tail, is cut and an auditor acknowledges. Neither running process may be
refused (its last event gone but acknowledged since), the log verifies with no open finding,
and the witness stays in the companion bucket. Passes on integ17: coverage the per-branch
reviews could not have (s3 tested its check with the witness in place, s2 the move without it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import acknowledge_cut, make_store, outside_anchor, s3_options, two_event_act

from repository import formats
from repository.anchor import verify_anchored
from repository.audit import WITNESS_KEY, AuditLog, event_key, read_witness
from repository.storage import open_store
from repository.storage.s3 import S3Store

pytestmark = pytest.mark.s3


def _same(store: S3Store) -> S3Store:
    """The store as another process opens it."""
    other = open_store(f"s3://{store.bucket}", **(s3_options() or {}))
    assert isinstance(other, S3Store)
    return other


@pytest.mark.parametrize("cut", ["first-process-last-event", "tail"])
def test_running_processes_pass_a_cut_acknowledged_after_the_move(cut: str, tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "r19ack")
    assert isinstance(store, S3Store)
    old = AuditLog(store)
    for n in range(2):  # the old layout: #0–#3, the witness in the data bucket only
        events = two_event_act(old, f"old{n}")
        body = formats.dumps(formats.WITNESS.name, {"seq": events[-1].seq, "hash": events[-1].hash})
        store._client._execute("PUT", store.bucket, WITNESS_KEY, body=body, headers={})
    store._client.remove_object(store.claims_bucket, "pointers/" + WITNESS_KEY)
    anchor = outside_anchor(tmp_path)
    first, second = AuditLog(_same(store)), AuditLog(_same(store))
    assert [e.seq for e in two_event_act(first, "a")] == [4, 5]  # moves the witness
    assert [e.seq for e in two_event_act(second, "b")] == [6, 7]
    store.delete(event_key(4) if cut == "first-process-last-event" else event_key(6))
    assert not AuditLog(store).verify().ok
    acknowledge_cut(store, anchor, "Sự cố đã được kiểm tra và ghi nhận")
    for log, name in ((first, "a2"), (second, "b2")):
        two_event_act(log, name)  # no AUDIT_CHAIN_BROKEN: the cut was acknowledged after its event
    assert verify_anchored(AuditLog(store), anchor).open_findings == ()
    assert read_witness(_same(store))["seq"] == max(e.seq for e in AuditLog(store).events())
    store._client.stat_object(store.claims_bucket, "pointers/" + WITNESS_KEY)  # in its new place
