"""The audit chain finds a changed, removed, inserted or reordered event and names it."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository

from repository.audit import AuditEvent, AuditLog, event_key
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture
def chain(tmp_path: Path) -> tuple[Repository, LocalStore]:
    store = LocalStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    for n in range(4):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    assert repo.audit.verify().ok and repo.audit.verify().events == 8
    return repo, store


def _path(store: LocalStore, seq: int) -> Path:
    return store.root / "objects" / event_key(seq)


def _findings(repo: Repository) -> list[tuple[str, int]]:
    return [(f.kind, f.seq) for f in AuditLog(repo.store).verify().findings]


def test_events_carry_who_what_which_when_where(chain: tuple[Repository, LocalStore]) -> None:
    repo, _ = chain
    first = next(repo.audit.events())
    assert first.actor == CLERK.user and first.source == CLERK.source
    assert first.action == "record:create" and first.record_id and first.version == 1
    assert first.at.endswith("Z")  # stored in UTC


def test_changed_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    data = json.loads(_path(store, 3).read_text())
    data["actor"] = "ke.gian"
    _path(store, 3).write_text(json.dumps(data))
    assert _findings(repo) == [("changed", 3)]


def test_changed_event_with_recomputed_hash_breaks_the_chain(
    chain: tuple[Repository, LocalStore],
) -> None:
    repo, store = chain
    event = AuditEvent.from_json(_path(store, 3).read_bytes())
    forged = replace(event, actor="ke.gian")
    forged = replace(forged, hash=forged.compute_hash())
    _path(store, 3).write_bytes(forged.to_json())
    assert _findings(repo) == [("inserted", 3)]


def test_removed_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    _path(store, 5).unlink()
    assert _findings(repo) == [("removed", 5)]


def test_removed_last_events_are_found_by_the_witness(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    _path(store, 7).unlink()
    _path(store, 6).unlink()
    assert _findings(repo) == [("truncated", 6)]


def test_inserted_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    # Shift events 4..7 up by one and forge a well-formed event at 4.
    for seq in range(7, 3, -1):
        _path(store, seq).rename(_path(store, seq + 1))
    before = AuditEvent.from_json(_path(store, 3).read_bytes())
    forged = AuditEvent(
        seq=4,
        at=before.at,
        actor="ke.gian",
        action="content:download",
        record_id=before.record_id,
        version=1,
        source="10.0.0.9",
        prev=before.hash,
    )
    forged = AuditEvent(**{**asdict(forged), "hash": forged.compute_hash()})
    _path(store, 4).write_bytes(forged.to_json())
    findings = _findings(repo)
    assert ("inserted", 4) in findings
    assert ("moved", 5) in findings


def test_reordered_events_are_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    a, b = _path(store, 2).read_bytes(), _path(store, 3).read_bytes()
    _path(store, 2).write_bytes(b)
    _path(store, 3).write_bytes(a)
    findings = _findings(repo)
    assert ("moved", 2) in findings and ("moved", 3) in findings


def test_appending_continues_the_chain_across_processes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    one, two = AuditLog(store), AuditLog(store)
    one.append("a", "x:y")
    two.append("b", "x:y")
    one.append("c", "x:y")
    events = list(AuditLog(store).events())
    assert [e.seq for e in events] == [0, 1, 2]
    assert [e.actor for e in events] == ["a", "b", "c"]
    assert AuditLog(store).verify().ok


def test_a_batch_writes_its_events_in_one_append_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    log = AuditLog(store)
    log.append("u1", "record:create", record_id="R1")
    witness_writes = []
    original = store.put

    def counting_put(key: str, data: bytes, *args: object, **kw: object) -> object:
        if key.endswith("witness.json"):
            witness_writes.append(key)
        return original(key, data, *args, **kw)

    store.put = counting_put  # type: ignore[method-assign]
    with log.batch():
        assert log.append("u2", "record:read", record_id="R1") is None
        assert log.append("u2", "audit:read") is None
        assert [e.action for e in log.events()] == ["record:create"]  # nothing written yet
    events = list(log.events())
    assert [(e.seq, e.action) for e in events] == [
        (0, "record:create"), (1, "record:read"), (2, "audit:read")
    ]
    assert events[1].at == events[2].at and events[2].prev == events[1].hash
    assert len(witness_writes) == 1  # the witness moved once, past the batch
    assert AuditLog(store).verify().ok


def test_a_batch_is_written_when_its_block_fails(tmp_path: Path) -> None:
    log = AuditLog(LocalStore(tmp_path / "s"))
    with pytest.raises(RuntimeError), log.batch():
        log.append("u1", "access:denied", record_id="R1")
        raise RuntimeError("denied")
    assert [e.action for e in log.events()] == ["access:denied"]


def test_a_records_events_come_from_the_index_and_follow_other_writers(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    reader, writer = AuditLog(store), AuditLog(store)  # two processes
    writer.append("u1", "record:create", record_id="R1")
    writer.append("u1", "record:create", record_id="R2")
    assert [e.seq for e in reader.query(record_id="R1")] == [0]  # first use: built by one scan
    writer.append("u2", "content:download", record_id="R1")
    writer.append("u2", "search")
    writer.append("u2", "record:read", record_id="R1")
    (store.root / "objects" / event_key(2)).unlink()  # a removed event: the later ones still come
    listed = store.list
    store.list = lambda *a, **k: pytest.fail("a record's history must not scan the log")  # type: ignore[method-assign]
    history = [(e.seq, e.action) for e in reader.query(record_id="R1")]
    assert history == [(0, "record:create"), (4, "record:read")]
    reader.append("u3", "content:download", record_id="R1")
    assert [e.seq for e in reader.query(record_id="R1", action="content:")] == [5]
    store.list = listed  # type: ignore[method-assign]
    scanned = [e.seq for e in AuditLog(store).events() if e.record_id == "R1"]
    assert [e.seq for e in reader.query(record_id="R1")] == scanned == [0, 4, 5]
