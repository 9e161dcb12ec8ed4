"""A record's independent objects written in one step (``storage.group.write_group``): durable
together, visible in today's order, a failure mid-group leaves what a failure there leaves when
they are written one after another, and a process killed anywhere in it leaves a store that
``fsck`` makes clean."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, exit_code_in_child, incoming, make_store, new_repository, outgoing, pdf_bytes

import repository.records as records_module
from kho.errors import AlreadyExists, Duplicate, StoreFull, StoreUnavailable
from repository.fsck import fsck
from repository.records import Repository
from repository.storage import group as group_module
from repository.storage import local
from repository.storage.base import ObjectInfo, Staged
from repository.storage.durability import Durability
from repository.storage.group import SMALL_BYTES, NewObject, write_group, written
from repository.storage.local import LocalStore, _LocalStaged
from repository.storage.overlap import ALWAYS, NEVER

ROOT = Path(__file__).resolve().parents[2]


class Trace:
    """Every fsync (of which file, on which thread) and every link, in the order they ran."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def fsync(self, real: Callable[[int], None]) -> Callable[[int], None]:
        def traced(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            real(fd)
            with self._lock:
                self.events.append(("fsync", path, threading.get_ident()))

        return traced

    def link(self, real: Callable[..., None]) -> Callable[..., None]:
        def traced(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            real(src, dst, *args, **kwargs)
            with self._lock:
                self.events.append(("link", f"{src}\0{dst}", threading.get_ident()))

        return traced

    def links(self) -> list[tuple[int, str, str]]:
        out = []
        for i, (kind, what, _) in enumerate(self.events):
            if kind == "link":
                src, dst = what.split("\0")
                if "/objects/" in dst:  # not the archive of a replaced witness
                    out.append((i, src, dst))
        return out

    def fsync_at(self, path: str) -> int:
        return next(i for i, (kind, what, _) in enumerate(self.events) if kind == "fsync" and what == path)


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trace]:
    t = Trace()
    monkeypatch.setattr(os, "fsync", t.fsync(os.fsync))
    monkeypatch.setattr(os, "link", t.link(os.link))
    yield t


def _kind(dst: str) -> str:
    key = dst.split("/objects/", 1)[1]
    for prefix, kind in (
        ("catalog/records/", "marker"),
        ("keys/", "key"),
        ("claims/sha256/", "sha-guard"),
        ("claims/skh/", "skh-guard"),
        ("registers/", "entry"),
        ("audit/events/", "audit"),
    ):
        if key.startswith(prefix):
            return kind
    if "/content/" in key:
        return "original"
    if "/v0" in key:
        return "version"
    return key


@pytest.mark.parametrize("overlap", [True, False], ids=["slow syncs", "fast syncs"])
def test_every_object_is_durable_before_visible_and_before_the_commit_point(
    tmp_path: Path, trace: Trace, monkeypatch: pytest.MonkeyPatch, overlap: bool
) -> None:
    # m28 (issue 14): the fsyncs overlap in threads only where the store's syncs are slow
    # (pinned: storage.overlap.ALWAYS, NEVER); the order is the same either way.
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", ALWAYS if overlap else NEVER)
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    repo.create_document("den", incoming(code_number="7"), pdf_bytes("warm"), "w.pdf", CLERK)
    trace.events.clear()

    repo.create_document("den", incoming(code_number="8"), pdf_bytes("a", 200_000), "a.pdf", CLERK)

    links = trace.links()
    # Visible in the order a one-after-another write made them visible.
    assert [_kind(dst) for _, _, dst in links] == [
        "marker",
        "key",
        "original",
        "sha-guard",
        "skh-guard",
        "entry",
        "version",
        "audit",
    ]
    for at, src, _ in links:
        assert trace.fsync_at(src) < at  # durable before visible
    commit = next(at for at, _, dst in links if _kind(dst) == "entry")
    for at, src, dst in links:
        if at < commit:
            assert trace.fsync_at(src) < commit, dst  # all it refers to is durable before it
    pre_commit = {trace.fsync_at(src) for at, src, _ in links if at < commit}
    threads = {trace.events[i][2] for i in pre_commit}
    if overlap:  # the fsyncs before the commit point overlapped: they ran on more than one thread
        assert len(threads) >= 2
    else:  # every fsync ran in the writer's thread (a thread hand-off costs more than a fast one)
        assert {event[2] for event in trace.events if event[0] == "fsync"} == {threading.get_ident()}
    assert repo.audit.verify().ok


def test_a_write_refused_mid_group_leaves_no_later_object_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    real_write = os.write

    def disk_full_for_big_writes(fd: int, data: Any) -> int:
        if len(data) > 100_000:  # the 200 KB original only
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_for_big_writes)
    with pytest.raises(StoreFull):
        repo.create_document("den", incoming(code_number="9"), pdf_bytes("b", 200_000), "b.pdf", CLERK)
    monkeypatch.setattr(os, "write", real_write)

    store = repo.store
    assert isinstance(store, LocalStore)
    markers = [i.key for i in store.list("catalog/records/")]
    assert len(markers) == 1  # the objects before the original are visible, as before
    record_id = markers[0].rsplit("/", 1)[1]
    assert repo.keys.store.exists(f"keys/{record_id}")
    # ... and nothing after it: no original, guard, entry, version or audit event.
    for prefix in ("records/", "claims/", "registers/", "audit/events/"):
        assert list(store.list(prefix)) == [], prefix
    assert list((store.root / "tmp").iterdir()) == []  # no staged object left behind
    assert fsck(repo, repair=True, grace_seconds=0) is not None
    assert fsck(repo, grace_seconds=0).clean
    # The same document goes in afterwards.
    record = repo.create_document("den", incoming(code_number="9"), pdf_bytes("b", 200_000), "b.pdf", CLERK)
    assert record.registration is not None and record.registration.number == 1


