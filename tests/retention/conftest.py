"""Fixtures of the retention tests (helpers in tests/support/kho_retention.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_people import People, make_people
from kho_retention import Clock, kho_env, open_kho

from web.context import Kho


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kho(tmp_path: Path, clock: Clock) -> Iterator[Kho]:
    installation = open_kho(kho_env(tmp_path), clock)
    yield installation
    installation.close()


@pytest.fixture
def people(kho: Kho) -> People:
    return make_people(kho)
