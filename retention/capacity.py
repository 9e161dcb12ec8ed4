"""Capacity warnings: how full the store, the key store and each backup destination are.

A local folder reports its file system (``shutil.disk_usage``); an S3 bucket has no standard
capacity API, so its level is ``unknown`` (watch the server's own quota alerts). The level rule is
a pure function.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore


def capacity_level(used: int, total: int, *, warn_percent: int, critical_percent: int) -> str:
    """``ok`` | ``warning`` | ``critical`` for ``used`` of ``total`` bytes (pure)."""
    if total <= 0:
        return "unknown"
    percent = used * 100 / total
    if percent >= critical_percent:
        return "critical"
    if percent >= warn_percent:
        return "warning"
    return "ok"


@dataclass(frozen=True)
class Capacity:
    name: str
    used: int
    total: int
    level: str

    @property
    def percent(self) -> float:
        return self.used * 100 / self.total if self.total else 0.0


def measure(name: str, store: ObjectStore, *, warn_percent: int, critical_percent: int) -> Capacity:
    if isinstance(store, LocalStore):
        usage = shutil.disk_usage(store.root)
        level = capacity_level(
            usage.used, usage.total, warn_percent=warn_percent, critical_percent=critical_percent
        )
        return Capacity(name, usage.used, usage.total, level)
    return Capacity(name, 0, 0, "unknown")
