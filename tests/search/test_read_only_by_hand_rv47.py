"""Review rv47 (u23/s19's read-only block, the other way it comes): an operator sets
``index.blocks.read_only`` on the index by hand. Unlike the flood-stage block
(``read_only_allow_delete``), it refuses deletes too (403 ``cluster_block_exception``,
``FORBIDDEN/5/index read-only (api)``). Before, :meth:`ElasticsearchBackend.delete` counted the
refused delete as nothing removed and the caller went on (a destroyed record's text stayed
searchable without a word), and a write was refused with the flood-stage message ("the search
server's disk is nearly full"). Now both answer ``SEARCH_INDEX_READ_ONLY`` with a message naming
the block set by hand; nothing indexed is lost, and once the block is lifted the delete goes
through. Real Elasticsearch, a fresh test index."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator

import pytest
from index_docs import index_doc
from kho_testing import es_url_or_skip

from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.elasticsearch import ElasticsearchBackend

pytestmark = pytest.mark.elasticsearch

HAND_BLOCK = "index.blocks.read_only"


def _doc(n: int) -> IndexDocument:
    return index_doc(n, id_width=3, version=1, text=f"Nội dung công văn số {n} về quy chế làm việc.")


def _block(backend: ElasticsearchBackend, on: bool) -> None:
    for name in backend._indices_of(backend.alias):
        backend.es.indices.put_settings(index=name, settings={HAND_BLOCK: True if on else None})


@pytest.fixture
def blocked() -> Iterator[ElasticsearchBackend]:
    es_url = es_url_or_skip()
    backend = ElasticsearchBackend(es_url, prefix=f"kho-test-{uuid.uuid4().hex[:8]}", refresh=True)
    try:
        assert backend.index([_doc(n) for n in range(3)]) == 3
        _block(backend, True)
        yield backend
    finally:
        _block(backend, False)
        backend.drop_all()
        backend.close()


def _count(backend: ElasticsearchBackend) -> int:
    return int(backend.es.count(index=backend.alias).body["count"])


def _refused_by_hand(error: StoreUnavailable) -> None:
    assert error.code == "SEARCH_INDEX_READ_ONLY" and error.http_status == 503
    message = str(error)
    assert unicodedata.is_normalized("NFC", message)
    assert HAND_BLOCK in message and "ổ đĩa" not in message  # not the full-disk advice
    assert "không dữ liệu nào đã lưu bị mất" in message.lower()


def test_a_delete_from_an_index_set_read_only_by_hand_is_refused_not_counted_as_done(
    blocked: ElasticsearchBackend,
) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        blocked.delete(["doc-001"])
    _refused_by_hand(refused.value)
    assert _count(blocked) == 3  # nothing lost, nothing removed
    _block(blocked, False)
    assert blocked.delete(["doc-001"]) == 1 and _count(blocked) == 2
    assert blocked.delete(["doc-001"]) == 0  # already gone: not a refusal


def test_a_write_and_a_purge_on_an_index_set_read_only_by_hand_say_which_block(
    blocked: ElasticsearchBackend,
) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        blocked.index([_doc(7)])
    _refused_by_hand(refused.value)
    with pytest.raises(StoreUnavailable) as refused:
        blocked.purge_deleted()
    _refused_by_hand(refused.value)
    assert _count(blocked) == 3
