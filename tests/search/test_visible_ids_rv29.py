"""``SearchBackend.visible``: which of some ids a person finds in the index (rv29).

The home page's counts ask it instead of loading each task's document from the store. It must
answer as the search filter does (the access policy's scope: clearance, unit, granted units,
named users), leave out a destroyed record's row and an id the index does not hold, and on
Elasticsearch answer a change at once (by id, in real time), not after the next refresh.
"""

from __future__ import annotations

import os
import uuid
from datetime import date

import pytest

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, Query

ES_URL = os.environ.get("KHO_TEST_ELASTICSEARCH_URL")

CLERK_A = Principal("u-a", units=("UNIT-A",))
CLEARED_A = Principal("u-a2", units=("UNIT-A",), max_secrecy=2)
SYSTEM = Principal("kho", everything=True)


def doc(doc_id: str, **kw: object) -> IndexDocument:
    base: dict[str, object] = {
        "version": 1,
        "direction": "den",
        "owner_unit": "UNIT-A",
        "ngay_ban_hanh": date(2026, 1, 5),
        "retention_state": "active",
        "title": f"Công văn {doc_id}",
    }
    base.update(kw)
    return IndexDocument(id=doc_id, **base)  # type: ignore[arg-type]


DOCS = [
    doc("own"),
    doc("other", owner_unit="UNIT-B"),
    doc("shared", owner_unit="UNIT-B", grant_units=("UNIT-A",)),
    doc("named", owner_unit="UNIT-B", grant_users=("u-a",)),
    doc("named-else", owner_unit="UNIT-B", grant_users=("u-x",)),
    doc("secret", do_mat=2),
    doc("secret-shared", owner_unit="UNIT-B", grant_units=("UNIT-A",), do_mat=1),
    doc("destroyed", retention_state="destroyed"),
]
ASKED = [d.id for d in DOCS] + ["not-indexed"]


def test_visible_answers_as_the_search_filter(backend: SearchBackend) -> None:
    backend.index(DOCS)
    assert backend.visible(ASKED, CLERK_A) == {"own", "shared", "named"}
    assert backend.visible(ASKED, CLEARED_A) == {"own", "shared", "secret", "secret-shared"}
    assert backend.visible([], CLERK_A) == set()
    assert backend.visible(["own"], SYSTEM) == {"own"}
    # The same answer as a search of those documents by the same person.
    hits = backend.search(Query(CLERK_A, page_size=50, highlight=False))
    assert backend.visible(ASKED, CLERK_A) == {h.id for h in hits.hits} - {"destroyed"}


def test_a_change_is_answered_at_once_on_elasticsearch() -> None:
    """Production's Elasticsearch backend does not refresh after each write: a search sees a
    change only after the refresh interval. ``visible`` reads by id, in real time."""
    from search.elasticsearch import ElasticsearchBackend

    if not ES_URL:
        pytest.skip("KHO_TEST_ELASTICSEARCH_URL is not set: no Elasticsearch server to test")
    backend = ElasticsearchBackend(ES_URL, prefix=f"kho-test-{uuid.uuid4().hex[:8]}", refresh=False)
    try:
        backend.index([doc("d1")])
        assert backend.visible(["d1"], CLERK_A) == {"d1"}
        backend.index([doc("d1", version=2, do_mat=2)])  # raised to Mật
        assert backend.visible(["d1"], CLERK_A) == set()
        backend.index([doc("d1", version=3, do_mat=2, retention_state="destroyed")])
        assert backend.visible(["d1"], CLEARED_A) == set()
    finally:
        backend.drop_all()
        backend.close()
