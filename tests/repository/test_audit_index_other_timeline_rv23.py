"""The by-record audit index describes another timeline of the log (review rv19, open item 2).

The index (``<data>/audit-index.sqlite``) lives outside the store. When the store is put back to
an older copy and written on past the index's end (by a process on another host, which keeps its
own index, or before anyone reads), the index still held the entries of events no longer in the
log, had skipped the positions the new events took, and its secrecy map kept the secrecy of
versions that no longer exist. Its anchor (event 0's hash) is the same, so before nothing noticed
until a ``kho fsck``: a record's history lacked the new events, and a record declassified in the
lost timeline (secret again in the store) had its history shown to a kiểm toán viên whose
clearance does not cover it. The index now keeps the head it was built to and compares it with
the witness or with the next event's link at each read: another timeline is emptied and rebuilt."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, AGENCY_NAME, incoming, make_store

from repository.audit import AuditLog
from repository.audit_index import SqliteRecordIndex
from repository.fsck import fsck
from repository.policy import Principal, Role
from repository.records import Actor, Repository, is_withheld
from repository.storage.base import ObjectStore

WRITER = Actor("vanthu.test", "test", system=True)
LOW = Actor("kt.0", "test", Principal("kt.0", roles=frozenset({(AGENCY, Role.KIEM_TOAN)}), clearance=0))
HIGH = Actor("kt.3", "test", Principal("kt.3", roles=frozenset({(AGENCY, Role.KIEM_TOAN)}), clearance=3))


def _repository(store: ObjectStore, keys: ObjectStore, index: Path | None) -> Repository:
    """A Kho process on the store; ``index``: its audit index file (None: another host's
    process, whose index is not this one)."""
    return Repository(store, keys, agency_id=AGENCY, agency_name=AGENCY_NAME, audit_index=index)


def _views(repo: Repository, actor: Actor, record_id: str) -> list[tuple[int, bool]]:
    """The ``record:view`` events of ``record_id`` in the whole log as ``actor`` reads it: (seq,
    withheld)."""
    shown = repo.audit_events(actor=actor, action="record:view")
    return [(e.seq, is_withheld(e)) for e in shown if is_withheld(e) or e.record_id == record_id]


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_index_of_another_timeline_is_rebuilt_before_it_is_read(kind: str, tmp_path: Path) -> None:
    store, keys = make_store(kind, tmp_path, "rv23-ix"), make_store(kind, tmp_path, "rv23-ix-keys")
    index = tmp_path / "audit-index.sqlite"
    reader = _repository(store, keys, index)
    secret = reader.create_document("den", incoming(code_number="101", secrecy=2), None, None, WRITER)
    put_back = tamper.snapshot(store, tmp_path / "old-copy")  # the secret document, only
    # The timeline that will be lost: declassified, viewed, read by the low auditor (the map
    # notes "Thường"), and a few acts more.
    lowered = reader.update_metadata(secret.record_id, {"secrecy": 0}, expected_version=1, actor=WRITER)
    assert lowered.version == 2
    for _ in range(3):
        reader.audit.append("vanthu.test", "record:view", record_id=secret.record_id, version=2)
    assert [w for _, w in _views(reader, LOW, secret.record_id)] == [False, False, False]
    indexed = SqliteRecordIndex(index).next_seq()

    put_back()  # the store as it was: the document secret (version 1), the views never made
    # Another host writes on the copy past the index's end: a view of the (secret) document,
    # then other acts.
    other = _repository(store, keys, None)
    view = other.audit.append("vanthu.test", "record:view", record_id=secret.record_id, version=1)
    assert view is not None and view.seq < indexed
    for _ in range(indexed - view.seq + 1):
        other.audit.append("vanthu.test", "account:login")

    # A reader on the same index file (the reader's own process refuses to write its audited
    # read: events it wrote are gone, test_audit_forged_past.py) sees the new timeline: the view
    # is in the record's history, and withheld from the low auditor (twice: the second reads the
    # index as rebuilt).
    for _ in range(2):
        process = _repository(store, keys, index)
        history = process.audit_events(actor=HIGH, record_id=secret.record_id)
        assert view.seq in [e.seq for e in history], [e.seq for e in history]
        assert _views(process, LOW, secret.record_id) == [(view.seq, True)]
        assert _views(process, HIGH, secret.record_id) == [(view.seq, False)]
    head = SqliteRecordIndex(index).head()
    assert head is not None and head[1] == tamper.event_at(store, head[0]).hash


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_index_at_the_same_place_of_another_timeline_is_reset(kind: str, tmp_path: Path) -> None:
    """The witness names the very position the index was built to, with another hash: a reader
    rebuilds (no request more: the witness is read for the catch-up anyway); and a writer whose
    first event follows that position with another link resets it before adding its own."""
    store = make_store(kind, tmp_path, "rv23-ix")
    path = tmp_path / "audit-index.sqlite"
    log = AuditLog(store, index=SqliteRecordIndex(path))
    log.append("a", "record:view", record_id="r1")
    put_back = tamper.snapshot(store, tmp_path / "old-copy")
    lost = log.append("a", "record:view", record_id="r2")
    assert lost is not None
    put_back()
    new = AuditLog(store).append("b", "record:view", record_id="r3")  # #1 of the new timeline
    assert new is not None and new.seq == 1

    # A reader: the witness names #1 with another hash.
    reader = AuditLog(store, index=SqliteRecordIndex(path))
    assert [e.seq for e in reader.record_events("r2")] == []  # before: [] too, but #1 kept as r2's
    assert SqliteRecordIndex(path).seqs("r2") == []
    assert [e.seq for e in reader.record_events("r3")] == [1]  # before: missing (#1 counted indexed)
    assert SqliteRecordIndex(path).head() == (1, new.hash)

    # A writer: the index put back at #1 of the lost timeline, its first append at #2.
    stale = tmp_path / "stale.sqlite"
    log2 = AuditLog(store, index=SqliteRecordIndex(stale))
    log2.record_index.reset(tamper.event_at(store, 0).hash)
    log2.record_index.add([("r2", 1, 1)], 0, 2, last=(1, lost.hash))
    written = log2.append("c", "record:view", record_id="r4")
    assert written is not None and written.seq == 2
    assert SqliteRecordIndex(stale).seqs("r2") == []  # emptied: the lost event's entry gone
    assert SqliteRecordIndex(stale).seqs("r4") == [(2, 2)]


def test_a_secrecy_map_lowered_by_hand_is_named_by_fsck_and_repaired(tmp_path: Path) -> None:
    """A hand in the data folder lowers a secret record's row of the secrecy map: the low
    kiểm toán viên is shown its history (the map is trusted between fscks, as the rest of the
    index). ``kho fsck`` compares every row it would answer with the record (step 9b) and names
    it; ``--repair`` rebuilds the index and the history is withheld again. Before, fsck compared
    only the event rows."""
    store, keys = make_store("local", tmp_path, "rv23-ix"), make_store("local", tmp_path, "rv23-ix-keys")
    index = tmp_path / "audit-index.sqlite"
    repo = _repository(store, keys, index)
    secret = repo.create_document("den", incoming(code_number="101", secrecy=2), None, None, WRITER)
    view = repo.audit.append("vanthu.test", "record:view", record_id=secret.record_id, version=1)
    assert view is not None
    assert _views(repo, LOW, secret.record_id) == [(view.seq, True)]  # noted: secrecy 2
    with closing(sqlite3.connect(index)) as db:
        assert db.execute("SELECT record_id, version, secrecy FROM secrecy").fetchall() == [
            (secret.record_id, 1, 2)
        ]
    assert [i.kind for i in fsck(repo).issues if i.kind == "audit-index"] == []

    with closing(sqlite3.connect(index)) as db, db:
        db.execute("UPDATE secrecy SET secrecy = 0 WHERE record_id = ?", (secret.record_id,))
    assert _views(repo, LOW, secret.record_id) == [(view.seq, False)]  # the hole fsck must name

    found = [i for i in fsck(repo).issues if i.kind == "audit-index"]
    assert len(found) == 1 and found[0].repairable and not found[0].repaired
    assert secret.record_id in found[0].message
    repaired = [i for i in fsck(repo, repair=True).issues if i.kind == "audit-index"]
    assert len(repaired) == 1 and repaired[0].repaired
    assert _views(repo, LOW, secret.record_id) == [(view.seq, True)]
    assert [i.kind for i in fsck(repo).issues if i.kind == "audit-index"] == []
