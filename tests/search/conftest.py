"""Backends under contract: embedded always; Elasticsearch when KHO_TEST_ELASTICSEARCH_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.backend import SearchBackend
from search.embedded import EmbeddedBackend

ES_URL = os.environ.get("KHO_TEST_ELASTICSEARCH_URL")


def _make(kind: str, tmp_path: Path, prefix: str) -> SearchBackend:
    if kind == "embedded":
        return EmbeddedBackend(tmp_path / "index")
    from search.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(ES_URL or "", prefix=prefix, refresh=True)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param(
            "elasticsearch",
            marks=[
                pytest.mark.elasticsearch,
                pytest.mark.skipif(
                    not ES_URL,
                    reason="KHO_TEST_ELASTICSEARCH_URL is not set: no Elasticsearch server to test",
                ),
            ],
        ),
    ]
)
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """A factory so a test can open a second backend on the same index (e.g. after a rebuild)."""
    made: list[SearchBackend] = []
    prefix = f"kho-test-{uuid.uuid4().hex[:8]}"  # one index per test, reopened by each call

    def factory() -> SearchBackend:
        backend = _make(request.param, tmp_path, prefix)
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        drop = getattr(backend, "drop_all", None)
        if drop is not None:
            drop()
        backend.close()


@pytest.fixture
def backend(make_backend) -> SearchBackend:
    return make_backend()
