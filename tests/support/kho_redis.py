"""The real Redis the Celery tests use (``KHO_TEST_REDIS_URL``, started by ``scripts/services.sh``).

Under ``KHO_REQUIRE_SERVICES=1`` (``scripts/test.sh``, CI) the conftest turns the skip below into
a failure: a test that needs Redis runs against it or fails, never passes by skipping."""

from __future__ import annotations

import os
from typing import TypeVar

import pytest

T = TypeVar("T")

REDIS_URL = os.environ.get("KHO_TEST_REDIS_URL", "")

NEEDS_REDIS = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not REDIS_URL,
        reason="KHO_TEST_REDIS_URL is not set: start Redis with scripts/services.sh and "
        'eval "$(scripts/services.sh env)"',
    ),
]
"""Marks of a test (or, as ``pytestmark``, a module) that talks to the real Redis."""


def needs_redis(test: T) -> T:
    """:data:`NEEDS_REDIS` on one test."""
    for mark in NEEDS_REDIS:
        test = mark(test)
    return test
