from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_testing import BACKENDS, make_store, new_repository

from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    yield new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))


@pytest.fixture
def repo_on(backend: str, tmp_path: Path) -> Repository:
    """A repository on the local folder and on S3 (one test each: ``backend``)."""
    return new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
