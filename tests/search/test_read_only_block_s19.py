"""s19 (NOTES-lead39's open item): when the disk of the Elasticsearch node passes its flood-stage
watermark, Elasticsearch puts ``index.blocks.read_only_allow_delete`` on the index. A purge then
went on to its force-merge, which on a full disk waits (two CI runs hung 600 s), and a write was
retried and answered the general ``SEARCH_INDEX_UNAVAILABLE``. Now both are refused with
``SEARCH_INDEX_READ_ONLY`` (a Vietnamese message: free the search server's disk; nothing stored
is lost, a reindex restores the index). The block is set for real on a test index of the real
Elasticsearch (as the node sets it) and cleared after."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from index_docs import index_doc
from kho_es_block import blocked_index, set_read_only

from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.elasticsearch import ElasticsearchBackend
from search.query import Principal, Query

EVERYONE = Principal("kt1", everything=True)

pytestmark = pytest.mark.elasticsearch


def _doc(n: int, version: int = 1) -> IndexDocument:
    text = f"Nội dung công văn thường số {n} về quy chế làm việc."
    return index_doc(n, id_width=3, version=version, text=text)


@pytest.fixture
def blocked() -> Iterator[ElasticsearchBackend]:
    """A test index holding 10 documents, with the flood-stage block on (cleared after). The
    merge timeout is short: a purge that went on to merge on a full disk fails in 30 s, not 600."""
    with blocked_index([_doc(n) for n in range(10)], merge_timeout_s=30.0) as backend:
        yield backend


def _is_read_only_refusal(error: StoreUnavailable) -> None:
    assert error.code == "SEARCH_INDEX_READ_ONLY" and error.http_status == 503
    message = str(error)
    assert unicodedata.is_normalized("NFC", message)
    assert "ổ đĩa" in message and "không dữ liệu nào đã lưu bị mất" in message.lower()


def test_a_purge_on_an_index_blocked_read_only_is_refused_with_a_code(blocked: ElasticsearchBackend) -> None:
    # The block refuses document deletes too (only deleting the whole index passes): before
    # rv47 the refused delete was counted as nothing removed, without a word.
    with pytest.raises(StoreUnavailable) as refused:
        blocked.delete(["doc-001"])
    _is_read_only_refusal(refused.value)
    with pytest.raises(StoreUnavailable) as refused:
        blocked.purge_deleted()
    _is_read_only_refusal(refused.value)
    set_read_only(blocked, False)
    blocked.purge_deleted()  # the disk freed (the node lifts the block): the purge goes through


def test_a_write_to_an_index_blocked_read_only_is_refused_with_a_code_and_nothing_is_lost(
    blocked: ElasticsearchBackend,
) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        blocked.index([_doc(3, version=2), _doc(11)])
    _is_read_only_refusal(refused.value)
    assert blocked.count() == 10  # what the index held is still there and found
    assert blocked.search(Query(principal=EVERYONE, terms=("thường",))).total == 10
    set_read_only(blocked, False)
    assert blocked.index([_doc(3, version=2), _doc(11)]) == 2
    assert blocked.count() == 11
