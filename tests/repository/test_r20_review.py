"""Review r20 of branch v1 (no look past an act's own events after a conditional witness replace;
the companion bucket checked to honour ``If-None-Match``/``If-Match`` when the store opens).

Real local folders and the real Ceph gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import make_store

from repository.audit import WITNESS_KEY, AuditLog, EventDraft, read_witness


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_restore_of_the_witness_moves_on_past_events_written_meanwhile(
    backend: str, tmp_path: Path
) -> None:
    """``kho fsck --repair`` restores a witness lost to a kill at the newest event its check saw;
    events a writer (dead since) appended between that check and the restore are witnessed too:
    the restore keeps its look past its own event although its replace is conditional (v1's
    commit d441e46, which had no test: without it the witness stays at the event fsck saw)."""
    store = make_store(backend, tmp_path, "r20restore")
    log = AuditLog(store)
    first = log.append("w", "a:0")
    later = log.append_many([EventDraft("w", "a:1"), EventDraft("w", "a:2")])  # "meanwhile"
    store.delete(WITNESS_KEY)  # as lost to a kill (the log's first act)
    AuditLog(store).restore_witness(first.seq, first.hash)
    assert read_witness(store)["seq"] == later[-1].seq
    assert AuditLog(store).verify().ok
