"""Review of the overlapped directory syncs (``storage.group.Settling``): errors are not masked,
an interrupted wait leaves nothing unwaited, a failed sync of the commit point leaves a state
fsck rolls forward, ``KHO_FSYNC=false`` sends no sync to a thread, and nested waits from pool
threads do not deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, in_child, incoming, new_repository, pdf_bytes

from kho.errors import Duplicate, StoreFull, StoreUnavailable
from repository.fsck import fsck
from repository.records import version_key
from repository.registers import RegisterEntry
from repository.storage import group
from repository.storage.durability import Durability
from repository.storage.group import Settling
from repository.storage.local import LocalStore


class _FailUnder(Durability):
    """Fails (EIO) the next sync of a directory whose path contains ``armed``."""

    def __init__(self) -> None:
        self.armed: str | None = None

    def directory(self, path: Path) -> None:
        if self.armed is not None and self.armed in str(path):
            self.armed = None
            raise OSError(5, "Input/output error")
        super().directory(path)


def test_an_interrupt_is_not_replaced_by_the_commit_points_sync_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _FailUnder()
    repo = new_repository(LocalStore(tmp_path / "s", durability=rec), LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number="1"), None, None, CLERK)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(repo.audit, "append_many", interrupted)
    rec.armed = "/objects/registers/"  # the entry's directory sync fails
    with pytest.raises(KeyboardInterrupt) as caught:
        repo.create_document("den", incoming(code_number="2"), None, None, CLERK)
    assert isinstance(caught.value.__cause__, StoreUnavailable)  # the sync error is kept, chained


def _put_over_a_full_disk_while_the_archive_fails_to_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[LocalStore, Callable[[], None]]:
    """A store holding ``a/b`` = ``one``, and a put of ``two`` over it whose temp file cannot be
    written (ENOSPC) while the archive's directory sync fails (EIO)."""
    rec = _FailUnder()
    store = LocalStore(tmp_path / "s", durability=rec)
    store.put("a/b", b"one")

    def full(data: bytes) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_temp", full)

    def put() -> None:
        rec.armed = "/versions/"  # the archive's directory sync fails meanwhile
        store.put("a/b", b"two")

    return store, put


def test_a_put_that_cannot_write_says_so_also_when_the_archive_failed_to_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The archive's sync runs beside the write only in a process that runs the small pool
    # (``group.beside``): started here, whatever the tests before this one wrote (m51: without
    # it, this test failed when it ran first, or after tests whose groups all ran inline).
    group._executor(True)
    assert group.pool_running()
    store, put = _put_over_a_full_disk_while_the_archive_fails_to_sync(tmp_path, monkeypatch)
    with pytest.raises(StoreFull) as caught:
        put()
    assert isinstance(caught.value.__cause__.__cause__, OSError)  # ENOSPC, caused by the sync's EIO
    assert caught.value.__cause__.__cause__.errno == 5
    assert store.get("a/b") == b"one"


def test_a_put_whose_archive_fails_to_sync_in_place_says_so_before_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the small pool (a ``fork`` child forgets its parent's), the archive's sync runs
    in place, before the write: its error is the put's, and nothing is replaced."""
    store, put = _put_over_a_full_disk_while_the_archive_fails_to_sync(tmp_path, monkeypatch)

    def work() -> None:
        assert not group.pool_running()
        with pytest.raises(StoreUnavailable) as caught:
            put()
        assert isinstance(caught.value.__cause__, OSError)
        assert caught.value.__cause__.errno == 5  # the sync's EIO; the write was not tried
        assert store.get("a/b") == b"one"

    assert in_child(work, 60.0) == "ok"


def test_a_failed_sync_of_the_entry_leaves_a_record_fsck_rolls_forward(tmp_path: Path) -> None:
    rec = _FailUnder()
    store = LocalStore(tmp_path / "s", durability=rec)
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number="1"), None, None, CLERK)
    entries = {info.key for info in store.list("registers/")}
    rec.armed = "/objects/registers/"
    with pytest.raises(StoreUnavailable):
        repo.create_document("den", incoming(code_number="2"), pdf_bytes("b"), "b.pdf", CLERK)
    (entry,) = {info.key for info in store.list("registers/")} - entries  # the commit point is visible
    record_id = RegisterEntry.from_json(store.get(entry)).record_id
    assert not store.exists(version_key(record_id, 1))  # nothing after it was linked
    # The guards stay with the committed record: the same file is still refused.
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(code_number="3"), pdf_bytes("b"), "b.pdf", CLERK)
    report = fsck(repo, repair=True, grace_seconds=0)
    assert report.issues and all(i.repaired for i in report.issues), report.issues
    assert store.exists(version_key(record_id, 1))
    assert repo.get(record_id, actor=CLERK).registration is not None
    assert fsck(repo, deep=True).clean


class _InterruptedOnce(Future[Exception | None]):
    """A sync whose first waiter is interrupted (``KeyboardInterrupt`` while it waits)."""

    interrupted = False

    def result(self, timeout: float | None = None) -> Exception | None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().result(timeout)


