"""A test index of the real Elasticsearch with the flood-stage read-only block on, as the node
sets it when its disk passes the watermark (reviews s19, u23)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from kho_testing import es_url_or_skip

from search.documents import IndexDocument
from search.elasticsearch import ElasticsearchBackend

READ_ONLY_SETTING = "index.blocks.read_only_allow_delete"  # (what the node sets at the flood stage)


def set_read_only(backend: ElasticsearchBackend, on: bool) -> None:
    """The block on (``on``) or cleared, on every index behind the backend's alias."""
    for name in backend._indices_of(backend.alias):
        backend.es.indices.put_settings(index=name, settings={READ_ONLY_SETTING: True if on else None})


@contextmanager
def blocked_index(
    docs: Sequence[IndexDocument], *, merge_timeout_s: float | None = None
) -> Iterator[ElasticsearchBackend]:
    """A fresh test index holding ``docs``, then blocked; cleared and dropped after. Without a
    server the test is skipped, which ``KHO_REQUIRE_SERVICES`` (scripts/test.sh) turns into a
    failure."""
    es_url = es_url_or_skip()
    backend = ElasticsearchBackend(es_url, prefix=f"kho-test-{uuid.uuid4().hex[:8]}", refresh=True)
    if merge_timeout_s is not None:
        backend.merge_timeout_s = merge_timeout_s
    try:
        assert backend.index(list(docs)) == len(docs)
        set_read_only(backend, True)
        yield backend
    finally:
        set_read_only(backend, False)
        backend.drop_all()
        backend.close()
