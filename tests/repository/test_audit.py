"""The audit chain finds a changed, removed, inserted or reordered event and names it."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, AGENCY_NAME, BACKENDS, CLERK, incoming, make_store, new_repository

from repository import formats
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditEvent, AuditLog, EventDraft, event_key
from repository.audit_index import SqliteRecordIndex
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture(params=[True, False], ids=["batches", "single-events"])
def chain(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Repository, LocalStore]:
    """Four registered records: eight events, written as four batches of two (group commit, the
    default) or as eight single events. Every tamper case is found the same in both."""
    store = LocalStore(tmp_path / "s")
    repo = Repository(store, LocalStore(tmp_path / "k"), agency_id=AGENCY, agency_name=AGENCY_NAME,
                      audit_group_commit=request.param)
    for n in range(4):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    assert repo.audit.verify().ok and repo.audit.verify().events == 8
    assert tamper.is_batched(store) is request.param
    return repo, store


def _findings(repo: Repository) -> list[tuple[str, int]]:
    return [(f.kind, f.seq) for f in AuditLog(repo.store).verify().findings]


def test_group_commit_is_on_by_default(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    assert repo.audit.group_commit is True and AuditLog(repo.store).group_commit is True
    repo.create_document("den", incoming(), None, None, CLERK)
    assert [i.key for i in repo.store.list(EVENTS_PREFIX)] == [event_key(0)]  # one batch of two


def test_events_carry_who_what_which_when_where(chain: tuple[Repository, LocalStore]) -> None:
    repo, _ = chain
    first = next(repo.audit.events())
    assert first.actor == CLERK.user and first.source == CLERK.source
    assert first.action == "record:create" and first.record_id and first.version == 1
    assert first.at.endswith("Z")  # stored in UTC


def test_changed_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain

    def forge(raw: dict[str, Any]) -> None:
        raw["actor"] = "ke.gian"

    tamper.edit_event(store, 3, forge)  # the second event of a batch
    assert _findings(repo) == [("changed", 3)]


def test_changed_first_event_of_a_batch_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain

    def forge(raw: dict[str, Any]) -> None:
        raw["details"] = {**raw["details"], "note": "sửa"}

    tamper.edit_event(store, 4, forge)
    assert _findings(repo) == [("changed", 4)]


def test_changed_event_with_recomputed_hash_breaks_the_chain(
    chain: tuple[Repository, LocalStore],
) -> None:
    repo, store = chain
    forged = replace(tamper.event_at(store, 3), actor="ke.gian")
    tamper.replace_event(store, 3, replace(forged, hash=forged.compute_hash()))
    assert _findings(repo) == [("inserted", 3)]


def test_replaced_batch_with_recomputed_hashes_breaks_the_chain(
    chain: tuple[Repository, LocalStore],
) -> None:
    """Both events of an act rewritten and rehashed (their links kept): the chain breaks after."""
    repo, store = chain
    first = tamper.event_at(store, 2)
    forged = replace(first, actor="ke.gian", hash="")
    forged = replace(forged, hash=forged.compute_hash())
    second = replace(tamper.event_at(store, 3), actor="ke.gian", prev=forged.hash, hash="")
    second = replace(second, hash=second.compute_hash())
    tamper.replace_event(store, 2, forged)
    tamper.replace_event(store, 3, second)
    assert _findings(repo) == [("inserted", 3)]


def test_removed_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.remove_event(store, 5)  # the second event of a batch
    assert _findings(repo) == [("removed", 5)]


def test_removed_first_event_of_a_batch_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.remove_event(store, 4)  # its partner keeps its position
    assert _findings(repo) == [("removed", 4)]


def test_removed_act_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.remove_event(store, 3)
    tamper.remove_event(store, 2)  # the whole batch of one record's creation
    assert _findings(repo) == [("removed", 2)]


def test_removed_last_events_are_found_by_the_witness(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.cut_from(store, 6)  # the last batch, or the last two events
    assert _findings(repo) == [("truncated", 6)]


def test_removed_last_event_of_the_last_batch_is_found_by_the_witness(
    chain: tuple[Repository, LocalStore],
) -> None:
    repo, store = chain
    tamper.cut_from(store, 7)  # the last batch cut short
    assert _findings(repo) == [("truncated", 7)]


def test_inserted_event_is_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    # A well-formed event forged at 4 (into the batch holding 4); events 4..7 move up by one.
    before = tamper.event_at(store, 3)
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
    tamper.insert_event(store, 4, forged)
    findings = _findings(repo)
    assert ("inserted", 4) in findings
    assert ("moved", 5) in findings


def test_reordered_events_are_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.swap_events(store, 2, 3)  # inside one batch
    findings = _findings(repo)
    assert ("moved", 2) in findings and ("moved", 3) in findings


def test_reordered_acts_are_named(chain: tuple[Repository, LocalStore]) -> None:
    repo, store = chain
    tamper.swap_events(store, 2, 4)
    tamper.swap_events(store, 3, 5)  # two whole batches exchanged
    findings = _findings(repo)
    assert {("moved", n) for n in (2, 3, 4, 5)} <= set(findings)


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



def test_a_history_under_a_witness_forged_far_above_the_log_is_read_without_probing_each_number(
    tmp_path: Path,
) -> None:
    """One who can write the store sets the witness far above the log (no event there). A
    record's history lists the log once and does not probe every number up to the witness (one
    request each on S3): on the base it made 20,000 probes here — a witness at 10^12 never ends."""
    store = LocalStore(tmp_path / "s", fsync=False)
    writer = AuditLog(store)
    writer.append("u1", "record:create", record_id="R1")
    writer.append("u1", "record:create", record_id="R2")
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": 20_000, "hash": "f" * 64}))
    reader = AuditLog(store)
    probes: list[str] = []
    exists, get = store.exists, store.get
    store.exists = lambda key: probes.append(key) or exists(key)  # type: ignore[method-assign]
    store.get = lambda key, version_id=None: probes.append(key) or get(key, version_id)  # type: ignore[method-assign]
    assert [e.seq for e in reader.query(record_id="R1")] == [0]
    assert len(probes) <= 6, len(probes)
    later = writer.append("u2", "content:read", record_id="R1")  # written after: still followed
    assert later is not None
    assert [e.seq for e in reader.query(record_id="R1")] == [0, later.seq]
    assert len(probes) <= 12, len(probes)

def _spied(store: Any) -> list[str]:
    """Every key the store lists or reads under the event prefix, from now on."""
    seen: list[str] = []
    listed, got = store.list, store.get

    def list_(prefix: str, start_after: str | None = None) -> Any:
        if prefix.startswith(EVENTS_PREFIX):
            seen.append("LIST " + prefix)
        return listed(prefix, start_after)

    def get(key: str, version_id: str | None = None) -> bytes:
        if key.startswith(EVENTS_PREFIX):
            seen.append(key)
        return got(key, version_id)

    store.list, store.get = list_, get
    return seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fresh_process_reads_a_history_from_the_persistent_index(tmp_path: Path, backend: str) -> None:
    """The by-record index is a SQLite file: a new process (a new AuditLog on the same store and
    file) reads a record's events without listing or reading the rest of the log; deleting the
    file and rebuilding gives the same history; another log's index is not trusted."""
    store = make_store(backend, tmp_path, "auditidx")
    path = tmp_path / "audit-index.sqlite"
    first = AuditLog(store, index=SqliteRecordIndex(path))
    first.append("u1", "record:create", record_id="R1")
    for n in range(150):  # other records and record-less events: far more than R1's
        first.append("u2", "record:view", record_id=f"X{n % 7}")
        if n % 10 == 0:
            first.append("u2", "search")
    first.append_many([EventDraft("u3", "content:download", record_id="R1"), EventDraft("u3", "search")])
    total = sum(1 for _ in AuditLog(store).events())
    assert total == 1 + 150 + 15 + 2

    fresh = AuditLog(store, index=SqliteRecordIndex(path))
    seen = _spied(store)
    history = [(e.seq, e.action) for e in fresh.query(record_id="R1")]
    assert history == [(0, "record:create"), (total - 2, "content:download")]
    assert not [s for s in seen if s.startswith("LIST")], seen
    assert fresh.reads <= 3 and len(seen) <= 3, seen  # event 0 (the anchor) and R1's own events
    # It follows another process's appends (without the index, as a writer that died).
    AuditLog(store).append("u4", "content:print", record_id="R1")
    assert [e.action for e in fresh.query(record_id="R1")][-1] == "content:print"
    expected = [(e.seq, e.action) for e in fresh.query(record_id="R1")]

    path.unlink()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    rebuilt = AuditLog(store, index=SqliteRecordIndex(path))
    objects = sum(1 for _ in store.list(EVENTS_PREFIX))  # the first act's two events: one batch
    assert objects == total
    assert rebuilt.rebuild_index() == objects  # one scan: each object read once (anchor included)
    assert [(e.seq, e.action) for e in rebuilt.query(record_id="R1")] == expected
    again = AuditLog(store, index=SqliteRecordIndex(path))
    assert [(e.seq, e.action) for e in again.query(record_id="R1")] == expected and again.reads <= 4

    # The file of another installation's log is emptied, not believed.
    other_store = make_store(backend, tmp_path, "auditidx2")
    other = AuditLog(other_store, index=SqliteRecordIndex(path))
    other.append("v1", "record:create", record_id="R9")
    assert [e.record_id for e in other.query(record_id="R1")] == []
    assert [e.seq for e in other.query(record_id="R9")] == [0]


def test_the_repository_keeps_its_audit_index_in_the_data_folder(tmp_path: Path) -> None:
    from kho.config import Settings
    from repository.service import AUDIT_INDEX_FILE, open_repository

    settings = Settings.from_env({"KHO_DATA_DIR": str(tmp_path / "kho"), "KHO_AGENCY_ID": "000.00.18.H40"})
    repo = open_repository(settings)
    doc = repo.create_document("den", incoming(code_number="501"), None, None, CLERK)
    assert (settings.data_dir / AUDIT_INDEX_FILE).exists()
    later = open_repository(settings)
    seen = _spied(later.store)
    events = later.audit_events(actor=CLERK, record_id=doc.record_id)
    assert [e.action for e in events] == ["record:create", "register:assign"]
    assert not [s for s in seen if s.startswith("LIST")]
