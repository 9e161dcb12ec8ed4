"""Group commit of the audit chain (issue 14): the events of one act in one stored object (an
audit batch), with every promise of the chain kept — each event its own number, hash and link;
verify, checkpoints, fsck, backups and a record's history read batches and single events alike,
in one store; concurrent writers never share a number."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, outgoing, pdf_bytes

from repository import formats
from repository.anchor import Anchor, _verify_from_mark, generate_key, make_checkpoint, verify_anchored
from repository.audit import AuditLog, EventDraft, event_key, parse_object, read_witness
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.base import ObjectInfo, ObjectStore, PreparedPut
from repository.storage.local import LocalStore
from retention.backup import backup, restore, verify_backup

AGENCY = "000.00.18.H40"


class Counting(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: Counter[str] = Counter()

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        self.writes[key.split("/")[0]] += 1
        return super().put_if_absent(key, data)


def grouped(store: ObjectStore, keys: ObjectStore, *, group: bool = True) -> Repository:
    return Repository(store, keys, agency_id=AGENCY, agency_name="UBND", audit_group_commit=group)


def test_a_registered_record_writes_its_two_events_as_one_object(tmp_path: Path) -> None:
    store = Counting(tmp_path / "s")
    repo = grouped(store, LocalStore(tmp_path / "k"))
    record = repo.create_document("den", incoming(), pdf_bytes("g"), "a.pdf", CLERK)

    assert store.writes["audit"] == 1  # was 2: one object per event
    keys = [i.key for i in store.list("audit/events/")]
    assert keys == [event_key(0)]
    stored = json.loads(store.get(keys[0]))
    assert stored[formats.FORMAT_KEY] == formats.AUDIT_BATCH.current
    events = list(repo.audit.events())
    assert [(e.seq, e.action) for e in events] == [(0, "record:create"), (1, "register:assign")]
    assert events[1].prev == events[0].hash and all(e.compute_hash() == e.hash for e in events)
    assert read_witness(store)["seq"] == 1 and read_witness(store)["hash"] == events[1].hash
    assert repo.audit.verify().ok
    history = [e.action for e in repo.audit_events(actor=CLERK, record_id=record.record_id)]
    assert history[:2] == ["record:create", "register:assign"]
    assert fsck(repo, deep=True).clean


def _mixed(tmp_path: Path) -> tuple[Repository, list[str]]:
    """A store written first without group commit, then with it, then without again."""
    store, keys = LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")
    ids = []
    for n, group in enumerate((False, True, True, False, True)):
        repo = grouped(store, keys, group=group)  # a new process each time: finds the head
        record = repo.create_document("den", incoming(code_number=f"{10 + n}"), None, None, CLERK)
        ids.append(record.record_id)
        repo.audit.append("x", "note:single")
    return grouped(store, keys), ids


def test_old_single_events_and_batches_read_as_one_chain(tmp_path: Path) -> None:
    repo, ids = _mixed(tmp_path)
    events = list(repo.audit.events())
    assert [e.seq for e in events] == list(range(15))
    assert [len(parse_object(repo.store.get(i.key))) for i in repo.store.list("audit/events/")] == [
        1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 2, 1,
    ]
    report = repo.audit.verify()
    assert report.ok and report.events == 15 and report.last_seq == 14
    for rid in ids:
        assert [e.action for e in repo.audit.record_events(rid)] == ["record:create", "register:assign"]
    assert [e.seq for e in repo.audit.events(start_seq=6)] == list(range(6, 15))
    # a fresh reader's history, and one kept up to date after another process wrote a batch
    other = grouped(repo.store, repo.keys.store)
    late = other.create_document("den", incoming(code_number="99"), None, None, CLERK)
    assert [e.seq for e in repo.audit.record_events(late.record_id)] == [15, 16]
    assert fsck(repo, deep=True).clean


def test_tampering_inside_a_batch_is_found(tmp_path: Path) -> None:
    repo, _ = _mixed(tmp_path)
    key = event_key(3)  # a batch: events 3 and 4
    data = json.loads(repo.store.get(key))
    data["events"][1]["details"]["number"] = 77
    repo.store.put(key, json.dumps(data).encode())
    assert [(f.kind, f.seq) for f in repo.audit.verify().findings] == [("changed", 4)]

    for stamp in (0, None, "1"):  # the wrapper is not hashed: a stamp Kho never wrote is named
        bad = {**data, formats.FORMAT_KEY: stamp} if stamp is not None else {"events": data["events"]}
        repo.store.put(key, json.dumps(bad).encode())
        assert ("unreadable", 3) in [(f.kind, f.seq) for f in repo.audit.verify().findings]

    data["events"] = data["events"][::-1]  # reordered within the object
    repo.store.put(key, json.dumps(data).encode())
    kinds = {f.kind for f in repo.audit.verify().findings}
    assert "moved" in kinds


def test_a_removed_batch_or_a_cut_tail_is_found(tmp_path: Path) -> None:
    repo, _ = _mixed(tmp_path)
    repo.store.delete(event_key(3))
    assert [(f.kind, f.seq) for f in repo.audit.verify().findings] == [("removed", 3)]

    repo, _ = _mixed(tmp_path / "again")
    last = event_key(12)  # the newest batch: 12 and 13; then the single event 14
    repo.store.delete(event_key(14))
    data = json.loads(repo.store.get(last))
    data["events"] = data["events"][:1]
    (repo.store.root / "objects" / last).write_text(json.dumps(data))  # type: ignore[attr-defined]
    findings = repo.audit.verify().findings
    assert [(f.kind, f.seq) for f in findings] == [("truncated", 13)]


def test_checkpoints_and_their_incremental_check_read_batches(tmp_path: Path) -> None:
    repo, _ = _mixed(tmp_path)
    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")
    repo.anchor = anchor
    first = make_checkpoint(repo.store, anchor)
    assert first["seq"] == 14 and first["events"] == 15
    assert verify_anchored(repo.audit, anchor).ok
    repo.create_document("den", incoming(code_number="500"), None, None, CLERK)  # a batch after it
    quick = _verify_from_mark(repo.audit, anchor, (), None)  # not the fallback to a full walk
    assert quick is not None and quick.ok and quick.last_seq == 16
    assert verify_anchored(repo.audit, anchor, incremental=True).ok
    make_checkpoint(repo.store, anchor)  # a mark inside a batch (its last event)
    assert verify_anchored(repo.audit, anchor).ok
    repo.create_document("den", incoming(code_number="501"), None, None, CLERK)
    quick = _verify_from_mark(repo.audit, anchor, (), None)
    assert quick is not None and quick.ok and quick.last_seq == 18

    # a consistent rewrite of a batch (hashes recomputed) is caught by the signed head
    data = json.loads(repo.store.get(event_key(3)))
    log = AuditLog(repo.store)
    rewritten = log._chain(3, data["events"][0]["prev"], data["events"][0]["at"], [
        EventDraft("mallory", "record:create", record_id=data["events"][0]["record_id"]),
        EventDraft("mallory", "register:assign", record_id=data["events"][0]["record_id"]),
    ])
    forged = {"format_version": 1, "events": [e.stored() for e in rewritten]}
    repo.store.put(event_key(3), json.dumps(forged).encode())
    assert not verify_anchored(repo.audit, anchor).ok


def test_fsck_finds_a_creation_event_inside_a_batch(tmp_path: Path) -> None:
    store, keys = LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")
    repo = grouped(store, keys)
    repo.create_document("di", outgoing(), None, None, CLERK)
    report = fsck(repo, deep=True)
    assert report.clean, report.issues
    assert not [i for i in report.issues if i.kind == "unaudited"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_and_restore_keep_batches_whole(backend: str, tmp_path: Path) -> None:
    repo, _ = _mixed(tmp_path)
    target = make_store(backend, tmp_path, "backup")
    made = backup(repo.store, target, label="store")
    assert verify_backup(target).ok and made.objects == sum(1 for _ in repo.store.list(""))
    shutil.rmtree(tmp_path / "s")
    fresh = grouped(LocalStore(tmp_path / "s"), repo.keys.store)
    restore(target, fresh.store, label="store")
    report = fresh.audit.verify()
    assert report.ok and report.events == 15
    assert fsck(fresh, deep=True).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_writers_with_batches_never_share_a_number(backend: str, tmp_path: Path) -> None:
    store = make_store(backend, tmp_path, "gc")
    writers, acts = 4, 8
    logs = [AuditLog(store, group_commit=True) for _ in range(writers)]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            for i in range(acts):
                size = 1 + (i + n) % 3  # batches of 1, 2 and 3 events, and single events
                logs[n].append_many([EventDraft(f"w{n}", f"x:{i}.{j}") for j in range(size)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = sum(1 + (i + n) % 3 for n in range(writers) for i in range(acts))
    fresh = AuditLog(store)
    events = list(fresh.events())
    assert [e.seq for e in events] == list(range(total))
    assert sorted(e.action + e.actor for e in events) == sorted(
        f"x:{i}.{j}w{n}" for n in range(writers) for i in range(acts) for j in range(1 + (i + n) % 3)
    )
    report = fresh.verify()
    assert report.ok, report.findings
    assert read_witness(store)["seq"] == total - 1
    # each act's events stay together, in order, in one object
    for info in store.list("audit/events/"):
        held = parse_object(store.get(info.key))
        assert len({e.actor for e in held}) == 1
        assert len({e.action.split(".")[0] for e in held}) == 1


@pytest.mark.parametrize(("value", "group"), [(None, True), ("true", True), ("false", False)])
def test_the_setting_turns_group_commit_on(tmp_path: Path, value: str | None, group: bool) -> None:
    from kho.config import Settings
    from repository.service import open_repository

    env = {"KHO_DATA_DIR": str(tmp_path / "kho"), "KHO_AGENCY_ID": AGENCY}
    if value is not None:
        env["KHO_AUDIT_GROUP_COMMIT"] = value
    repo = open_repository(Settings.from_env(env))
    assert repo.audit.group_commit is group
    repo.create_document("den", incoming(), None, None, CLERK)
    objects = [i.key for i in repo.store.list("audit/events/")]
    assert len(objects) == (1 if group else 2)
    assert repo.audit.verify().ok


def test_a_wrong_setting_is_refused_with_its_code(tmp_path: Path) -> None:
    from kho.config import Settings
    from kho.errors import KhoError

    env = {"KHO_DATA_DIR": str(tmp_path / "kho"), "KHO_AGENCY_ID": AGENCY, "KHO_AUDIT_GROUP_COMMIT": "có"}
    with pytest.raises(KhoError) as info:
        Settings.from_env(env)
    assert "KHO_AUDIT_GROUP_COMMIT" in info.value.message


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming
from repository.records import Repository
from repository.storage.local import LocalStore
repo = Repository(LocalStore(sys.argv[1] + "/store"), LocalStore(sys.argv[1] + "/keys"), agency_id=AGENCY,
                  agency_name=AGENCY_NAME, audit_group_commit=True)
stop, n = Path(sys.argv[2]), 0
while not stop.exists():
    n += 1
    repo.create_document("den", incoming(code_number=str(1000 + n)), b"%PDF-1.4\\n" + str(n).encode() * 300,
                         f"cv{n}.pdf", CLERK)
print(n)
"""


