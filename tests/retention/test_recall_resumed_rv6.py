"""Review rv6: a recall of an incoming document whose index purge did not finish (Elasticsearch's
retention leases still held after :data:`search.elasticsearch.LEASE_WAIT_SECONDS`, answered
SEARCH_INDEX_UNAVAILABLE after the document was shredded) can be run again, and that run
finishes it: the destroyed text leaves the index, the sender's notice is recorded, the recall
ends ``destroyed``, not ``refused`` with the text left in a soft-deleted copy."""

from __future__ import annotations

import os
import uuid

import pytest
from index_traces import index_traces
from kho_people import People
from kho_retention import search_count
from kho_testing import incoming, pdf_bytes

import search.elasticsearch as es_module
from ingest.indexing import follow
from kho.errors import StoreUnavailable
from repository import formats
from retention.recall import Recalls
from web.context import Kho

pytestmark = [pytest.mark.elasticsearch]

WORD = "nộidungthuhồirv6"


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_whose_purge_ran_out_of_time_is_finished_when_run_again(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    es_url = os.environ.get("KHO_TEST_ELASTICSEARCH_URL")
    if not es_url:
        pytest.skip("KHO_TEST_ELASTICSEARCH_URL is not set: no Elasticsearch server to test")
    backend = es_module.ElasticsearchBackend(es_url, prefix=f"kho-rv6-{uuid.uuid4().hex[:8]}", refresh=True)
    kho._backend = backend
    follow(kho.repo, backend)
    try:
        clerk = people.actor("van_thu")
        doc = kho.repo.create_document("den", incoming(code_number="61"), pdf_bytes("den"), "cv.pdf", clerk)
        text = {"parts": [{"page": 1, "text": WORD}], "format": "pdf"}
        kho.repo.put_derived(doc.record_id, "text.json", formats.dump_derived(text, "text.json"))
        kho.repo._emit(kho.repo._load(doc.record_id))
        assert search_count(kho, people, WORD) == 1
        recalls = Recalls(kho.repo, backend)
        # The leases are not given up in time (a replica copy down, or the 30 s sync not come).
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 0.0)
        with pytest.raises(StoreUnavailable) as info:
            recalls.recall_incoming(doc.record_id, "CV 21/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert info.value.code == "SEARCH_INDEX_UNAVAILABLE"
        assert not kho.repo.keys.exists(doc.record_id)  # shredded before the purge
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 90.0)
        done = recalls.recall_incoming(doc.record_id, "CV 21/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert done["state"] == "destroyed"
        assert search_count(kho, people, WORD) == 0
        assert index_traces(backend, WORD) == 0
        notified = [e for e in kho.repo.audit.events() if e.action == "recall:notify"]
        assert [e.record_id for e in notified] == [doc.record_id]
    finally:
        backend.drop_all()
