"""rv28 (rv22's open item 1): a process without the seal key, started before the log's first
sealed event, stops at the first act after another writer sealed one.

rv22 refuses a keyless process at its *first* append when the log's newest event is sealed. A
keyless process that had appended before (the log then unsealed) kept its cached head and went
on writing unsealed events after the sealed ones until it restarted. Its next append always
meets the other writer's object at its cached position (the number is taken): that object's seal
is read there anyway, so the refusal costs no request. Local folder and real Ceph S3."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import make_store

from kho.errors import AuditSealKeyMissing
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog
from repository.seals import Sealer


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_keyless_writer_started_before_the_first_seal_writes_nothing_after_it(
    kind: str, tmp_path: Path
) -> None:
    store = make_store(kind, tmp_path, "rv28-seal")
    keyless = AuditLog(store)
    keyless.append("vanthu", "record:view", record_id="r0")  # a log never sealed: it writes
    sealing = AuditLog(store, sealer=Sealer.from_master_key(bytes(range(32))))
    sealed = sealing.append("vanthu", "record:view", record_id="r1")
    assert sealed.seal is not None
    before = [info.key for info in store.list(EVENTS_PREFIX)]
    witness = store.get(WITNESS_KEY)
    with pytest.raises(AuditSealKeyMissing) as refused:
        keyless.append("vanthu", "hold:place", record_id="r2", details={"hold_id": "h1"})
    assert refused.value.code == "AUDIT_SEAL_KEY_MISSING"
    assert [info.key for info in store.list(EVENTS_PREFIX)] == before
    assert store.get(WITNESS_KEY) == witness
    with pytest.raises(AuditSealKeyMissing):  # and at every later act
        keyless.append("vanthu", "record:view", record_id="r3")
    assert (
        sealing.append("vanthu", "record:view", record_id="r4").seal is not None
    )  # the keyed writer goes on
