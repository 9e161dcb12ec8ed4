"""Object-store backends for the contract suite: ``local`` (a temp folder) and ``s3`` (the real
Ceph RGW gateway started by ``scripts/services.sh``; a fresh bucket per test module).

The S3 backend is skipped, with the reason, only when ``KHO_TEST_S3_ENDPOINT`` is unset
(``eval "$(scripts/services.sh env)"`` sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

S3_ENDPOINT = os.environ.get("KHO_TEST_S3_ENDPOINT")
S3_SKIP_REASON = (
    "KHO_TEST_S3_ENDPOINT is unset: start the S3 gateway with scripts/services.sh start "
    'and eval "$(scripts/services.sh env)"'
)


def s3_options(**overrides: object) -> dict[str, object]:
    options: dict[str, object] = {
        "endpoint": S3_ENDPOINT,
        "access_key": os.environ.get("KHO_TEST_S3_ACCESS_KEY"),
        "secret_key": os.environ.get("KHO_TEST_S3_SECRET_KEY"),
        "secure": False,
    }
    options.update(overrides)
    return options


def fresh_bucket(tag: str) -> str:
    return f"kho-{tag}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def s3_store() -> Iterator[ObjectStore]:
    if not S3_ENDPOINT:
        pytest.skip(S3_SKIP_REASON)
    from repository.storage.s3 import S3Store

    store = S3Store(fresh_bucket("contract"), object_lock=True, **s3_options())  # type: ignore[arg-type]
    yield store
    store.close()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        local = LocalStore(tmp_path / "store", fsync=False)
        yield local
        local.close()
    else:
        yield request.getfixturevalue("s3_store")


@pytest.fixture
def ns() -> str:
    """A key prefix of its own for each test (the S3 bucket is shared by a module)."""
    return f"t{uuid.uuid4().hex[:10]}/"
