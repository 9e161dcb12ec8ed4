"""A ``fork`` child of a process that uses an S3 store can use the store at once.

The bulk import forks its workers (``multiprocessing`` "fork", the pool's handler thread forks
replacements at any moment), Celery forks, and the kill tests fork writers: a child has only the
thread that forked, so a lock held by another thread at that instant is held for ever there, and
the parent's pooled connections are the parent's sockets. Each test forks for real while another
thread of the parent holds the store's lock or is in the middle of a request, and the child must
finish a store operation (a create, a read, a group of two objects) within a time limit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kho_testing import held_by_another_thread, in_child, make_store

from repository.storage.group import NewObject, write_group, written
from repository.storage.s3 import S3Store

pytestmark = pytest.mark.s3

CHILD_LIMIT_S = 60.0
"""Generous for a loaded machine: the child does a handful of requests on the local gateway."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[S3Store]:
    made = make_store("s3", tmp_path, "fork")
    assert isinstance(made, S3Store)
    yield made
    made.close()


def _in_child(work: Callable[[], None]) -> str:
    return in_child(work, CHILD_LIMIT_S)


def _store_work(store: S3Store, tag: str) -> Callable[[], None]:
    """What the child does: a create, a read of it, and a group of two objects (the group's
    thread pool of the parent is not the child's)."""

    def work() -> None:
        store.put_if_absent(f"child/{tag}/one", b"from the child")
        assert store.get(f"child/{tag}/one") == b"from the child"
        outcomes = write_group(
            [NewObject(store, f"child/{tag}/a", b"a"), NewObject(store, f"child/{tag}/b", b"b")]
        )
        assert all(written(o) for o in outcomes), outcomes

    return work


def test_a_child_forked_while_another_thread_holds_the_store_lock_uses_the_store(
    store: S3Store,
) -> None:
    store.put_if_absent("parent/before", b"parent")  # the parent has a client and a pool
    # e.g. a thread probing the conditional PUT, or building the client, under the lock
    with held_by_another_thread(store._lock, CHILD_LIMIT_S):
        report = _in_child(_store_work(store, "lock"))
    assert report == "ok"
    assert store.get("child/lock/one") == b"from the child"
    assert store.get("child/lock/b") == b"b"
    assert store.get("parent/before") == b"parent"  # the parent's own client still works


def test_a_child_forked_mid_request_does_not_share_the_parents_connections(store: S3Store) -> None:
    body = os.urandom(4 * 1024 * 1024)
    store.put_if_absent("parent/big", body)
    for i in range(4):  # idle connections in the parent's pool, which a child must not reuse
        store.put_if_absent(f"parent/small-{i}", b"%d" % i)
    parent_client = store._client
    work = _store_work(store, "mid")

    def child() -> None:
        work()
        # its requests went through a connection pool of its own, not the parent's sockets
        assert store._client is not parent_client, "the child uses the parent's connection pool"

    response = parent_client.get_object(store.bucket, "parent/big")
    try:
        head = response.read(64 * 1024)  # the parent is in the middle of reading an answer
        report = _in_child(child)
        rest = response.read()
    finally:
        response.close()
        response.release_conn()
    assert report == "ok"
    assert head + rest == body  # the child's requests did not cut into the parent's answer
    started = time.monotonic()
    for i in range(4):  # nor into its idle connections
        assert store.get(f"parent/small-{i}") == b"%d" % i
    assert store.get("child/mid/a") == b"a"
    assert time.monotonic() - started < CHILD_LIMIT_S
