"""Review rv44, attack on s18's rollback check through fsck's repair of the audit index (rv19):
a rebuild of the index forgets the account versions named by events that are gone. The writer of
the store deletes the newest version of an account *and* the event naming it (in the middle of
the log), and a row of the index is deleted in the data folder so that ``kho fsck --repair``
wants to rebuild it. Held: the repair refuses to rebuild from a broken chain
(``AUDIT_CHAIN_BROKEN``), so the host's index keeps the version named and the account stays
refused ``ACCOUNT_ROLLED_BACK``. Real local store, SQLite index in the data folder."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import audit_tamper as tamper
import pytest
from kho_people import PASSWORD, People
from kho_retention import closed_file

from kho.errors import KhoError
from repository.audit import object_named
from repository.audit_index import SqliteRecordIndex
from repository.fsck import fsck
from web.context import Kho


def _forget_rows(kho: Kho, record_id: str, action: str) -> None:
    """Delete the index rows of the record's events of ``action``, as a hand in the data folder
    would (``test_audit_index_tamper_rv19``)."""
    index = kho.repo.audit.record_index
    assert isinstance(index, SqliteRecordIndex)
    seqs = [e.seq for e in kho.repo.audit.record_events(record_id) if e.action == action]
    assert seqs
    with closing(sqlite3.connect(index.path)) as db, db:
        db.executemany("DELETE FROM events WHERE record_id=? AND seq=?", [(record_id, s) for s in seqs])


def test_the_repair_of_a_damaged_index_keeps_an_account_rolled_back_refused(kho: Kho, people: People) -> None:
    accounts = kho.accounts
    who = people.usernames["chuyen_vien"]
    live = accounts.issue_token(who, "rv44", accounts.authenticate(who, PASSWORD))
    accounts.lock(who, "admin", accounts.get(people.usernames["quan_tri"]))
    (locked,) = [e for e in kho.repo.audit.events() if e.action == "account:lock" and object_named(e)]
    _, docs = closed_file(kho, people, end="", docs=1)  # acts after the lock: it is not the end
    kho.repo.read_content(docs[0], actor=people.actor("van_thu"), action="content:download")
    # The writer of the store deletes the lock's version and its event (in the middle of the log).
    accounts.store.delete([i.key for i in accounts.store.list(f"accounts/{who}/")][-1])
    tamper.remove_event(kho.repo.store, locked.seq)
    with pytest.raises(KhoError) as refused:  # this host's index saw the event
        accounts.resolve_token(live)
    assert refused.value.code == "ACCOUNT_ROLLED_BACK"
    _forget_rows(kho, docs[0], "content:download")  # and the index is damaged: fsck repairs it
    repaired = [i for i in fsck(kho.repo, repair=True).issues if i.kind == "audit-index"]
    # The chain is broken (an event removed): the repair does not rebuild the index from it.
    assert len(repaired) == 1 and not repaired[0].repaired and repaired[0].refused == "AUDIT_CHAIN_BROKEN"
    with pytest.raises(KhoError) as still:
        accounts.resolve_token(live)
    assert still.value.code == "ACCOUNT_ROLLED_BACK"
