"""Writing objects that do not depend on each other in one step.

The store's promise is: each object is durable before it is visible, and everything a commit
point refers to is durable before the commit point. Neither needs the durable writes of
independent objects to run one after another. :func:`write_group` makes every object of a group
durable at the same time (``ObjectStore.stage``: on the local folder a temp file written and
fsync'd, in threads, so the fsyncs share journal commits), then makes them visible one by one in
the order given (``Staged.publish``: a link), stopping at the first failure: a failure at object
*k* leaves exactly objects *0..k-1* visible, as writing them in sequence would.

A backend whose create is one request that makes the object durable and visible at once (S3)
has nothing to stage: its group is sent concurrently, and every object is attempted (a failure
does not hold back the others, which may then be visible; each one is durable when it is).
Callers group only objects whose every subset is a state a crash can leave today (before a
commit point: a record in flight, which ``kho fsck`` cleans; after it: what a roll-forward
redoes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from kho.errors import AlreadyExists
from repository.storage.base import ObjectInfo, ObjectStore, Staged

_MAX_THREADS = 8
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    """A child of ``fork`` has none of the parent's threads, and a lock held by one of them at
    the fork would stay held: start from nothing."""
    global _pool, _pool_pid, _pool_lock
    _pool, _pool_pid, _pool_lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _executor() -> ThreadPoolExecutor:
    """One pool per process (a pool inherited through ``fork`` has no threads behind it)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=_MAX_THREADS, thread_name_prefix="kho-group")
            _pool_pid = os.getpid()
        return _pool


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


def write_group(objects: Sequence[NewObject], *, lead: bool = False) -> list[Outcome]:
    """Create ``objects`` as one step; per object its :class:`ObjectInfo`, the error it met, or
    ``None`` when an earlier failure held it back. Never raises for an object's own failure:
    the caller decides (a duplicate guard that is taken is not an error of the group).

    ``lead``: the first object is made visible before any other is sent, also where the group
    is sent concurrently; a failure of it holds back the rest (a record's catalog marker: what
    ``kho fsck`` finds a record in flight by)."""
    if not objects:
        return []
    staged: list[Staged | BaseException] = _stage_all(objects)
    if all(not isinstance(s, BaseException) and s.ordered for s in staged):
        return _publish_in_order(objects, staged)
    return _publish_concurrently(objects, staged, lead)


def _stage_all(objects: Sequence[NewObject]) -> list[Staged | BaseException]:
    def stage(obj: NewObject) -> Staged | BaseException:
        try:
            return obj.store.stage(obj.key, obj.data, fresh=obj.fresh)
        except Exception as exc:
            return exc

    costly = [obj for obj in objects if obj.store.stages_durably(obj.key)]
    if len(costly) < 2:
        return [stage(obj) for obj in objects]
    pool = _executor()
    futures: list[Future[Staged | BaseException] | None] = [
        pool.submit(stage, obj) if obj.store.stages_durably(obj.key) else None for obj in objects
    ]
    out: list[Staged | BaseException] = []
    for obj, future in zip(objects, futures, strict=True):
        out.append(future.result() if future is not None else stage(obj))
    return out


def _outcome(obj: NewObject, publish: Staged) -> Outcome:
    try:
        return publish.publish()
    except AlreadyExists as exc:
        if obj.same_bytes:
            return ObjectInfo(key=obj.key, size=len(obj.data))
        return exc
    except Exception as exc:
        return exc


def _publish_in_order(
    objects: Sequence[NewObject], staged: Sequence[Staged | BaseException]
) -> list[Outcome]:
    out: list[Outcome] = [NOT_WRITTEN] * len(objects)
    failed = False
    for i, (obj, item) in enumerate(zip(objects, staged, strict=True)):
        if failed:
            if not isinstance(item, BaseException):
                item.discard()
            continue
        if isinstance(item, BaseException):
            out[i] = item
            failed = True
            continue
        out[i] = _outcome(obj, item)
        failed = isinstance(out[i], BaseException)
    return out


def _publish_concurrently(
    objects: Sequence[NewObject], staged: Sequence[Staged | BaseException], lead: bool
) -> list[Outcome]:
    head: list[Outcome] = []
    if lead:
        first = staged[0]
        head = [first if isinstance(first, BaseException) else _outcome(objects[0], first)]
        if isinstance(head[0], BaseException):
            return head + [NOT_WRITTEN] * (len(objects) - 1)
        objects, staged = objects[1:], staged[1:]
    pool = _executor()
    futures: list[Future[Outcome] | BaseException] = []
    for obj, item in zip(objects, staged, strict=True):
        if isinstance(item, BaseException):
            futures.append(item)
        elif len(objects) == 1 or item.ordered:
            futures.append(_done(_outcome(obj, item)))
        else:
            futures.append(pool.submit(_outcome, obj, item))
    return head + [f if isinstance(f, BaseException) else f.result() for f in futures]


def _done(value: Outcome) -> Future[Outcome]:
    future: Future[Outcome] = Future()
    future.set_result(value)
    return future


def written(outcome: Outcome) -> bool:
    return isinstance(outcome, ObjectInfo)
