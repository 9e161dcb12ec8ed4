"""Real writer processes SIGKILLed in the windows m36's claim-ahead and m31's read-ahead opened
on S3 (review rv47, Ceph RGW claims mode).

A register number on S3 sends: the entry's claim (beside the witness read), the entry's data
(beside the audit event's claim, m36), the event object's data, the witness. m36's own kill
test kills between the event's claim and the entry. Here a child is killed at the two later
windows: after its entry landed and before its event's data (a record committed without its
events, a claimed audit number with no event), and while it writes the witness (its events
stored, the witness not moved). After each kill the next writer and ``kho fsck`` must leave no
number given twice, no register gap, the audit chain verifying, every committed record with its
creation event after fsck's repair, and no claim without its object."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from kho_child import read_lines_until
from kho_testing import CLERK, make_store, new_repository, outgoing

from repository.audit import AuditLog
from repository.fsck import fsck
from repository.records import CREATION_EVENTS, Repository
from repository.registers import RegisterEntry
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store


def _number(repo: Repository) -> Any:
    """One register number (a văn bản đi, no file)."""
    return repo.create_document("di", outgoing(), None, None, CLERK)


def _entries(store: S3Store) -> dict[int, str]:
    found: dict[int, str] = {}
    for info in store.list("registers/"):
        found[int(info.key.rsplit("/", 1)[1].split(".")[0])] = RegisterEntry.from_json(
            store.get(info.key)
        ).record_id
    return found


def _empty_claims(store: S3Store) -> list[str]:
    """Claims in the companion bucket with no object behind them."""
    names = [
        o.object_name
        for o in store._client.list_objects(store.claims_bucket, prefix="claims/", recursive=True)
    ]
    return [n for n in names if n is not None and not store.exists(n.removeprefix("claims/"))]


def _child(store: S3Store, keys: LocalStore, out: int, window: str) -> None:
    """In a forked child: one number, then a second held (and killed by the parent) at
    ``window``: ``event`` — its entry landed, its event object's data PUT about to go;
    ``witness`` — its events stored, the witness PUT about to go."""
    code = 1
    try:
        repo = new_repository(store, keys)
        _number(repo)
        real_put_raw = S3Store._put_raw

        def put_raw(self: S3Store, bucket: str, key: str, data: bytes, headers: Any = None) -> Any:
            held = (window == "event" and bucket == self.bucket and key.startswith("audit/events/")) or (
                window == "witness" and key.endswith("audit/witness.json")
            )
            if held:
                os.write(out, b"held\n")
                time.sleep(120)  # the parent kills us here
                os._exit(3)
            return real_put_raw(self, bucket, key, data, headers)

        S3Store._put_raw = put_raw  # type: ignore[method-assign]
        _number(repo)
        code = 2  # finished: the parent never let it get there
    finally:
        os._exit(code)


@pytest.mark.s3
@pytest.mark.parametrize("window", ["event", "witness"])
def test_a_writer_killed_after_its_entry_or_at_its_witness_leaves_what_the_next_writer_and_fsck_mend(
    tmp_path: Path, window: str
) -> None:
    store = make_store("s3", tmp_path, f"rv47k{window}")
    assert isinstance(store, S3Store)
    keys = LocalStore(tmp_path / f"rv47k{window}-keys")
    new_repository(store, keys)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        _child(store, keys, write_end, window)
    os.close(write_end)
    seen: list[str] = []
    try:
        seen = read_lines_until(read_end, lambda seen: "held" in seen)
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(read_end)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, seen
    killed = _entries(store)[2]  # the killed writer's entry landed: its record is committed
    repo = new_repository(store, keys)
    a, b = _number(repo), _number(repo)
    entries = _entries(store)
    assert entries == {1: entries[1], 2: killed, 3: a.record_id, 4: b.record_id}, entries
    assert AuditLog(store).verify().ok
    fsck(repo, repair=True, grace_seconds=0)
    report = fsck(repo, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    log = AuditLog(store)
    assert log.verify().ok
    created = {e.record_id for e in log.events() if e.action in CREATION_EVENTS}
    assert set(entries.values()) <= created, (entries, created)
    assert _empty_claims(store) == []


def _writer(store: S3Store, keys: LocalStore, out: int, numbers: int, kill_at: int | None) -> None:
    """In a forked child: ``numbers`` numbers in the one series; with ``kill_at``, the number of
    that rank is held at its event object's data PUT (its entry landed) for the parent to kill.
    A refusal is reported with its code and the writer goes on."""
    code = 1
    try:
        repo = new_repository(store, keys)
        real_put_raw = S3Store._put_raw
        rank = [0]

        def put_raw(self: S3Store, bucket: str, key: str, data: bytes, headers: Any = None) -> Any:
            if rank[0] == kill_at and bucket == self.bucket and key.startswith("audit/events/"):
                os.write(out, b"held\n")
                time.sleep(120)  # the parent kills us here
                os._exit(3)
            return real_put_raw(self, bucket, key, data, headers)

        S3Store._put_raw = put_raw  # type: ignore[method-assign]
        for n in range(numbers):
            rank[0] = n
            try:
                _number(repo)
            except Exception as exc:  # (reported: the parent asserts on the codes)
                os.write(out, f"refused {getattr(exc, 'code', type(exc).__name__)}\n".encode())
        os.write(out, b"done\n")
        code = 0
    finally:
        os._exit(code)


@pytest.mark.s3
def test_three_writers_on_one_series_one_killed_after_its_entry(tmp_path: Path) -> None:
    """Three writer processes number in one series at once; one is SIGKILLed after its third
    entry landed, before that act's events. The two others finish (a refusal may only be
    ``CLAIM_PENDING``, the killed writer's audit number not yet stale); then one more number,
    fsck's repair: every number once and without a gap, each entry's record with its creation
    event, the chain verifying, fsck clean, no claim without its object."""
    store = make_store("s3", tmp_path, "rv47three")
    assert isinstance(store, S3Store)
    keys = LocalStore(tmp_path / "rv47three-keys")
    new_repository(store, keys)
    children: list[tuple[int, int]] = []
    for kill_at in (2, None, None):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_end)
            _writer(store, keys, write_end, 4, kill_at)
        os.close(write_end)
        children.append((pid, read_end))
    seen: dict[int, list[str]] = {}
    try:
        victim, victim_out = children[0]
        seen[victim] = read_lines_until(victim_out, lambda lines: "held" in lines, timeout=300)
        os.kill(victim, signal.SIGKILL)
        for pid, out in children[1:]:
            seen[pid] = read_lines_until(out, lambda lines: "done" in lines, timeout=300)
    finally:
        for pid, out in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(out)
    codes = {line.split()[1] for lines in seen.values() for line in lines if line.startswith("refused ")}
    assert codes <= {"CLAIM_PENDING"}, seen
    repo = new_repository(store, keys)
    _number(repo)
    fsck(repo, repair=True, grace_seconds=0)
    report = fsck(repo, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    entries = _entries(store)
    assert sorted(entries) == list(range(1, len(entries) + 1)), entries
    assert len(set(entries.values())) == len(entries), entries
    log = AuditLog(store)
    assert log.verify().ok
    created = {e.record_id for e in log.events() if e.action in CREATION_EVENTS}
    assert set(entries.values()) <= created
    assert _empty_claims(store) == []
