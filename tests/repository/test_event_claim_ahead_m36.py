"""The audit event's claim taken beside the register entry's data PUT on S3 (issue 14, m36).

On an S3 gateway that ignores ``If-None-Match`` on a versioned bucket (Ceph RGW, the test
gateway) a create is a claim PUT in the companion bucket, then the data PUT. A register number
(``create_document`` without original) wrote, one after the other: the entry's claim (beside
m31's witness read), the entry's data, the event object's claim (beside the first version),
the event object's data, the witness. Once the entry's number is claimed and the witness read
names this process's end of the log, the event object's number is known: its claim now goes
beside the entry's data PUT, and the event's create sends its data only, one round less.

What must still hold: the event's data is sent only after the entry landed; a claimed number
that no event will fill is given back by the live process that claimed it (a failed entry
PUT), never left to block the log's other writers; a number taken by another writer
meanwhile sends the act down the collision path of before; a process killed between the
event's claim and the entry leaves what the next writer takes over (no gap in the register,
the log verifies); the local folder is unchanged (a create there is one step)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kho_child import read_lines_until
from kho_testing import CLERK, before_first_stage, make_store, new_repository, outgoing
from minio.error import ServerError

from kho.errors import Conflict, StoreUnavailable
from repository.audit import AuditLog, event_key, read_witness
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

WAIT_S = 20.0  # generous: the machine is shared and loaded
EVENT_CLAIMS = "claims/audit/events/"


def _repository(backend: str, tmp_path: Path, name: str) -> tuple[ObjectStore, Repository]:
    store = make_store(backend, tmp_path, name)
    return store, new_repository(store, LocalStore(tmp_path / f"{name}-keys"))


def _number(repo: Repository) -> Any:
    """One register number (a văn bản đi, no file): two events, one batch object."""
    return repo.create_document("di", outgoing(), None, None, CLERK)


def _empty_event_claims(store: S3Store) -> list[str]:
    """Claims of audit event numbers in the companion bucket with no event object behind them."""
    names = [
        o.object_name
        for o in store._client.list_objects(store.claims_bucket, prefix=EVENT_CLAIMS, recursive=True)
    ]
    return [n for n in names if n is not None and not store.exists(n.removeprefix("claims/"))]


def _numbers(repo: Repository) -> list[int]:
    """The numbers of the register's entries (every act here numbers in one series)."""
    return sorted(int(i.key.rsplit("/", 1)[1].split(".")[0]) for i in repo.store.list("registers/"))


