"""A backup cut under load, made exact (m68, rv66, rv68): the backup's second full listing of
the store (the settle step's catch-up; the first is the walk) is taken over so that a test
writes at a chosen point of it. One place for the set-up five test files had copied."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from repository.records import Repository
from repository.storage.base import ObjectInfo, ObjectStore


def catch_up_cut(
    store: ObjectStore, between: Callable[[], None] | None, after: Callable[[], None]
) -> list[int]:
    """Make the second full listing of ``store`` run ``after`` at its end and, with
    ``between``, list every key before ``registers/`` as the store was when it started, run
    ``between``, then list ``registers/`` on as the store is then. Other listings (a prefix or a
    start) are the store's own. Returns the count of full listings so far (one element, kept up
    to date). The store's ``list`` is replaced on the instance (``del store.list`` gives it back)."""
    plain = store.list
    full = [0]

    def listing(prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        if prefix or start_after is not None:
            yield from plain(prefix, start_after)
            return
        full[0] += 1
        if full[0] != 2:
            yield from plain("")
            return
        if between is None:
            yield from plain("")
        else:
            yield from [info for info in plain("") if info.key < "registers/"]
            between()
            yield from plain("", start_after="registers")  # registers-floor/, registers/ on
        after()

    store.list = listing  # type: ignore[method-assign]
    return full


def cut_and_restore(backend: str, tmp_path: Path, repo: Repository, after: Callable[[], None]) -> Repository:
    """Back ``repo`` up with ``after`` run as the settle step's catch-up listing ends (rv66,
    rv68), restore the copy (and its keys) into a new repository, and return it with fsck
    --deep clean and its audit chain verified."""
    from kho_testing import make_store, new_repository

    from repository.fsck import fsck
    from repository.storage.local import LocalStore
    from retention.backup import backup, restore

    store = repo.store
    full = catch_up_cut(store, None, after)
    copy, key_copy = make_store(backend, tmp_path, "b-store"), LocalStore(tmp_path / "b-keys")
    made = backup(store, copy, label="store", settle_seconds=10)
    del store.list  # type: ignore[attr-defined]
    backup(repo.keys.store, key_copy, label="keys", records=made.records)
    assert full[0] >= 2
    fresh = new_repository(make_store(backend, tmp_path, "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    assert fresh.audit.verify().ok
    return fresh
