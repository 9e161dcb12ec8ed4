"""Writing objects that do not depend on each other in one step.

The store's promise is: each object is durable before it is visible, and everything a commit
point refers to is durable before the commit point. Neither needs the durable writes of
independent objects to run one after another. :func:`write_group` makes every object of a group
durable first (``ObjectStore.stage``: on the local folder a temp file written and fsync'd; in
threads, so the fsyncs overlap and share journal commits, only while the store's fsyncs are
slow or a core is idle to run them beside the writer (``ObjectStore.overlaps_syncs``,
``storage.overlap``): otherwise a fast one costs less than the hand-off, issue 14), then
makes them visible one by one in the order given (``Staged.publish``: a link), stopping at the
first failure: a failure at object *k* leaves exactly objects *0..k-1* visible, as writing them
in sequence would. A link is durable once its directory is fsync'd: the group syncs each
distinct directory its links went into once, after the last link and before it returns (or
hands the syncs to a :class:`Settling` that the dependent group waits for before its first
link), so a group that depends on an earlier one finds it durable. Within a group, a power loss
may keep any subset of the links: callers group only objects that do not depend on each other
(an object the others depend on goes in a group of its own, before them).

A backend whose create is one request that makes the object durable and visible at once (S3)
has nothing to stage: its group is sent concurrently, and every object is attempted (a failure
does not hold back the others, which may then be visible; each one is durable when it is).
Callers group only objects whose every subset is a state a crash can leave today (before a
commit point: a record in flight, which ``kho fsck`` cleans; after it: what a roll-forward
redoes).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from kho.errors import AlreadyExists, StoreUnavailable
from repository.storage.base import ObjectInfo, ObjectStore, Staged

if TYPE_CHECKING:  # imported where a group is written: a read-only command never needs them
    from concurrent.futures import Future, ThreadPoolExecutor

_T = TypeVar("_T")
_A = TypeVar("_A")
_MAX_THREADS = 8
_SMALL_THREADS = 8
"""Room for a group's directory syncs and the next group's temp-file fsyncs at once (a record's
first step leaves up to four directories syncing while its guards are staged)."""
SMALL_BYTES = 64 * 1024
"""Objects up to this size go to a pool of their own: a record's guards, markers, versions and
audit events (the audit step runs under the log's lock) never wait behind other requests'
large originals."""
_READER = "read"
_pools: dict[bool | str, ThreadPoolExecutor] = {}
"""The per-process pools: small objects (True), the rest (False), reads (:data:`_READER`)."""
_pool_pid = 0
_pool_lock = threading.Lock()


_in_pool = threading.local()


def _mark_pool_thread() -> None:
    _in_pool.worker = True


_READ_THREADS = 8
"""Reads of one answer waiting side by side (:func:`read_each`): a page's records on S3."""


def _mark_reader_thread() -> None:
    _in_pool.reader = True


class StartsAfterFork(Protocol):
    def _start_after_fork(self) -> None:
        """Called in the child of a ``fork`` before any other code runs there: replace every
        lock (and whatever else only the parent's threads could finish) with a new one."""


_after_fork: weakref.WeakSet[StartsAfterFork] = weakref.WeakSet()


def start_after_fork(owner: StartsAfterFork) -> None:
    """Have ``owner._start_after_fork()`` called in the child of every later ``fork``: the
    objects of a process that hold a lock (the audit log, the key ring, the registers, an S3
    store) register here when they are made."""
    _after_fork.add(owner)


def _start_afresh_after_fork() -> None:
    """The one fork hook of the write path. A child of ``fork`` has only the thread that forked:
    a lock that another thread held at that instant stays held for ever, and a pool's threads
    and the futures they were to complete are gone. The pools are forgotten (the child makes
    its own), every registered owner replaces its locks, and a :class:`Settling` inherited with
    syncs pending refuses to wait for them (:meth:`_Syncs.finish`)."""
    global _pools, _pool_pid, _pool_lock
    _pools, _pool_pid, _pool_lock = {}, 0, threading.Lock()
    for owner in list(_after_fork):
        owner._start_after_fork()


LAZY_IMPORTS = (
    "cryptography.hazmat.primitives.ciphers.aead",  # keys: a record's data key
    "cryptography.hazmat.primitives.keywrap",  # keys: wrapping it
    "repository.anchor",  # registers: the checkpoint's floor of a series
)
"""Modules the write path imports on its first use (a command that only reads never needs
them). With the pools' modules (:data:`POOL_MODULES`), a record's creation on a folder imports
nothing else (``tests/repository/test_fork_locks.py``)."""

POOL_MODULES = ("concurrent", "concurrent.futures", "concurrent.futures._base", "concurrent.futures.thread")
"""The pools' modules (storage.group, storage.local), also imported on first use."""


def _finish_imports_before_fork() -> None:
    """Before a ``fork`` of a process with a write path (an owner registered), in the forking
    thread: a module another thread is importing at the fork keeps its import lock held in the
    child, by a thread the child does not have, and the child's first write would wait for it
    for ever. Each of :data:`LAZY_IMPORTS` is imported here, which waits for such an import to
    end; once loaded, a module is not imported (nor locked) again.

    A pool module is imported here only when it is in ``sys.modules`` already (loaded, or being
    loaded by another thread: waited for). ``concurrent.futures.thread`` registers fork hooks of
    its own: first imported during a fork, its ``after_in_parent`` hook would run without its
    ``before`` one ("release unlocked lock"). Otherwise the child imports them on its first
    group; a thread that is still looking for one of them (before it is in ``sys.modules``) at
    the fork is the window left."""
    if len(_after_fork) == 0:
        return
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    for name in POOL_MODULES:
        if name in sys.modules:
            importlib.import_module(name)


os.register_at_fork(before=_finish_imports_before_fork, after_in_child=_start_afresh_after_fork)


class _Sent:
    """The tasks one group sent to a pool, as the tasks see themselves: each says so when it
    starts and leaves its result when it ends, in its own thread, where no interrupt of the
    caller can come in between. An interrupted caller thus finds every task that ran, also
    one whose future it had not stored yet when the interrupt came (``submit`` returned, the
    assignment not done)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._abandoned = False
        self._finished: list[tuple[int, Any]] = []

    def run(self, index: int, fn: Callable[..., _T], *args: Any) -> _T | None:
        with self._cond:
            if self._abandoned:
                return None  # the caller was interrupted before this task started: not run
            self._running += 1
        finished = False
        try:
            result = fn(*args)
            finished = True
            return result
        finally:
            with self._cond:
                self._running -= 1
                if finished:
                    self._finished.append((index, result))
                self._cond.notify_all()

    def abandon(self, timeout: float) -> list[tuple[int, Any]]:
        """No task starts from now on; wait (at most ``timeout``) for those running; the
        (index, result) of every task that ended."""
        with self._cond:
            self._abandoned = True
            self._cond.wait_for(lambda: self._running == 0, timeout)
            return list(self._finished)


def _small(obj: NewObject) -> bool:
    return len(obj.data) <= SMALL_BYTES


def _executor(kind: bool | str) -> ThreadPoolExecutor:
    """The pool for small objects and directory syncs (True), for the rest (False) or for reads
    (:data:`_READER`), per process (a pool inherited through ``fork`` has no threads behind it)."""
    from concurrent.futures import ThreadPoolExecutor

    global _pools, _pool_pid
    with _pool_lock:
        if _pool_pid != os.getpid():
            _pools, _pool_pid = {}, os.getpid()
        pool = _pools.get(kind)
        if pool is None:
            threads, name, marked = {
                True: (_SMALL_THREADS, "kho-group-small", _mark_pool_thread),
                False: (_MAX_THREADS, "kho-group", _mark_pool_thread),
                _READER: (_READ_THREADS, "kho-read", _mark_reader_thread),
            }[kind]
            pool = _pools[kind] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix=name, initializer=marked
            )
        return pool


def _submit(small: bool, fn: Callable[..., _T], *args: Any) -> Future[_T]:
    """Run ``fn(*args)`` on the ``small`` pool or the other; in the calling thread, done already, once the
    interpreter is shutting down: ``concurrent.futures`` then refuses new work (its exit hook
    runs before the threads still running are joined, and one of them may be writing a
    record), and the group is written as one object after another."""
    from concurrent.futures import Future

    # Called from a pool thread (a write that starts a group of its own), waiting for the pool
    # from one of its threads could wait forever behind the callers occupying it.
    if not getattr(_in_pool, "worker", False):
        try:
            return _executor(small).submit(fn, *args)
        except RuntimeError:
            pass
    done: Future[_T] = Future()
    done.set_result(fn(*args))  # fn reports its own failures; an interrupt goes on up
    return done


def beside(fn: Callable[..., _T], *args: Any) -> Future[_T] | None:
    """Run ``fn(*args)`` in the small pool while the caller goes on (a directory sync beside a
    temp file's fsync), when this process runs that pool already: the caller waits for the
    future before it depends on the result. Otherwise run it here, before returning, and
    return None (done; its failure raised here): a process that writes no group, such as an
    audited command whose one write is the witness, neither imports ``concurrent.futures``
    (and ``logging``) nor starts a thread for one sync (~5-10 ms of such a command's CPU)."""
    if not pool_running():
        fn(*args)
        return None
    return _submit(True, fn, *args)


def write_beside(fn: Callable[..., _T], *args: Any) -> Future[_T]:
    """Start ``fn(*args)``, a write nothing reads before the caller waits for it, on the pool
    of larger objects while the caller goes on (issue 14, m52: an ingest step's derived object
    and a job's first status write, each beside the requests of the steps after it). The
    caller takes its result, or its error, with ``result()`` before anything depends on it.
    From a pool thread or once the interpreter shuts down it runs here, before returning."""
    return _submit(False, fn, *args)


def read_each(fn: Callable[[_A], _T], items: Sequence[_A]) -> list[_T]:
    """``[fn(item) for item in items]``, the calls run concurrently on a per-process pool of
    reader threads (made again in the child of a ``fork``, as the write pools are): reads that
    do not depend on each other (one record per item) then wait for their store round trips
    side by side, not one after another. The results come in the order of ``items``; the
    first failure in that order is raised (the other reads still end, and are dropped). One
    item, a call from a reader thread (no pool waits on itself), or an interpreter shutting
    down runs the calls here, one after another."""
    if len(items) < 2 or getattr(_in_pool, "reader", False):
        return [fn(item) for item in items]
    pool = _executor(_READER)
    try:
        futures = [pool.submit(fn, item) for item in items]
    except RuntimeError:  # shutting down: no new work for the pool
        return [fn(item) for item in items]
    return [future.result() for future in futures]


def read_beside(fn: Callable[..., _T], *args: Any) -> Future[_T] | None:
    """Start ``fn(*args)``, a read, on the reader pool while the caller goes on with writes the
    read does not depend on (issue 14, m31: the audit witness read of an act on S3 while its
    register entry is written; m50: a new record's catalog marker and key, a group of their own,
    beside its register entry's claim); the caller takes its result, or its error, with
    ``result()``. None, nothing started, from a reader thread (no pool waits on itself) or once the
    interpreter shuts down: the caller reads in place then, as without it."""
    if getattr(_in_pool, "reader", False):
        return None
    try:
        return _executor(_READER).submit(fn, *args)
    except RuntimeError:  # shutting down: no new work for the pool
        return None


def pool_running() -> bool:
    """Whether this process runs the small pool already (it has written a group): work left
    running in it (:func:`beside`, a :class:`Settling`) then starts no thread and imports
    nothing."""
    with _pool_lock:
        return _pool_pid == os.getpid() and True in _pools


@dataclass(frozen=True)
class NewObject:
    """One object of a group."""

    store: ObjectStore
    key: str
    data: bytes
    fresh: bool = False
    """``put_new``: the key sits under a record id its writer has just made (no race on it)."""
    same_bytes: bool = False
    """Every writer of this key writes these bytes: finding it there already counts as written."""


NOT_WRITTEN = None
"""The outcome of an object a failure before it held back."""

Outcome = ObjectInfo | BaseException | None

SETTLE_SECONDS = 30.0
"""How long an interrupted group waits for the requests it has already sent (a duplicate guard
that landed later than that is stale by then: ``records.CLAIM_GRACE_SECONDS``)."""

Report = Callable[[int, Outcome], None]


def _ignore(index: int, outcome: Outcome) -> None:
    pass


def write_group(
    objects: Sequence[NewObject],
    *,
    lead: bool = False,
    report: Report | None = None,
    after: Settling | None = None,
    settling: Settling | None = None,
) -> list[Outcome]:
    """Create ``objects`` as one step; per object its :class:`ObjectInfo`, the error it met, or
    ``None`` when an earlier failure held it back. Never raises for an object's own failure:
    the caller decides (a duplicate guard that is taken is not an error of the group).

    ``lead``: the first object is made visible before any other is sent, also where the group
    is sent concurrently; a failure of it holds back the rest (a record's catalog marker: what
    ``kho fsck`` finds a record in flight by). ``report(i, outcome)`` is called in the calling
    thread as soon as an object's outcome is known, also when the group is interrupted (a
    ``KeyboardInterrupt``, ``SystemExit``): then the group waits (at most
    :data:`SETTLE_SECONDS`) for what it has already sent, reports it, gives up every staged
    object not made visible, and raises the interruption.

    ``after``: the :class:`Settling` of the group this one depends on. Its directory syncs run
    while this group stages (temp files written and fsync'd: nothing visible), and this group
    links nothing before they have all succeeded; if one failed, its error is raised and
    nothing of this group is made visible. ``settling``: on the local folder, the directory
    syncs of this group's links are left running in it instead of being waited for here (the
    outcomes are then those of the links); the caller hands it to the dependent group as
    ``after``, or calls :meth:`Settling.wait`, before it treats the group as durable."""
    if not objects:
        if after is not None:
            after.wait()
        return []
    tell = report or _ignore
    staged: list[Staged | BaseException] = _stage_all(objects)
    try:
        if after is not None:
            after.wait()  # the group this one depends on is durable before any link of this one
        if all(not isinstance(s, BaseException) and s.ordered for s in staged):
            return _publish_in_order(objects, staged, tell, settling)
        return _publish_concurrently(objects, staged, tell, lead)
    finally:
        # Published or not, a staged object's temp is no longer needed (a no-op once linked).
        for item in staged:
            if not isinstance(item, BaseException):
                item.discard()


def _stage_all(objects: Sequence[NewObject]) -> list[Staged | BaseException]:
    def stage(obj: NewObject) -> Staged | BaseException:
        try:
            return obj.store.stage(obj.key, obj.data, fresh=obj.fresh)
        except Exception as exc:
            return exc

    # Decided once per object: a store's answer may change meanwhile (another thread's syncs).
    costly = [obj.store.overlaps_syncs() for obj in objects]
    out: list[Staged | BaseException] = []
    if sum(costly) < 2:
        try:
            for obj in objects:
                out.append(stage(obj))
        except BaseException:
            _discard(out)
            raise
        return out
    futures: list[Future[Staged | BaseException | None] | None] = []
    sent = _Sent()
    try:
        for i, (obj, costly_one) in enumerate(zip(objects, costly, strict=True)):
            futures.append(_submit(_small(obj), sent.run, i, stage, obj) if costly_one else None)
        for obj, future in zip(objects, futures, strict=True):
            item = future.result() if future is not None else stage(obj)
            assert item is not None  # None only for a task started after an interrupt
            out.append(item)
    except BaseException:
        # Interrupted: nothing more starts; what runs is waited for, then every staged temp
        # file is given up (each task reports itself: see _Sent).
        for future in futures:
            if future is not None:
                future.cancel()
        finished = sent.abandon(SETTLE_SECONDS)
        _discard(out)
        _discard(item for _, item in finished)
        raise
    return out


def _discard(items: Iterable[Staged | BaseException | None]) -> None:
    for item in items:
        if isinstance(item, Staged):
            item.discard()


def _outcome(obj: NewObject, publish: Staged) -> Outcome:
    try:
        return publish.publish()
    except AlreadyExists as exc:
        if obj.same_bytes:
            return ObjectInfo(key=obj.key, size=len(obj.data))
        return exc
    except Exception as exc:
        return exc


def _durable_outcome(obj: NewObject, publish: Staged) -> Outcome:
    """:func:`_outcome` of an object published in a pool thread, its link made durable in that
    thread too: an interrupted group stops waiting for its threads after
    :data:`SETTLE_SECONDS`, and a link that lands later has no group left to sync it. (The
    backends sent here today, S3 and the stores' own creates, are durable when publish returns:
    nothing to sync.)"""
    outcome = _outcome(obj, publish)
    directories = publish.unsynced_directories()
    if written(outcome) and directories:
        try:
            obj.store.sync_directories(set(directories))
        except Exception as exc:
            return exc
        publish.synced()
    return outcome


FORK_SYNC_UNKNOWN = "FORK_SYNC_UNKNOWN"
"""The code of a wait refused in a ``fork`` child for syncs its parent started (not
``STORE_UNAVAILABLE``: the store is reachable, the parent's outcome is unknowable here)."""


class _Syncs:
    """The directory syncs of the links of objects ``start..upto-1`` of a group, started."""

    def __init__(
        self,
        objects: Sequence[NewObject],
        staged: Sequence[Staged | BaseException],
        out: list[Outcome],
        start: int,
        upto: int,
        jobs: dict[tuple[int, str], ObjectStore],
        results: list[Future[Exception | None]] | list[_Done],
    ) -> None:
        self._objects, self._staged, self._out = objects, staged, out
        self._start, self._upto, self._jobs, self._results = start, upto, jobs, results
        self._pid = os.getpid()

    def finish(self) -> Exception | None:
        """Wait for the syncs; an object whose directory could not be synced gets that error as
        its outcome (the first such error is returned); the others are known durable.

        In the child of a ``fork`` the syncs were started in the parent, by threads the child
        does not have: waiting would never end, so every one of them counts as failed (the
        child cannot know whether they succeeded)."""
        objects, staged, out = self._objects, self._staged, self._out
        first: Exception | None = None
        if self._pid != os.getpid():
            inherited = StoreUnavailable(
                "Tiến trình con (fork) không chờ được việc đồng bộ thư mục mà tiến trình cha đã"
                " bắt đầu: không biết các đối tượng vừa ghi đã bền vững hay chưa.",
                code=FORK_SYNC_UNKNOWN,
            )
            results: list[Exception | None] = [inherited] * len(self._results)
        else:
            results = [future.result() for future in self._results]
        for ((_, directory), store), error in zip(self._jobs.items(), results, strict=True):
            if error is None:
                continue
            first = first or error
            for i in range(self._start, self._upto):
                item = staged[i]
                if (
                    objects[i].store is store
                    and isinstance(item, Staged)
                    and written(out[i])
                    and directory in item.unsynced_directories()
                ):
                    out[i] = error
        for i in range(self._start, self._upto):
            item = staged[i]
            if written(out[i]) and isinstance(item, Staged) and item.unsynced_directories():
                item.synced()
        return first


class _Done:
    """The outcome of a sync run in the calling thread, read as a future's (:meth:`_Syncs.finish`):
    a ``Future`` made done costs a lock, a condition and its notification, ~10 a stored record
    (m37, issue 14)."""

    __slots__ = ("_outcome",)

    def __init__(self, outcome: Exception | None) -> None:
        self._outcome = outcome

    def result(self) -> Exception | None:
        return self._outcome


def _sync_one(store: ObjectStore, directory: str) -> Exception | None:
    try:
        store.sync_directories({directory})
    except Exception as exc:
        return exc
    return None


def _start_sync(
    objects: Sequence[NewObject],
    staged: Sequence[Staged | BaseException],
    out: list[Outcome],
    start: int,
    upto: int,
    *,
    inline_one: bool = True,
) -> _Syncs:
    """Start making the links of objects ``start..upto-1`` durable: each distinct directory of
    each store synced once, all at the same time (threads: the syncs share journal commits)
    where a store's syncs are slow (``ObjectStore.overlaps_syncs``); otherwise in the calling
    thread, one after another, done on return (a thread hand-off costs more than a fast sync).
    ``inline_one``: a single directory is synced in the calling thread, done on return."""
    jobs: dict[tuple[int, str], ObjectStore] = {}
    for i in range(start, upto):
        item = staged[i]
        if written(out[i]) and isinstance(item, Staged):
            for directory in item.unsynced_directories():
                jobs[(id(objects[i].store), directory)] = objects[i].store
    results: list[Future[Exception | None]] | list[_Done]
    if (len(jobs) == 1 and inline_one) or not any(store.overlaps_syncs() for store in jobs.values()):
        results = [_Done(_sync_one(store, directory)) for (_, directory), store in jobs.items()]
    else:
        results = [_submit(True, _sync_one, store, directory) for (_, directory), store in jobs.items()]
    return _Syncs(objects, staged, out, start, upto, jobs, results)


def _sync(
    objects: Sequence[NewObject],
    staged: Sequence[Staged | BaseException],
    out: list[Outcome],
    start: int,
    upto: int,
) -> None:
    """Make the links of objects ``start..upto-1`` durable before returning (:func:`_start_sync`,
    :meth:`_Syncs.finish`)."""
    _start_sync(objects, staged, out, start, upto).finish()


class Settling:
    """Directory syncs of a group's links, still running (``write_group(..., settling=)``): the
    group is durable once :meth:`wait` returns.

    Its owner opens it with ``with``: leaving the block waits for every sync, also when the
    block raises (then the block's error goes on, chained to a sync error: :meth:`fail`), so
    no path leaves a sync unwaited or an error masked by one."""

    def __init__(self) -> None:
        self._pending: list[_Syncs] = []

    def __enter__(self) -> Settling:
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        if error is None:
            self.wait()
        else:
            self.fail(error)

    def _add(self, syncs: _Syncs) -> None:
        self._pending.append(syncs)

    def include(self, other: Settling) -> None:
        """Wait for ``other``'s pending syncs too (each of the two reports their errors to its
        own waiter: a sync waited for twice ends once)."""
        self._pending.extend(other._pending)

    def wait(self) -> None:
        """Wait for every sync; raise the first one's error (the links it was to make durable
        may not survive a power loss: what depends on them must not be written). A sync leaves
        the list only once waited for: a wait interrupted (``KeyboardInterrupt``) leaves the
        rest to the next one."""
        first: Exception | None = None
        while self._pending:
            error = self._pending[0].finish()
            self._pending.pop(0)
            first = first or error
        if first is not None:
            raise first

    def fail(self, error: BaseException) -> NoReturn:
        """Raise ``error`` (the step failed) once every sync ended; a sync error meanwhile is
        its cause (``raise … from …``), not its replacement: an interruption stays one."""
        try:
            self.wait()
        except Exception as sync_error:
            raise error from sync_error
        raise error


def _publish_in_order(
    objects: Sequence[NewObject],
    staged: Sequence[Staged | BaseException],
    tell: Report,
    settling: Settling | None,
) -> list[Outcome]:
    out: list[Outcome] = [NOT_WRITTEN] * len(objects)
    published = 0
    try:
        for i, (obj, item) in enumerate(zip(objects, staged, strict=True)):
            out[i] = item if isinstance(item, BaseException) else _outcome(obj, item)
            published = i + 1
            tell(i, out[i])
            if isinstance(out[i], BaseException):
                break  # the rest is held back (write_group discards their temp files)
    except BaseException:
        # Interrupted: what was linked is made durable before the interruption goes on.
        _sync(objects, staged, out, 0, published)
        raise
    if settling is None:
        _sync(objects, staged, out, 0, published)  # durable before the group returns
    else:
        settling._add(_start_sync(objects, staged, out, 0, published, inline_one=False))
    return out


def _publish_concurrently(
    objects: Sequence[NewObject], staged: Sequence[Staged | BaseException], tell: Report, lead: bool
) -> list[Outcome]:
    out: list[Outcome] = [NOT_WRITTEN] * len(objects)
    start = 0
    # A group spanning a local folder (linked, ordered) and S3 comes here too: the local links
    # are synced as in order (nothing to sync for a request, which is durable when it returns).
    if lead:
        first = staged[0]
        out[0] = first if isinstance(first, BaseException) else _outcome(objects[0], first)
        _sync(objects, staged, out, 0, 1)
        tell(0, out[0])
        if isinstance(out[0], BaseException):
            return out
        start = 1
    futures: dict[int, Future[Outcome]] = {}
    sent = _Sent()
    told: set[int] = set()
    try:
        for i in range(start, len(objects)):
            obj, item = objects[i], staged[i]
            if isinstance(item, BaseException):
                out[i] = item
                tell(i, item)
            elif len(objects) - start == 1 or item.ordered:
                out[i] = _outcome(obj, item)
                tell(i, out[i])
            else:
                futures[i] = _submit(_small(obj), sent.run, i, _durable_outcome, obj, item)
        for i in list(futures):
            out[i] = futures[i].result()
            tell(i, out[i])
            told.add(i)
    except BaseException:
        # Interrupted: nothing more is sent; what was sent is waited for and reported, so that
        # the caller can give back what landed (a guard) before the interruption goes on (each
        # task reports itself: see _Sent).
        for future in futures.values():
            future.cancel()
        for i, outcome in sent.abandon(SETTLE_SECONDS):
            if i not in told:
                out[i] = outcome
                tell(i, outcome)
        raise
    finally:
        _sync(objects, staged, out, start, len(objects))
    return out


def written(outcome: Outcome) -> bool:
    return isinstance(outcome, ObjectInfo)