@pytest.mark.s3
def test_on_s3_the_event_claim_runs_beside_the_register_entry_put(tmp_path: Path) -> None:
    """The event object's claim starts before the register entry's data PUT has returned (in
    another thread), and the event's data only after it returned: the entry's data PUT waits (up
    to 20 s) for the claim to start, which before m36 came only after the entry, as the first
    request of the event's create. Still one claim per event object, the same requests."""
    store, repo = _repository("s3", tmp_path, "m36beside")
    assert isinstance(store, S3Store)
    _number(repo)  # the first act checks the log as a new process does, in place
    claim_started = threading.Event()
    entry_done = threading.Event()
    order: list[str] = []
    real_put_raw = store._put_raw
    creating = threading.current_thread().name

    def put_raw(bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Any:
        if bucket == store.claims_bucket and key.startswith(EVENT_CLAIMS):
            here = threading.current_thread().name == creating
            order.append("event claim" + (" (creating thread)" if here else ""))
            claim_started.set()
        elif bucket == store.bucket and key.startswith("registers/"):
            began = claim_started.wait(WAIT_S)
            order.append("entry data: claim started" if began else "entry data: no claim")
            try:
                return real_put_raw(bucket, key, data, headers)
            finally:
                entry_done.set()
        elif bucket == store.bucket and key.startswith("audit/events/"):
            order.append("event data" + (" after the entry" if entry_done.is_set() else " before the entry"))
        return real_put_raw(bucket, key, data, headers)

    store._put_raw = put_raw  # type: ignore[method-assign]
    for _ in range(2):
        claim_started.clear()
        entry_done.clear()
        _number(repo)
    assert order == ["event claim", "entry data: claim started", "event data after the entry"] * 2, order
    assert read_witness(store)["seq"] == 5
    assert _empty_event_claims(store) == []
    assert AuditLog(store).verify().ok


def test_on_the_local_folder_nothing_is_claimed_ahead(tmp_path: Path) -> None:
    """The local folder's create is one step: nothing is claimed apart from it, the order of
    writes is main's (entry, then the event object). Passes before and after m36."""
    store, repo = _repository("local", tmp_path, "m36local")
    _number(repo)
    order: list[str] = []
    real_stage = store.stage
    real_claim = store.claim_ahead if hasattr(store, "claim_ahead") else None

    def stage(key: str, data: bytes, *, fresh: bool = False) -> Any:
        if key.startswith(("registers/", "audit/events/")):
            order.append(key.split("/")[0])
        return real_stage(key, data, fresh=fresh)

    def claim_ahead(key: str) -> bool:
        order.append("claim ahead")
        assert real_claim is not None
        return real_claim(key)

    store.stage = stage  # type: ignore[method-assign]
    store.claim_ahead = claim_ahead  # type: ignore[method-assign]
    _number(repo)
    assert order == ["registers", "audit"]


@pytest.mark.s3
def test_a_failed_register_entry_put_gives_the_claimed_event_number_back(tmp_path: Path) -> None:
    """The entry's data PUT fails (the gateway answers 503) after the event's number was
    claimed beside it: the act is refused with the store's error, and the claimed audit number
    is given back before the error reaches the caller (no claim without an event in the
    companion bucket), so another writer's next append takes that number at once instead of
    waiting on it (10 s, then an error). The register has no gap: the number is used by the
    next act. Passes before m36 too (nothing was claimed before the entry)."""
    store, repo = _repository("s3", tmp_path, "m36fail")
    assert isinstance(store, S3Store)
    _number(repo)
    real_put_raw = store._put_raw
    failing = [True]

    def put_raw(bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Any:
        if bucket == store.bucket and key.startswith("registers/") and failing:
            failing.clear()
            raise ServerError("injected", 503)
        return real_put_raw(bucket, key, data, headers)

    store._put_raw = put_raw  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        _number(repo)
    assert not failing  # the injected failure happened
    assert _empty_event_claims(store) == []
    other = new_repository(store, LocalStore(tmp_path / "m36fail-keys2"))
    _number(other)  # another writer: its event goes at the number given back
    _number(repo)
    assert _numbers(repo) == [1, 2, 3]
    assert read_witness(store)["seq"] == 5
    assert _empty_event_claims(store) == []
    assert AuditLog(store).verify().ok


@pytest.mark.s3
def test_a_number_taken_by_another_writer_meanwhile_leaves_no_claimed_audit_number(
    tmp_path: Path,
) -> None:
    """Another writer takes the register number and the log's next number while this one
    writes its entry: its register claim collides (the next number is taken), and the event
    number it would claim is taken or no longer the witnessed end; the act goes down the
    collision path of before. No claim is left without its event, both acts are in the
    register with no gap and the log verifies. Passes before m36 too."""
    store, repo = _repository("s3", tmp_path, "m36taken")
    assert isinstance(store, S3Store)
    second = new_repository(store, LocalStore(tmp_path / "m36taken-keys2"))
    _number(repo)
    _number(second)
    _number(repo)  # met the other writer: reads in place for a while (IN_PLACE_AFTER_MEETING)
    for _ in range(20):  # written alone until it reads (and claims) ahead again
        _number(repo)
    before_first_stage(store, lambda: _number(second), "registers/")
    _number(repo)
    _number(repo)
    assert _numbers(repo) == list(range(1, 27))
    assert _empty_event_claims(store) == []
    assert AuditLog(store).verify().ok


@pytest.mark.s3
def test_two_threads_of_one_process_share_the_claimed_number(tmp_path: Path) -> None:
    """Two threads of one process take numbers at once: a number one thread claimed ahead is
    used by whichever append of the process writes there first, or given back; never met by the
    other thread as a foreign claim (it would wait 10 s for an event that cannot come while it
    holds the log's lock, then fail). All numbers go in, the log verifies, no claim is left
    without its event."""
    store, repo = _repository("s3", tmp_path, "m36threads")
    assert isinstance(store, S3Store)
    _number(repo)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(6):
                _number(repo)
        except BaseException as exc:  # (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    assert _numbers(repo) == list(range(1, 14))
    assert _empty_event_claims(store) == []
    assert AuditLog(store).verify().ok


def _child_killed_between_event_claim_and_entry(store: S3Store, keys: LocalStore, out: int) -> None:
    """In a forked child: one number, then a second held at its entry's data PUT once its
    event number's claim has landed (the parent kills it there)."""
    code = 1
    try:
        repo = new_repository(store, keys)
        _number(repo)
        real_put_raw = S3Store._put_raw

        def put_raw(self: S3Store, bucket: str, key: str, data: bytes, headers: Any = None) -> Any:
            if bucket == self.bucket and key.startswith("registers/"):
                os.write(out, b"held entry\n")
                time.sleep(120)  # the parent kills us here
                os._exit(3)
            result = real_put_raw(self, bucket, key, data, headers)
            if bucket == self.claims_bucket and key.startswith(EVENT_CLAIMS):
                os.write(out, b"landed event-claim\n")
            return result

        S3Store._put_raw = put_raw  # type: ignore[method-assign]
        _number(repo)
        code = 2  # finished: the parent never let it get there
    finally:
        os._exit(code)


@pytest.mark.s3
def test_a_process_killed_between_the_event_claim_and_the_entry(tmp_path: Path) -> None:
    """A real process SIGKILLed after its event number's claim landed and before its register
    entry's data: it leaves a claim of a register number and one of an audit number, both
    without data. The next writer on this machine takes both over (a claim naming a process of
    this host that is gone, after ``DEAD_WRITER_SETTLE_S``), as after main's kills between a
    claim and its data: the number is used (no gap), the log verifies, ``fsck`` is clean, and
    no claim is left without its object."""
    store, repo = _repository("s3", tmp_path, "m36kill")
    assert isinstance(store, S3Store)
    keys = LocalStore(tmp_path / "m36kill-keys")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        _child_killed_between_event_claim_and_entry(store, keys, write_end)
    os.close(write_end)
    seen: list[str] = []
    try:
        seen = read_lines_until(read_end, lambda seen: {"held entry", "landed event-claim"} <= set(seen))
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(read_end)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, seen
    assert len(_empty_event_claims(store)) == 1  # the killed writer's
    repo = new_repository(store, keys)
    _number(repo)  # takes the killed writer's register number and audit number over
    _number(repo)
    assert _numbers(repo) == [1, 2, 3]
    assert read_witness(store)["seq"] == 5  # the killed writer's number #2 filled, nothing after #5
    assert store.exists(event_key(2)) and not store.exists(event_key(6))
    assert _empty_event_claims(store) == []
    assert repo.audit.verify().ok
    fsck(repo, repair=True, grace_seconds=0)
    report = fsck(repo, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]


@pytest.mark.s3
def test_an_act_refused_before_its_events_gives_the_claimed_event_number_back(tmp_path: Path) -> None:
    """The act is refused after its entry landed and before its events are written (the log's
    guard refuses them: here a hook, as the web's cross-site refusal does): the audit number
    claimed beside the entry is given back at the end of the act, not left claimed and empty;
    the next act writes its events at that number. Passes before m36 too (nothing claimed)."""
    store, repo = _repository("s3", tmp_path, "m36refused")
    assert isinstance(store, S3Store)
    _number(repo)
    refusals = [Conflict("Từ chối để thử.", code="TEST_REFUSED")]
    claimed: list[str] = []
    real_claim = getattr(store, "claim_ahead", None)  # (main has none: then nothing is claimed)

    def claim_ahead(key: str) -> bool:
        claimed.append(key)
        assert real_claim is not None
        return bool(real_claim(key))

    def guard(drafts: Any) -> None:
        if refusals:
            raise refusals.pop()

    store.claim_ahead = claim_ahead  # type: ignore[method-assign]
    repo.audit.guard = guard
    with pytest.raises(Conflict):
        _number(repo)
    assert claimed == [event_key(2)]  # it was claimed beside the entry
    assert _empty_event_claims(store) == []
    _number(repo)
    assert store.exists(event_key(2))
    assert AuditLog(store).verify().ok
