"""Capacity levels (pure) and what a local folder reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from repository.storage.local import LocalStore
from retention.capacity import capacity_level, measure


@pytest.mark.parametrize(
    ("used", "total", "level"),
    [
        (10, 100, "ok"),
        (79, 100, "ok"),
        (80, 100, "warning"),
        (94, 100, "warning"),
        (95, 100, "critical"),
        (1, 0, "unknown"),
    ],
)
def test_capacity_level(used: int, total: int, level: str) -> None:
    assert capacity_level(used, total, warn_percent=80, critical_percent=95) == level


def test_local_store_reports_its_file_system(tmp_path: Path) -> None:
    found = measure("store", LocalStore(tmp_path / "s"), warn_percent=1, critical_percent=100)
    assert found.total > 0 and found.level in ("warning", "critical")  # any used disk is over 1%
