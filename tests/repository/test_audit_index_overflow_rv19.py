"""An event planted past the log's end carrying a number SQLite cannot hold (review rv19).

Readers catch the by-record index up "past the witness while events exist" (a writer may not
have moved it yet), so a store writer's copy of an event with ``"seq": 2**64`` or
``"version": 2**64`` was read into ``SqliteRecordIndex.add``: OverflowError, on every catch-up,
so every record's history (the record page, ``kho audit log --record``, the hold check before
a change) failed for everyone, for good. The index is derived: such an entry is left out, the
histories read, and ``verify`` names the planted event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_testing import AGENCY, AGENCY_NAME, BACKENDS, CLERK, incoming, make_store

from repository.audit import event_key, raw_holding, read_witness
from repository.records import Repository


@pytest.mark.parametrize("field", ["seq", "version"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_event_with_a_number_sqlite_cannot_hold_does_not_stop_every_history(
    backend: str, field: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "ov"), make_store(backend, tmp_path, "ovk")

    def opened() -> Repository:
        return Repository(
            store,
            keys,
            agency_id=AGENCY,
            agency_name=AGENCY_NAME,
            audit_index=tmp_path / "audit-index.sqlite",
        )

    repo = opened()
    record_id = repo.create_document("den", incoming(code_number="1"), None, None, CLERK).record_id
    before = [e.action for e in repo.audit.record_events(record_id)]
    assert before
    last = int(read_witness(store)["seq"])  # the log's newest event (the end of a batch)
    held = raw_holding(store, last)
    assert held is not None
    planted = {**held[1][last - held[0]], "seq": last + 1, field: 2**64}
    store.put_if_absent(event_key(last + 1), json.dumps(planted).encode())

    fresh = opened()
    assert [e.action for e in fresh.audit.record_events(record_id)][: len(before)] == before
    assert not fresh.audit.verify().ok  # the planted event is named
