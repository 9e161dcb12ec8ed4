"""Races on the repository's guards, played in a fixed order on the real stores.

1. Two re-runs that find the same stale duplicate guard (its writer killed before the commit)
   both judge it stale: only one may remove it. Before the fix the second deleted the first's
   fresh guard and both committed the same original (the duplicate the guard exists to refuse).
2. Two re-runs that adopt the same orphan (a record committed by a writer killed before its
   creation event), or a re-run and ``kho fsck --repair``, both restore that event: it must be
   written once.

The order is forced by :class:`PacedStore`, a store wrapper used only here: it delegates every
call to the real store and holds threads at named points (no library is patched).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_testing import BACKENDS, CLERK, make_store, new_repository, pdf_bytes

from kho.errors import Duplicate
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.audit import AuditLog
from repository.fsck import fsck
from repository.records import (
    RECOVERED_PREFIX,
    SYSTEM,
    TAKEOVER_PREFIX,
    Record,
    Repository,
    this_host,
)
from repository.storage.base import ObjectInfo, ObjectStore, Retention

WAIT_S = 30.0


class PacedStore(ObjectStore):
    """The real ``inner`` store, with hooks run before/after some calls (test-only)."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.supports_retention = inner.supports_retention
        self.before_write: Callable[[str], None] = lambda key: None
        self.after_put_if_absent: Callable[[str, bool], None] = lambda key, created: None
        self.after_get: Callable[[str], None] = lambda key: None
        self.before_delete: Callable[[str], None] = lambda key: None

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        self.before_write(key)
        created = False
        try:
            info = self.inner.put_if_absent(key, data)
            created = True
            return info
        finally:
            self.after_put_if_absent(key, created)

    def put_new(self, key: str, data: bytes) -> ObjectInfo:
        self.before_write(key)
        return self.inner.put_new(key, data)

    def put(self, key: str, data: bytes) -> ObjectInfo:
        self.before_write(key)
        return self.inner.put(key, data)

    def get(self, key: str, version_id: str | None = None) -> bytes:
        data = self.inner.get(key, version_id)
        self.after_get(key)
        return data

    def stat(self, key: str) -> ObjectInfo:
        return self.inner.stat(key)

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        return self.inner.list(prefix, start_after)

    def list_versions(self, key: str) -> list[ObjectInfo]:
        return self.inner.list_versions(key)

    def delete(self, key: str) -> None:
        self.before_delete(key)
        self.inner.delete(key)

    def set_retention(self, key: str, retention: Retention) -> None:
        self.inner.set_retention(key, retention)

    def get_retention(self, key: str, version_id: str | None = None) -> Retention | None:
        return self.inner.get_retention(key, version_id)

    def set_legal_hold(self, key: str, on: bool) -> None:
        self.inner.set_legal_hold(key, on)

    def get_legal_hold(self, key: str) -> bool:
        return self.inner.get_legal_hold(key)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _in_threads(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` at once, one thread each; what each returned or raised, in order."""
    out: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            out[i] = calls[i]()
        except BaseException as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"rerun-{i}") for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S * 3)
        assert not t.is_alive(), "a re-run hung"
    return out


def _records_holding(repo: Repository, sha: str) -> list[str]:
    return [r.record_id for r in repo.records() if any(f.sha256 == sha for f in r.files)]


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ObjectStore, ObjectStore]]:
    made = make_store(request.param, tmp_path, "store"), make_store(request.param, tmp_path, "keys")
    yield made
    for store in made:
        store.close()  # (S3 buckets are removed when the test ends: tests/conftest.py)


def test_two_takeovers_of_one_stale_guard_commit_one_record(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    real, keys = stores
    data = pdf_bytes("one stale guard, two re-runs")
    sha = hashlib.sha256(data).hexdigest()
    guard = f"claims/sha256/{sha}"
    # what a writer killed before its commit leaves: its guard, its record never made
    dead = {"record_id": "0" * 24, "at": to_iso_utc(utcnow()), "host": this_host(), "pid": _dead_pid()}
    real.put_if_absent(guard, formats.dumps(formats.CLAIM.name, dead))

    store = PacedStore(real)
    read_stale = threading.Barrier(2, timeout=WAIT_S)
    replacing = threading.Lock()  # a takeover's delete and its create run back to back
    local = threading.local()

    def after_put_if_absent(key: str, created: bool) -> None:
        if key != guard:
            return
        if not created:
            local.refused = True
        if getattr(local, "replacing", False):
            local.replacing = False
            replacing.release()

    def after_get(key: str) -> None:
        # both re-runs have read the stale holder (after their create was refused) before
        # either goes on
        if key == guard and getattr(local, "refused", False) and not getattr(local, "met", False):
            local.met = True
            read_stale.wait()

    def before_delete(key: str) -> None:
        if key == guard:
            replacing.acquire()
            local.replacing = True

    store.after_put_if_absent = after_put_if_absent
    store.after_get = after_get
    store.before_delete = before_delete

    def rerun() -> Record:
        return new_repository(store, keys).create_intake("den", data, "qd.pdf", CLERK)

    outcomes = _in_threads(rerun, rerun)

    made = [o for o in outcomes if isinstance(o, Record)]
    refused = [o for o in outcomes if isinstance(o, Duplicate)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert refused[0].details.get("existing_record_id") == made[0].record_id
    repo = new_repository(real, keys)
    assert _records_holding(repo, sha) == [made[0].record_id]
    assert repo.find_by_sha256(sha) == made[0].record_id
    assert repo.audit_verify(actor=SYSTEM).ok


def _orphan(store: ObjectStore, keys: ObjectStore, data: bytes) -> None:
    """A writer (a forked process) that commits the intake of ``data`` and dies before its
    creation event, as a SIGKILL there would leave it."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:

            def die(*args: Any, **kwargs: Any) -> Any:
                os._exit(137)

            AuditLog.append_many = die  # type: ignore[method-assign]
            new_repository(store, keys).create_intake("den", data, "qd.pdf", CLERK)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 137, "the writer did not die at its creation event"


def _assert_restored_once(real: ObjectStore, keys: ObjectStore, orphan: str) -> None:
    """The orphan's history is its one ``record:recovered`` event; the log and the store
    check out."""
    repo = new_repository(real, keys)
    events = repo.audit_events(actor=SYSTEM, record_id=orphan)
    assert [e.action for e in events] == ["record:recovered"]
    assert repo.audit_verify(actor=SYSTEM).ok
    assert not fsck(repo).issues


def _meeting_before_restoring(real: ObjectStore) -> PacedStore:
    """``real`` where two threads both read the orphan's history before either writes
    anything of its restoration (an audit event or a guard): each waits for the other at its
    first such write."""
    store = PacedStore(real)
    checked = threading.Barrier(2, timeout=WAIT_S)
    local = threading.local()

    def before_write(key: str) -> None:
        if key.startswith(("audit/", "claims/")) and not getattr(local, "met", False):
            local.met = True
            checked.wait()

    store.before_write = before_write
    return store


def test_two_adoptions_of_one_orphan_restore_its_event_once(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    real, keys = stores
    data = pdf_bytes("one orphan, two re-runs")
    sha = hashlib.sha256(data).hexdigest()
    _orphan(real, keys, data)
    repo = new_repository(real, keys)
    [orphan] = _records_holding(repo, sha)
    assert not repo.audit_events(actor=SYSTEM, record_id=orphan)

    store = _meeting_before_restoring(real)

    def rerun() -> Record:
        return new_repository(store, keys).create_intake("den", data, "qd.pdf", CLERK)

    outcomes = _in_threads(rerun, rerun)

    assert all(isinstance(o, Duplicate) for o in outcomes), outcomes
    assert {o.details.get("existing_record_id") for o in outcomes} == {orphan}  # type: ignore[union-attr]
    _assert_restored_once(real, keys, orphan)


def test_an_orphan_adopted_by_a_rerun_and_repaired_by_fsck_at_once_gets_one_event(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    real, keys = stores
    data = pdf_bytes("one orphan, a re-run and fsck")
    sha = hashlib.sha256(data).hexdigest()
    _orphan(real, keys, data)
    [orphan] = _records_holding(new_repository(real, keys), sha)

    store = _meeting_before_restoring(real)
    repair = new_repository(store, keys)

    def run_fsck() -> object:
        return fsck(repair, repair=True)

    def rerun() -> Record:
        return new_repository(store, keys).create_intake("den", data, "qd.pdf", CLERK)

    outcomes = _in_threads(run_fsck, rerun)

    assert isinstance(outcomes[1], Duplicate), outcomes
    _assert_restored_once(real, keys, orphan)


def test_a_restoration_whose_restorer_died_is_finished_by_the_next(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    """A restorer killed between its guard and the event leaves the guard: the next re-run
    takes it over (its writer is gone) and writes the event."""
    real, keys = stores
    data = pdf_bytes("a restorer killed")
    sha = hashlib.sha256(data).hexdigest()
    _orphan(real, keys, data)
    repo = new_repository(real, keys)
    [orphan] = _records_holding(repo, sha)
    dead = {"record_id": orphan, "at": to_iso_utc(utcnow()), "host": this_host(), "pid": _dead_pid()}
    real.put_if_absent(f"{RECOVERED_PREFIX}{orphan}", formats.dumps(formats.CLAIM.name, dead))

    with pytest.raises(Duplicate):
        repo.create_intake("den", data, "qd.pdf", CLERK)

    events = new_repository(real, keys).audit_events(actor=SYSTEM, record_id=orphan)
    assert [e.action for e in events] == ["record:recovered"]


def test_a_takeover_token_left_by_a_killed_taker_does_not_block_the_guard(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    real, keys = stores
    data = pdf_bytes("a taker killed mid-takeover")
    sha = hashlib.sha256(data).hexdigest()
    guard = f"claims/sha256/{sha}"
    dead = {"record_id": "0" * 24, "at": to_iso_utc(utcnow()), "host": this_host(), "pid": _dead_pid()}
    stale = formats.dumps(formats.CLAIM.name, dead)
    real.put_if_absent(guard, stale)
    # the token of a taker killed between taking it and removing the guard
    taker = {**dead, "record_id": "1" * 24, "pid": _dead_pid()}
    token = f"{TAKEOVER_PREFIX}{hashlib.sha256(stale).hexdigest()}"
    real.put_if_absent(token, formats.dumps(formats.CLAIM.name, taker))

    record = new_repository(real, keys).create_intake("den", data, "qd.pdf", CLERK)

    repo = new_repository(real, keys)
    assert _records_holding(repo, sha) == [record.record_id]
    assert not real.exists(token)
    assert not fsck(repo).issues