def test_backup_under_a_group_committing_writer_restores_consistent(tmp_path: Path) -> None:
    """The backup cut under concurrent writes (tests/repository/test_backup.py) with a writer that
    commits each record's events as one batch: the copy restores clean, chain and numbers whole."""
    import subprocess
    import sys
    import time

    from repository.records import Actor
    from retention.backup import read_manifest

    operator = Actor(user="operator", source="test", system=True)

    store, keys = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys")
    repo = grouped(store, keys)
    repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4\nfirst", "a.pdf", CLERK)
    stop = tmp_path / "stop"
    support = Path(__file__).resolve().parents[1] / "support"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), str(stop), str(support)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        while sum(1 for _ in store.list("registers/")) < 15:
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.05)
        copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
        made = backup(store, copy, label="store")
        backup(keys, key_copy, label="keys", records=made.records)
        time.sleep(0.3)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err.decode()
    entries = sum(1 for _ in store.list("registers/"))
    assert int(out.decode().strip()) + 1 == entries

    fresh = grouped(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    assert any(len(parse_object(fresh.store.get(i.key))) == 2 for i in fresh.store.list("audit/events/"))
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, report.issues
    assert fresh.audit.verify().ok
    numbers = [r.registration.number for r in fresh.register("den", 2026, actor=operator) if r.registration]
    assert numbers == list(range(1, len(numbers) + 1)) and 1 < len(numbers) < entries
    assert made.objects == len(read_manifest(copy)["objects"])


class Overtaken(LocalStore):
    """A store where, just before the witness write of the first log, another log appends and
    moves the witness further — the interleaving two processes can meet."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.before_witness: list[object] = []

    def put(self, key: str, data: bytes) -> ObjectInfo:
        if key == "audit/witness.json" and self.before_witness:
            self.before_witness.pop()()  # type: ignore[operator]
        return super().put(key, data)


class OvertakenConditional(LocalStore):
    """As :class:`Overtaken`, where the witness is replaced conditionally (the default): the
    second log appends while the first one's witness is staged, before its commit."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.before_witness: list[object] = []

    def prepare_put(self, key: str, data: bytes, tag: str | None = None) -> PreparedPut:
        if key == "audit/witness.json" and self.before_witness:
            self.before_witness.pop()()  # type: ignore[operator]
        return super().prepare_put(key, data, tag)


@pytest.mark.parametrize("group", [True, False])
@pytest.mark.parametrize("kind", [Overtaken, OvertakenConditional], ids=["read-again", "conditional"])
def test_a_witness_write_overtaken_by_a_later_writer_is_not_left_behind(
    tmp_path: Path, group: bool, kind: type[LocalStore]
) -> None:
    # read-again: the witness is read again just before an unconditional put, and the first
    # log looks past its own events after it. conditional (v1): no look; its replace is
    # refused, the witness read again is past its events, and the second log's are witnessed.
    store = kind(tmp_path / "s")
    assert store.replaces_conditionally is (kind is OvertakenConditional)
    first, second = AuditLog(store, group_commit=group), AuditLog(store, group_commit=group)
    first.append("w1", "x:0")
    # The first log has read the witness (seq 0) and is about to write seq 1 when the second
    # log appends seq 2-3 and moves the witness to 3; the first log's write then lands.
    store.before_witness.append(  # type: ignore[attr-defined]
        lambda: second.append_many([EventDraft("w2", "y:0"), EventDraft("w2", "y:1")])
    )
    first.append("w1", "x:1")
    assert [e.seq for e in AuditLog(store).events()] == [0, 1, 2, 3]
    assert read_witness(store)["seq"] == 3
    # and the chain's end is held by it: cutting the newest event is detected
    store.delete(event_key(2 if group else 3))
    assert not AuditLog(store).verify().ok
