"""Counting store reads: a local store that counts the audit log's event reads and listings
(write-count tests), and :class:`StoreReads`, every listing and read through one store object
(the reads of one request, m29)."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from repository.storage.base import ObjectInfo
from repository.storage.local import LocalStore


class CountingAuditReads(LocalStore):
    """Counts ``get`` of ``audit/events/…`` objects (``reads``) and listings under ``audit/``
    (``listings``); everything else as :class:`LocalStore`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads = 0
        self.listings = 0

    def get(self, key: str, version_id: str | None = None) -> bytes:
        self.reads += key.startswith("audit/events/")
        return super().get(key, version_id)

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        self.listings += prefix.startswith("audit/")
        return super().list(prefix, start_after)


def count_pool_handoffs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the write group hands to its thread pool from now on (the
    test's ``monkeypatch`` undoes it): a sync made in the writer's thread is not in it."""
    from repository.storage import group

    handed: list[str] = []
    real_submit = group._submit

    def counting(small: bool, fn: Any, *args: Any) -> Any:
        handed.append(getattr(fn, "__name__", repr(fn)))
        return real_submit(small, fn, *args)

    monkeypatch.setattr(group, "_submit", counting)
    return handed


class StoreReads:
    """The prefixes listed and the keys read through ``store`` (the installation's one store object)
    while counting: ``store.list`` and ``store.get`` wrapped for the test (``monkeypatch`` undoes
    it). On a local folder and on the S3 gateway alike (m29, u22)."""

    def __init__(self, store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lists: collections.Counter[str] = collections.Counter()
        self.gets: collections.Counter[str] = collections.Counter()
        listing, getting = store.list, store.get
        self.local = isinstance(store, LocalStore)

        def counted_list(prefix: str, *a: Any, **k: Any) -> Any:
            self.lists[prefix] += 1
            return listing(prefix, *a, **k)

        def counted_get(key: str, *a: Any, **k: Any) -> Any:
            self.gets[key] += 1
            return getting(key, *a, **k)

        monkeypatch.setattr(store, "list", counted_list)
        monkeypatch.setattr(store, "get", counted_get)

    def clear(self) -> None:
        self.lists.clear()
        self.gets.clear()

    def account_read_once(self) -> tuple[int, int]:
        """What reading one account once costs through the counted store once this process has
        read its newest version: (1 LIST, 1 GET) on a local folder; on S3 (1, 0), the listing's
        ETag naming the bytes already read (s26)."""
        return (1, 1) if self.local else (1, 0)

    def record_read_once(self) -> tuple[int, int]:
        """The same for a record's newest version (s28: ``Repository._load`` reads it through its
        listing): (1 LIST, 1 GET) on a local folder; on S3 (1, 0) once this process has read it."""
        return (1, 1) if self.local else (1, 0)

    def account_reads(self, username: str) -> tuple[int, int]:
        """(LISTs, GETs) of the account's versions."""
        prefix = f"accounts/{username}/"
        return (
            sum(n for p, n in self.lists.items() if p.startswith(prefix)),
            sum(n for k, n in self.gets.items() if k.startswith(prefix)),
        )


def count_http_requests(monkeypatch: pytest.MonkeyPatch, add: Callable[[str, str], None]) -> None:
    """Call ``add(method, url)`` for every HTTP request any urllib3 pool manager of this process
    sends from now on (every S3 client's), before sending it (the test's ``monkeypatch`` undoes
    it). ``add`` runs in the sending thread."""
    import urllib3

    real = urllib3.PoolManager.urlopen

    def counted(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        add(method, url)
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", counted)


class NamedRequests:
    """The HTTP requests of this process from :func:`named_requests` on, each as ``METHOD
    bucket/key`` (``METHOD bucket/prefix=…`` for a listing), in :attr:`seen`."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def add(self, method: str, url: str) -> None:
        path, _, query = url.split("://", 1)[-1].partition("?")
        bucket, _, key = path.partition("/")[2].partition("/")
        named = key or next((p for p in query.split("&") if p.startswith("prefix=")), "")
        with self._lock:
            self.seen.append(f"{method} {bucket}/{named}")


def named_requests(monkeypatch: pytest.MonkeyPatch) -> NamedRequests:
    """Every S3 request this process sends from now on, named (:class:`NamedRequests`)."""
    named = NamedRequests()
    count_http_requests(monkeypatch, named.add)
    return named
