"""A hand in the data folder edits the by-record index of the audit log
(``<data>/audit-index.sqlite``: derived data, outside the store). Review rv19: deleting a
record's rows hid acts from its history (the record page, ``kho audit log --record``) and,
with the hold object deleted too, let every change a hold blocks through; nothing named it.
Now ``kho fsck`` compares the index with the log (step 9b), names it, and ``--repair``
rebuilds it: the history shows the act again and the change is refused again."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import LegalHold
from repository.audit_index import SqliteRecordIndex
from repository.fsck import fsck
from retention.holds import Holds
from web.context import Kho


def _forget_rows(kho: Kho, record_id: str, actions: set[str]) -> int:
    """Delete, as a hand in the data folder would, the index rows of the record's events of
    ``actions`` (both tables); the number of events hidden."""
    index = kho.repo.audit.record_index
    assert isinstance(index, SqliteRecordIndex)
    seqs = [e.seq for e in kho.repo.audit.record_events(record_id) if e.action in actions]
    assert seqs
    with closing(sqlite3.connect(index.path)) as db, db:
        for table in ("events", "holds"):
            db.executemany(f"DELETE FROM {table} WHERE record_id=? AND seq=?", [(record_id, s) for s in seqs])
    return len(seqs)


def _actions(kho: Kho, record_id: str) -> list[str]:
    return [e.action for e in kho.repo.audit.record_events(record_id)]


def test_an_index_row_deleted_by_hand_is_named_by_fsck_and_the_repair_shows_the_act_again(
    kho: Kho, people: People
) -> None:
    _, docs = closed_file(kho, people, end="", docs=1)
    kho.repo.read_content(docs[0], actor=people.actor("van_thu"), action="content:download")
    assert "content:download" in _actions(kho, docs[0])
    assert [i.kind for i in fsck(kho.repo).issues if i.kind == "audit-index"] == []

    _forget_rows(kho, docs[0], {"content:download"})
    assert "content:download" not in _actions(kho, docs[0])  # the history hides the download

    found = [i for i in fsck(kho.repo).issues if i.kind == "audit-index"]
    assert len(found) == 1 and found[0].repairable and not found[0].repaired
    repaired = [i for i in fsck(kho.repo, repair=True).issues if i.kind == "audit-index"]
    assert len(repaired) == 1 and repaired[0].repaired
    assert "content:download" in _actions(kho, docs[0])
    assert [i.kind for i in fsck(kho.repo).issues if i.kind == "audit-index"] == []


def test_a_hold_hidden_from_the_index_and_deleted_from_the_store_refuses_again_after_the_repair(
    kho: Kho, people: People
) -> None:
    _, docs = closed_file(kho, people, end="", docs=1)
    Holds(kho.repo).place([docs[0]], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    for info in list(kho.repo.store.list(f"holds/{docs[0]}/")):
        kho.repo.store.delete(info.key)
    _forget_rows(kho, docs[0], {"hold:place"})
    clerk = people.actor("van_thu")
    version = kho.repo._load(docs[0]).version
    # The read path trusts the index: the edit goes through (what the attacker wanted) ...
    kho.repo.update_metadata(docs[0], {"subject": "Đổi trích yếu"}, expected_version=version, actor=clerk)
    # ... and fsck names both the deleted hold (from the log) and the edited index.
    kinds = {i.kind for i in fsck(kho.repo, repair=True).issues}
    assert {"hold-missing", "audit-index"} <= kinds
    with pytest.raises(LegalHold) as refused:
        kho.repo.update_metadata(
            docs[0], {"subject": "Đổi lần nữa"}, expected_version=version + 1, actor=clerk
        )
    assert refused.value.code == "HOLD_MISSING"
