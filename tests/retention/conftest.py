"""Fixtures of the retention tests (helpers in tests/support/kho_retention.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_people import People, make_people
from kho_retention import Clock, kho_env, open_kho, s3_env

from web.context import Kho


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kho(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Kho]:
    """On the local folder; a test parametrized with ``indirect=["kho"]`` names its store:
    ``local``, ``s3``, or ``s3-locked`` (a bucket with object lock)."""
    where = getattr(request, "param", "local")
    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path, object_lock=where == "s3-locked")
    installation = open_kho(env, clock)
    yield installation
    installation.close()


@pytest.fixture
def people(kho: Kho) -> People:
    return make_people(kho)