def test_a_guard_held_by_another_record_holds_back_the_rest_of_the_group(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    first = repo.create_document("den", incoming(code_number="10"), pdf_bytes("c"), "c.pdf", CLERK)
    with pytest.raises(Duplicate) as caught:
        # Same file (its SHA-256 guard is taken), another số/ký hiệu (its guard would be free).
        repo.create_document("den", incoming(code_number="11"), pdf_bytes("c"), "c.pdf", CLERK)
    assert caught.value.details.get("existing_record_id") == first.record_id
    store = repo.store
    holders = {store.get(i.key).decode().count(first.record_id) > 0 for i in store.list("claims/")}
    assert holders == {True}  # every guard there is the first record's: none of the loser's
    assert len(list(store.list("claims/"))) == 2
    assert len(list(store.list("registers/"))) == 1
    assert fsck(repo, repair=True, grace_seconds=0) is not None
    assert fsck(repo, grace_seconds=0).clean


def test_write_group_stops_at_the_first_failure_on_the_local_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    store.put_if_absent("b", b"taken")
    group = [NewObject(store, k, k.encode() * 10) for k in ("a", "b", "c")]
    outcomes = write_group(group)
    assert isinstance(outcomes[0], ObjectInfo)
    assert isinstance(outcomes[1], AlreadyExists)
    assert outcomes[2] is None  # held back
    assert store.get("a") == b"a" * 10 and store.get("b") == b"taken" and not store.exists("c")
    assert list((store.root / "tmp").iterdir()) == []
    # An object every writer writes with the same bytes counts as written when it is there.
    again = write_group([NewObject(store, "a", b"a" * 10, same_bytes=True), NewObject(store, "c", b"c")])
    assert all(written(o) for o in again) and store.get("c") == b"c"


@pytest.mark.s3
def test_write_group_on_s3_sends_every_object_and_reports_each(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "group")
    store.put_if_absent("b", b"taken")
    group = [NewObject(store, k, k.encode() * 10, fresh=k != "b") for k in ("a", "b", "c", "d")]
    outcomes = write_group(group)
    assert isinstance(outcomes[1], AlreadyExists)
    assert [written(o) for o in outcomes] == [True, False, True, True]
    assert [store.get(k) for k in ("a", "b", "c", "d")] == [b"a" * 10, b"taken", b"c" * 10, b"d" * 10]


@pytest.mark.s3
def test_records_on_s3_written_in_groups_read_back_whole(tmp_path: Path) -> None:
    repo = new_repository(make_store("s3", tmp_path, "gs"), make_store("s3", tmp_path, "gk"))
    made = [
        repo.create_document("den", incoming(code_number=str(20 + i)), pdf_bytes(f"s{i}"), "s.pdf", CLERK)
        for i in range(3)
    ] + [repo.create_document("di", outgoing(), None, None, CLERK)]
    for record in made:
        assert repo.get(record.record_id, actor=CLERK).registration == record.registration
    assert [r.registration.number for r in made if r.registration] == [1, 2, 3, 1]
    assert repo.audit.verify().ok
    assert fsck(repo, grace_seconds=0).clean


# A child that dies (os._exit: no cleanup, like SIGKILL) at its N-th fsync or link, on a plain
# local folder, where the objects of a group are staged in threads and linked in order.
def _two_creations_dying_at(
    what: str, die_at: int, tmp_path: Path, n: int
) -> None:  # pragma: no cover - the child
    """In a forked child: two creations on the local folder; the process dies (os._exit: no
    cleanup, like SIGKILL) at the ``die_at``-th call of ``os.<what>``, from any thread."""
    count = [0]
    lock = threading.Lock()
    real = getattr(os, what)

    def dying(*args: Any, **kwargs: Any) -> Any:
        with lock:
            count[0] += 1
            if count[0] == die_at:
                os._exit(137)
        return real(*args, **kwargs)

    setattr(os, what, dying)
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    repo.create_document("den", incoming(code_number=str(100 + n)), pdf_bytes(str(n)), "a.pdf", CLERK)
    repo.create_document("di", outgoing(), None, None, CLERK)


def _assert_consistent(repo: Repository) -> None:
    fsck(repo, repair=True, grace_seconds=0)
    after = fsck(repo, grace_seconds=0)
    assert after.clean, after.issues
    for record in repo.records():
        assert record.registration is not None
        for stored in record.files:
            _, data = repo.read_content(record.record_id, actor=CLERK)
            assert len(data) == stored.size
    assert repo.audit.verify().ok


@pytest.mark.parametrize("what", ["fsync", "link"])
def test_death_at_every_fsync_or_link_of_a_group_leaves_a_consistent_store(tmp_path: Path, what: str) -> None:
    die_at = 1
    while True:
        code = exit_code_in_child(partial(_two_creations_dying_at, what, die_at, tmp_path, die_at))
        if code == 0:
            break
        assert code == 137
        _assert_consistent(new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k")))
        die_at += 1
    assert die_at > 8  # the two creations really were cut at every step


# Review findings on the group write (F1..F3): each test below failed before its fix.


def test_a_slow_original_keeps_its_guards_from_a_second_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard is stamped once the original is stored, so a grace period shorter than the
    original's write does not hand it to a competing writer of the same file (F1)."""
    monkeypatch.setattr(records_module, "CLAIM_GRACE_SECONDS", 1)  # stands for the real 30 s
    real_write_temp = LocalStore._write_temp

    def slow_write_temp(self: LocalStore, data: bytes) -> Path:  # a large original: longer than the grace
        if len(data) > 100_000:
            time.sleep(1.5)
        return real_write_temp(self, data)

    real_allocate = Repository._allocate

    def busy_allocate(self: Repository, *args: Any, **kwargs: Any) -> Any:  # well under the grace
        time.sleep(0.5)
        return real_allocate(self, *args, **kwargs)

    monkeypatch.setattr(LocalStore, "_write_temp", slow_write_temp)
    monkeypatch.setattr(Repository, "_allocate", busy_allocate)
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    content = pdf_bytes("same", size=200_000)
    out: dict[str, str] = {}

    def create(tag: str, number: str) -> None:
        try:
            out[tag] = repo.create_document(
                "den", incoming(code_number=number), content, "x.pdf", CLERK
            ).record_id
        except Duplicate as exc:
            out[tag] = "Duplicate:" + str(exc.details.get("existing_record_id"))

    first = threading.Thread(target=create, args=("A", "901"))
    second = threading.Thread(target=create, args=("B", "902"))
    first.start()
    time.sleep(0.1)
    second.start()
    first.join()
    second.join()
    assert out["B"] == "Duplicate:" + out["A"]  # the same file is stored once
    assert [r.record_id for r in repo.records()] == [out["A"]]


@pytest.mark.s3
def test_a_failed_marker_on_s3_leaves_nothing_fsck_cannot_find(tmp_path: Path) -> None:
    """A record whose marker was refused leaves nothing fsck cannot find (F2). m24: the marker
    is sent with the key and the original (no longer first), so their key and original may be
    there: fsck finds them (``key-orphan``, ``uncommitted``) and removes them; nothing that
    depends on them (guard, register entry, version, event) was written."""
    store, keystore = make_store("s3", tmp_path, "ms"), make_store("s3", tmp_path, "mk")
    real_put_new = type(store).put_new

    def refusing_marker(key: str, data: bytes) -> ObjectInfo:
        if key.startswith("catalog/records/"):
            raise StoreUnavailable("injected 503 on the marker", key=key)
        return real_put_new(store, key, data)

    store.put_new = refusing_marker  # type: ignore[method-assign]
    repo = new_repository(store, keystore)
    with pytest.raises(StoreUnavailable):
        repo.create_document("di", outgoing(), None, None, CLERK)
    with pytest.raises(StoreUnavailable):
        repo.create_document("den", incoming(code_number="31"), pdf_bytes("m"), "m.pdf", CLERK)
    del store.put_new
    for prefix in ("claims/", "registers/", "catalog/", "audit/events/"):
        assert [i.key for i in store.list(prefix)] == [], prefix
    found = fsck(repo, grace_seconds=0)
    kinds = sorted(i.kind for i in found.issues)
    assert kinds == ["key-orphan", "uncommitted"], found.issues  # the document's; the note's key
    assert all(i.repairable for i in found.issues)
    fsck(repo, repair=True, grace_seconds=0)
    assert [i.key for i in keystore.list("keys/")] == []
    assert [i.key for i in store.list("records/")] == []
    assert fsck(repo, grace_seconds=0).clean


class _Interrupt:
    """Interrupt the main thread (as Ctrl-C would) from a thread doing a write of the group."""

    def __init__(self) -> None:
        self.sent = False
        self._old: Any = None

    def __enter__(self) -> _Interrupt:
        def raise_interrupt(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        self._old = signal.signal(signal.SIGUSR1, raise_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGUSR1, self._old)

    def fire(self) -> None:
        with _FIRE_LOCK:
            if not self.sent:
                self.sent = True
                os.kill(os.getpid(), signal.SIGUSR1)


_FIRE_LOCK = threading.Lock()


@pytest.mark.s3
def test_an_interrupt_while_guards_are_sent_on_s3_gives_every_guard_back(tmp_path: Path) -> None:
    """Interrupted while its guards are on their way, a creation waits for them and gives back
    each one that landed: the same file goes in afterwards (F3)."""
    store, keystore = make_store("s3", tmp_path, "is"), make_store("s3", tmp_path, "ik")
    real_put_if_absent = type(store).put_if_absent
    repo = new_repository(store, keystore)
    content = pdf_bytes("interrupted", size=50_000)
    with _Interrupt() as interrupt:

        def slow_guard(key: str, data: bytes) -> ObjectInfo:
            if key.startswith("claims/"):
                interrupt.fire()
                time.sleep(1.0)
            return real_put_if_absent(store, key, data)

        store.put_if_absent = slow_guard  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            repo.create_document("den", incoming(code_number="77"), content, "a.pdf", CLERK)
        del store.put_if_absent
    assert interrupt.sent
    assert [i.key for i in store.list("claims/")] == []  # each guard that landed was given back
    time.sleep(1.2)
    assert [i.key for i in store.list("claims/")] == []  # and none lands afterwards
    record = repo.create_document("den", incoming(code_number="78"), content, "a.pdf", CLERK)
    assert record.registration is not None
    fsck(repo, repair=True, grace_seconds=0)
    assert fsck(repo, grace_seconds=0).clean


def test_an_interrupt_while_a_group_is_staged_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while its objects are made durable, a group waits for them and gives up
    every staged temp file (F3)."""
    store = LocalStore(tmp_path / "store")
    real_write_temp = LocalStore._write_temp
    with _Interrupt() as interrupt:

        def slow_write_temp(self: LocalStore, data: bytes) -> Path:
            if len(data) > 100_000:
                interrupt.fire()
                time.sleep(0.5)
            return real_write_temp(self, data)

        monkeypatch.setattr(LocalStore, "_write_temp", slow_write_temp)
        group = [NewObject(store, "small", b"s"), NewObject(store, "big", b"b" * 200_000)]
        with pytest.raises(KeyboardInterrupt):
            write_group(group)
    assert interrupt.sent
    time.sleep(0.7)
    assert list((store.root / "tmp").iterdir()) == []
    assert not store.exists("small") and not store.exists("big")


def test_small_objects_do_not_wait_behind_large_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards, versions and audit events (the audit step runs under the log's lock) are written
    while every thread writing large originals is busy."""
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", ALWAYS)  # slow syncs: staged in threads
    store = LocalStore(tmp_path / "store")
    real_write_temp = LocalStore._write_temp
    release, busy = threading.Event(), threading.Semaphore(0)

    def stuck_large_write(self: LocalStore, data: bytes) -> Path:
        if len(data) > SMALL_BYTES:
            busy.release()
            release.wait(30)
        return real_write_temp(self, data)

    monkeypatch.setattr(LocalStore, "_write_temp", stuck_large_write)
    large = [NewObject(store, f"big/{i}", b"b" * (SMALL_BYTES + 1)) for i in range(12)]
    other = threading.Thread(target=write_group, args=(large,))
    other.start()
    try:
        for _ in range(8):
            assert busy.acquire(timeout=10)  # every large-write thread is taken
        done: list[list[Any]] = []
        small = threading.Thread(
            target=lambda: done.append(write_group([NewObject(store, f"small/{i}", b"s") for i in range(3)]))
        )
        small.start()
        small.join(timeout=5)
        assert done and all(written(o) for o in done[0])
    finally:
        release.set()
        other.join()
    assert all(store.exists(f"big/{i}") for i in range(12))


@pytest.mark.s3
def test_two_writers_of_one_file_and_number_on_s3_let_one_commit(tmp_path: Path) -> None:
    """On S3 a record's guards are taken one after another (as on main): two writers of the
    same file and số/ký hiệu cannot each take one guard and both be refused."""
    store, keystore = make_store("s3", tmp_path, "gs"), make_store("s3", tmp_path, "gk")
    real_put_if_absent = type(store).put_if_absent
    lock, meet = threading.Lock(), threading.Barrier(2, timeout=10)
    order: list[str] = []  # record ids in the order they reached their guards

    def crossing_guards(key: str, data: bytes) -> ObjectInfo:
        """The first writer's number guard and the second's file guard are slow: sent at once,
        the writers would take one guard each."""
        if key.startswith("claims/"):
            record_id = json.loads(data)["record_id"]
            with lock:
                first_seen = record_id not in order
                if first_seen:
                    order.append(record_id)
            if first_seen:
                meet.wait()
            first = record_id == order[0]
            if (first and key.startswith("claims/skh/")) or (not first and key.startswith("claims/sha256/")):
                time.sleep(0.5)
        return real_put_if_absent(store, key, data)

    store.put_if_absent = crossing_guards  # type: ignore[method-assign]
    repo = new_repository(store, keystore)
    content = pdf_bytes("twice", size=50_000)
    out: list[str] = []

    def create() -> None:
        try:
            made = repo.create_document("den", incoming(code_number="55"), content, "t.pdf", CLERK)
            out.append(made.record_id)
        except Duplicate:
            out.append("Duplicate")

    writers = [threading.Thread(target=create) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    del store.put_if_absent
    assert sorted(out, key=lambda x: x == "Duplicate") == [order[0], "Duplicate"]
    assert [r.record_id for r in repo.records()] == [order[0]]


# Re-review (2026-12-02): faults found in the fixed branch; each test failed before its fix.

LATE_WRITER = textwrap.dedent(
    """
    import sys, threading, time
    sys.path[:0] = [{root!r}, {support!r}]
    from kho_testing import CLERK, incoming, new_repository, pdf_bytes
    from repository.storage.local import LocalStore

    repo = new_repository(LocalStore({store!r}), LocalStore({keys!r}))
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("before"), "a.pdf", CLERK)

    def late() -> None:
        time.sleep(0.5)  # the main thread has finished: the interpreter is shutting down
        try:
            made = repo.create_document("den", incoming(code_number="2"), pdf_bytes("late"), "b.pdf", CLERK)
            print("written", made.registration.number, flush=True)
        except BaseException as exc:
            print("failed", type(exc).__name__, exc, flush=True)

    threading.Thread(target=late).start()
    """
)


def test_a_thread_that_writes_while_the_interpreter_shuts_down_still_writes(tmp_path: Path) -> None:
    """``concurrent.futures`` refuses new work once the main thread has finished (its atexit
    hook runs before the non-daemon threads are joined); a record written then by a thread
    still running is written as before the groups, not refused with a ``RuntimeError``."""
    script = LATE_WRITER.format(
        root=str(ROOT),
        support=str(ROOT / "tests" / "support"),
        store=str(tmp_path / "s"),
        keys=str(tmp_path / "k"),
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "written 2", done.stdout + done.stderr
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    assert sorted(r.registration.number for r in repo.records() if r.registration) == [1, 2]
    assert fsck(repo, grace_seconds=0).clean
    assert list((tmp_path / "s" / "tmp").iterdir()) == []


class _Replicating(LocalStore):
    """A store whose create writes two copies as a group of its own (a nested group: its
    writes run on the pool threads of the group that called it)."""

    groups_in_order = False  # a create is a round trip: an outer group sends them concurrently

    def __init__(self, root: Path, inner: LocalStore) -> None:
        super().__init__(root)
        self.inner = inner

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        copies = [NewObject(self.inner, key, data), NewObject(self.inner, key + ".copy", data)]
        for outcome in write_group(copies):
            if isinstance(outcome, BaseException):
                raise outcome
        return ObjectInfo(key=key, size=len(data))


def test_a_group_written_from_a_pool_thread_does_not_wait_for_its_own_pool(tmp_path: Path) -> None:
    """A group whose objects' writes start groups of their own (every thread of the pool busy
    with the outer writes) is written, not deadlocked waiting for threads it occupies."""
    store = _Replicating(tmp_path / "outer", LocalStore(tmp_path / "inner"))
    big = b"b" * (SMALL_BYTES + 1)
    outer = [NewObject(store, f"big/{i}", big) for i in range(12)]
    done: list[list[Any]] = []
    writer = threading.Thread(target=lambda: done.append(write_group(outer)), daemon=True)
    writer.start()
    writer.join(timeout=30)
    assert not writer.is_alive(), "the nested groups wait for the pool their callers occupy"
    assert all(written(o) for o in done[0])
    assert all(store.inner.exists(f"big/{i}") and store.inner.exists(f"big/{i}.copy") for i in range(12))


class _LinkedInThreads(LocalStore):
    """A folder whose group links are sent to the pool's threads, as S3's requests are, and
    leave their directory to sync: no backend of Kho does both today; the group must not rely
    on that (a link landing after an interrupted group stopped waiting is still synced)."""

    groups_in_order = False

    def stage(self, key: str, data: bytes, *, fresh: bool = False) -> Staged:
        staged = super().stage(key, data, fresh=fresh)
        staged.ordered = False
        return staged


class _SyncsSeen(Durability):
    def __init__(self, watched: Path) -> None:
        self.watched = watched
        self.synced_after: list[str] = []  # directories synced once ``watched`` was visible

    def directory(self, path: Path) -> None:
        super().directory(path)
        if self.watched.exists():
            self.synced_after.append(str(path))


def test_a_link_that_lands_after_an_interrupted_group_stopped_waiting_is_still_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = _SyncsSeen(tmp_path / "s" / "objects" / "late" / "b")
    store = _LinkedInThreads(tmp_path / "s", durability=rec)
    holding, release = threading.Event(), threading.Event()
    real_publish = _LocalStaged.publish

    def slow_publish(self: _LocalStaged) -> ObjectInfo:
        info = real_publish(self)
        if self.key == "late/b":  # linked; the call returns after the group stopped waiting
            holding.set()
            release.wait(30)
        return info

    def interrupted(index: int, outcome: object) -> None:
        assert holding.wait(30)
        raise KeyboardInterrupt

    monkeypatch.setattr(_LocalStaged, "publish", slow_publish)
    monkeypatch.setattr(group_module, "SETTLE_SECONDS", 0.2)
    try:
        with pytest.raises(KeyboardInterrupt):
            objects = [NewObject(store, "early/a", b"a"), NewObject(store, "late/b", b"b")]
            write_group(objects, report=interrupted)
    finally:
        release.set()
    deadline = time.monotonic() + 30
    while str(store.root / "objects" / "late") not in rec.synced_after and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.get("late/b") == b"b"  # its link ended after the group gave up waiting for it
    assert str(store.root / "objects" / "late") in rec.synced_after  # and its name is durable