def test_an_interrupted_wait_leaves_the_other_syncs_waited_for(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    interrupt = _InterruptedOnce()
    interrupt.set_result(None)
    slow: Future[Exception | None] = Future()
    settling = Settling()
    for future in (interrupt, slow):
        settling._add(group._Syncs([], [], [], 0, 0, {(id(store), "d"): store}, [future]))
    with pytest.raises(KeyboardInterrupt):
        settling.wait()
    ended = threading.Event()

    def wait_again() -> None:
        settling.wait()
        ended.set()

    waiter = threading.Thread(target=wait_again, daemon=True)
    waiter.start()
    assert not ended.wait(0.3), "a second wait returned while a sync was still running"
    slow.set_result(None)
    assert ended.wait(10)


def test_no_fsync_sends_no_directory_sync_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    real = group._submit

    def counting(small: bool, fn: Any, *args: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return real(small, fn, *args)

    monkeypatch.setattr(group, "_submit", counting)
    store = LocalStore(tmp_path / "s", fsync=False)
    repo = new_repository(store, LocalStore(tmp_path / "k", fsync=False))
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("a"), "a.pdf", CLERK)
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("b"), "b.pdf", CLERK)
    store.put("x/y", b"1")
    store.put("x/y", b"2")  # archives the first
    assert [name for name in sent if name in ("_sync_one", "_sync_dirs")] == []


def test_creations_and_puts_from_the_pools_own_threads_do_not_deadlock(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number="99"), None, None, CLERK)
    for n in range(8):
        store.put(f"p/{n}", b"0")
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            md = incoming(code_number=str(100 + n))
            repo.create_document("den", md, pdf_bytes(str(n)), f"{n}.pdf", CLERK)
        except BaseException as exc:
            errors.append(exc)

    # Puts in every thread of the small pool at once: each archives the old version and waits
    # for that directory sync (``beside``), which must not queue behind the pool's own callers;
    # meanwhile more creations than the pool has threads, each leaving syncs in the pool.
    futures = [group._executor(True).submit(store.put, f"p/{n}", b"1") for n in range(8)]
    threads = [threading.Thread(target=create, args=(n,), daemon=True) for n in range(1, 17)]
    for thread in threads:
        thread.start()
    for future in futures:
        future.result(timeout=60)
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert errors == []
    numbers = sorted(RegisterEntry.from_json(store.get(info.key)).number for info in store.list("registers/"))
    assert numbers == list(range(1, 18))
    assert all(store.get(f"p/{n}") == b"1" for n in range(8))


class _HoldRegisters(Durability):
    """Holds the next sync of a register directory until released."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = threading.Event()
        self.release = threading.Event()

    def directory(self, path: Path) -> None:
        if self.armed and "/objects/registers/" in str(path):
            self.armed = False
            self.reached.set()
            self.release.wait(20)
        super().directory(path)


def test_the_next_number_is_linked_only_once_the_entry_before_it_is_durable(tmp_path: Path) -> None:
    rec = _HoldRegisters()
    store = LocalStore(tmp_path / "s", durability=rec)
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number="01"), None, None, CLERK)
    rec.armed = True  # the sync of entry 2's directory is held
    first = threading.Thread(
        target=repo.create_document, args=("den", incoming(code_number="02"), None, None, CLERK), daemon=True
    )
    first.start()
    assert rec.reached.wait(20)
    second = threading.Thread(
        target=repo.create_document, args=("den", incoming(code_number="03"), None, None, CLERK), daemon=True
    )
    second.start()
    second.join(1.0)
    linked = len(list(store.list("registers/")))
    rec.release.set()
    first.join(20)
    second.join(20)
    assert not first.is_alive() and not second.is_alive()
    # Entry 3 became visible while entry 2 could still vanish in a power loss: a gap.
    assert linked == 2, "số 03 was linked before số 02 was durable"
    assert len(list(store.list("registers/"))) == 3


class _HoldContent(Durability):
    """Holds the next sync of a record's ``content/`` directory for a moment; says when it ended."""

    def __init__(self) -> None:
        self.armed = False
        self.ended = threading.Event()

    def directory(self, path: Path) -> None:
        if self.armed and path.name == "content":
            self.armed = False
            threading.Event().wait(0.5)
            super().directory(path)
            self.ended.set()
            return
        super().directory(path)


def test_an_intake_interrupted_while_staging_its_guard_waits_for_what_it_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _HoldContent()
    store = LocalStore(tmp_path / "s", durability=rec)
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    repo.create_intake("den", pdf_bytes("a"), "a.pdf", CLERK)
    real = store.stage

    def interrupted(key: str, data: bytes, *, fresh: bool = False) -> Any:
        if key.startswith("claims/"):
            raise KeyboardInterrupt
        return real(key, data, fresh=fresh)

    monkeypatch.setattr(store, "stage", interrupted)
    rec.armed = True  # the original's directory sync takes a moment
    with pytest.raises(KeyboardInterrupt):
        repo.create_intake("den", pdf_bytes("b"), "b.pdf", CLERK)
    assert rec.ended.is_set(), "the interruption went on while the original's directory still synced"
