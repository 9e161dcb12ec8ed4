"""u23 (s19's open item): a write to an index the flood-stage watermark made read-only waited
~14 s for its ``SEARCH_INDEX_READ_ONLY``: the bulk helper retried every 429 after 2, 4 and 8 s,
the block's 429 (``cluster_block_exception``) included, though the block is lifted only when
the disk is freed. Now the first answer naming the block is the refusal. Counted in requests
(``_bulk`` calls seen by the client's transport), never in seconds. The block is set for real
on a test index of the real Elasticsearch, as in ``test_read_only_block_s19.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from index_docs import index_doc
from kho_es_block import blocked_index, set_read_only

from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.elasticsearch import ElasticsearchBackend, blocked_item


def _doc(n: int, version: int = 1) -> IndexDocument:
    return index_doc(n, id_width=3, version=version, text=f"Nội dung công văn thường số {n}.")


class _BulkCalls:
    """The ``_bulk`` requests the backend's client sends (its transport, shared by every copy
    the client makes of itself): counted, then sent on unchanged."""

    def __init__(self, backend: ElasticsearchBackend, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        transport = backend.es.transport
        send = transport.perform_request

        def counted(method: str, target: str, *args: Any, **kwargs: Any) -> Any:
            if target.split("?", 1)[0].endswith("/_bulk"):
                self.count += 1
            return send(method, target, *args, **kwargs)

        monkeypatch.setattr(transport, "perform_request", counted)


@pytest.fixture
def blocked() -> Iterator[ElasticsearchBackend]:
    with blocked_index([_doc(n) for n in range(5)]) as backend:
        yield backend


@pytest.mark.elasticsearch
def test_a_write_to_a_blocked_index_is_refused_on_the_first_answer(
    blocked: ElasticsearchBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _BulkCalls(blocked, monkeypatch)
    with pytest.raises(StoreUnavailable) as refused:
        blocked.index([_doc(2, version=2), _doc(7)])
    assert refused.value.code == "SEARCH_INDEX_READ_ONLY"
    assert calls.count == 1  # no retry (before: 4, the helper's 3 retries after 2 + 4 + 8 s)
    assert blocked.count() == 5  # nothing the index held was lost
    set_read_only(blocked, False)
    assert blocked.index([_doc(2, version=2), _doc(7)]) == 2  # the disk freed: written at once
    assert calls.count == 2


_BUSY = {
    "errors": True,
    "items": [
        {"index": {"_index": "kho-records-1", "_id": "a", "status": 429, "error": {
            "type": "es_rejected_execution_exception",
            "reason": "rejected execution of coordinating operation [...] queue capacity = 10000",
        }}},
    ],
}
_BLOCK = {
    "errors": True,
    "items": [
        {"index": {"_index": "kho-records-1", "_id": "b", "status": 201, "result": "created"}},
        {"index": {"_index": "kho-records-1", "_id": "a", "status": 429, "error": {
            "type": "cluster_block_exception",
            "reason": "index [kho-records-1] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded"
            " flood-stage watermark, index has read-only-allow-delete block];",
        }}},
    ],
}


def test_a_busy_cluster_429_is_not_taken_for_a_block_and_still_retried() -> None:
    """A full write queue is not the block: ``blocked_item`` leaves it to the helper, which
    retries it (its ``max_retries`` unchanged)."""
    assert blocked_item(_BUSY) is None
    assert blocked_item({"errors": False, "items": []}) is None
    found = blocked_item(_BLOCK)
    assert found is not None and found["_id"] == "a" and found["_index"] == "kho-records-1"
