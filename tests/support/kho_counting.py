"""A local store that counts the audit log's event reads and listings (write-count tests)."""

from __future__ import annotations

from collections.abc import Iterator
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
