"""A hồ sơ returned (trả lại) while the index write after it failed: the archivist's search
shows neither the documents nor what the index still counts of them (review rv48).

The return is committed in the store, then the index update of its documents' archive field
(u24's ``on_reach``) is lost, as when the Elasticsearch index is read-only or the process dies
between the two. The hits were already dropped by the store's check (``shown_hits``), but the
index's total and facets still counted the document: the archivist's search by its số answered
"0 hits" beside its signer ("người ký"), issuing organ, type and unit. Both backends, the REST
API and the search page (the sites of ``test_archive_search_u24``)."""

from __future__ import annotations

from typing import Any

import pytest
from kho_es_block import set_read_only
from kho_web import logged_in

from kho.errors import StoreUnavailable
from search.elasticsearch import ElasticsearchBackend

# the u24 walk's site (one hồ sơ of phòng B, a Thường and a Mật document) and its helpers
from tests.web import test_archive_search_u24 as u24
from tests.web.test_archive_search_u24 import QUERIES, SO, Site, _submit

site = u24.site  # its fixture, on both backends

SIGNER = "Trần Thị Hoà"  # the document's người ký (kho_testing.incoming)


def _search(site: Site, who: str, q: str) -> Any:
    web = site.app.test_client()
    answer = web.get("/api/search", query_string={"q": q}, headers=site.people.headers(who))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def _returned_with_the_index_behind(site: Site) -> None:
    repo = site.kho.repo
    saved = repo.on_reach, repo.on_change
    repo.on_reach = lambda file, documents: None  # the index write after the return is lost
    repo.on_change = lambda record: None
    try:
        site.kho.retention.return_file(
            site.file.record_id,
            reason="Thiếu mục lục văn bản",
            expected_version=site.file.version,
            actor=site.people.actor("luu_tru_mat"),
        )
    finally:
        repo.on_reach, repo.on_change = saved


def test_a_stale_archive_field_shows_no_count_nor_facet_of_the_document(site: Site) -> None:
    _submit(site)
    assert site.document_id in [h["id"] for h in _search(site, "luu_tru", SO)["hits"]]
    _returned_with_the_index_behind(site)
    for q in QUERIES:
        body = _search(site, "luu_tru", q)
        assert body["hits"] == [], q
        assert body["total"] == 0, (q, body["total"])
        shown = {v["value"] for f in body.get("facets", []) for v in f["values"]}
        assert SIGNER not in shown and "Bộ Nội vụ" not in shown, (q, shown)
    page = logged_in(site.app, site.people, "luu_tru").get("/search", query_string={"q": SO})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/records/{site.document_id}" not in text and SIGNER not in text
    # the phòng still finds it, with its facets (the index is not behind for them)
    mine = _search(site, "van_thu_b", SO)
    assert site.document_id in [h["id"] for h in mine["hits"]]
    assert SIGNER in {v["value"] for f in mine["facets"] for v in f["values"]}


@pytest.mark.parametrize("site", ["elasticsearch"], indirect=True)
def test_a_return_while_the_es_index_is_read_only_shows_nothing_of_the_document(site: Site) -> None:
    """The flood-stage block for real (``kho_es_block``): the return is committed in the store and
    answered ``SEARCH_INDEX_READ_ONLY``; the archivist's search then shows no hit, no count and
    no facet of the document, while the index still holds its archive field."""
    backend = site.kho.backend
    assert isinstance(backend, ElasticsearchBackend)
    _submit(site)
    set_read_only(backend, True)
    try:
        with pytest.raises(StoreUnavailable) as refused:
            site.kho.retention.return_file(
                site.file.record_id,
                reason="Thiếu mục lục văn bản",
                expected_version=site.file.version,
                actor=site.people.actor("luu_tru_mat"),
            )
        assert refused.value.code == "SEARCH_INDEX_READ_ONLY"
        assert site.kho.repo._load(site.file.record_id).state == "closed"  # the return was committed
        body = _search(site, "luu_tru", SO)
        assert body["hits"] == [] and body["total"] == 0, body["total"]
        assert SIGNER not in {v["value"] for f in body.get("facets", []) for v in f["values"]}
    finally:
        set_read_only(backend, False)
