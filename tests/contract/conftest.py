"""Object-store backends for the contract suite: ``local`` (a temp folder) and ``s3`` (the real
Ceph RGW gateway started by ``scripts/services.sh``; a fresh bucket per test module).

The S3 backend is skipped, with the reason, only when ``KHO_TEST_S3_ENDPOINT`` is unset
(``eval "$(scripts/services.sh env)"`` sets it).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_buckets import bucket_name, drop_bucket

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


@pytest.fixture(scope="module")
def s3_store() -> Iterator[ObjectStore]:
    if not S3_ENDPOINT:
        pytest.skip(S3_SKIP_REASON)
    from repository.storage.s3 import S3Store

    options = s3_options()
    bucket = bucket_name("contract")  # shared by the module's tests: removed when they are done
    try:
        store = S3Store(bucket, object_lock=True, **options)  # type: ignore[arg-type]
        yield store
        store.close()
    finally:
        for problem in drop_bucket(bucket, options):
            warnings.warn(problem, stacklevel=1)


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
