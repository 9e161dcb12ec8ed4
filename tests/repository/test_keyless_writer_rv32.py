"""rv32 (rv22's open item 1, after rv28's fix was reverted): a process without the seal key,
started before the log's first sealed event, stops at its first act after another writer sealed
one — with no request more than an act makes.

rv22 refuses a keyless process at its *first* append when the log's newest event is sealed. A
keyless process that had appended before (the log then unsealed) kept its cached head and went
on writing unsealed events after the sealed ones until it restarted. rv28 read the witnessed
event once per act after another writer's (one GET more per act on a multi-process
installation: reverted). Now a writer with the key says in the witness that the event it names
is sealed (``sealed``), and a keyless process reads the witness at every act anyway; on a
collision, the other writer's object read anyway says so too. Local folder and real Ceph S3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_testing import make_store

from kho.errors import AuditSealKeyMissing
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog
from repository.seals import Sealer

KEY = bytes(range(32))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_keyless_writer_started_before_the_first_seal_writes_nothing_after_it(
    kind: str, tmp_path: Path
) -> None:
    store = make_store(kind, tmp_path, "rv32-seal")
    keyless = AuditLog(store)
    keyless.append("vanthu", "record:view", record_id="r0")  # a log never sealed: it writes
    assert "sealed" not in json.loads(store.get(WITNESS_KEY))  # unsealed: the witness as before
    sealing = AuditLog(store, sealer=Sealer.from_master_key(KEY))
    sealed = sealing.append("vanthu", "record:view", record_id="r1")
    assert sealed.seal is not None
    before = [info.key for info in store.list(EVENTS_PREFIX)]
    witness = store.get(WITNESS_KEY)
    with pytest.raises(AuditSealKeyMissing) as refused:
        keyless.append("vanthu", "hold:place", record_id="r2", details={"hold_id": "h1"})
    assert refused.value.code == "AUDIT_SEAL_KEY_MISSING"
    assert "KHO_MASTER_KEY" in refused.value.message
    assert [info.key for info in store.list(EVENTS_PREFIX)] == before
    assert store.get(WITNESS_KEY) == witness
    assert json.loads(witness)["sealed"] is True  # what told it, read at every act anyway
    with pytest.raises(AuditSealKeyMissing):  # and at every later act
        keyless.append("vanthu", "record:view", record_id="r3")
    assert sealing.append("vanthu", "record:view", record_id="r4").seal is not None  # the keyed goes on


def test_a_keyless_writer_that_meets_a_sealed_event_at_its_number_writes_nothing(tmp_path: Path) -> None:
    """The witness not yet moved by the sealing writer (killed before its witness write): the
    keyless process's put collides with the sealed event, which it reads anyway."""
    store = make_store("local", tmp_path, "rv32-seal-race")
    keyless = AuditLog(store)
    first = keyless.append("vanthu", "record:view", record_id="r0")
    sealing = AuditLog(store, sealer=Sealer.from_master_key(KEY))
    sealing.append("vanthu", "record:view", record_id="r1")
    store.put(WITNESS_KEY, json.dumps({"format_version": 1, "seq": first.seq, "hash": first.hash}).encode())
    before = [info.key for info in store.list(EVENTS_PREFIX)]
    with pytest.raises(AuditSealKeyMissing):
        keyless.append("vanthu", "hold:place", record_id="r2", details={"hold_id": "h1"})
    assert [info.key for info in store.list(EVENTS_PREFIX)] == before
