"""Review rv6: a recall of an incoming document whose index purge did not finish (Elasticsearch's
retention leases still held after :data:`search.elasticsearch.LEASE_WAIT_SECONDS`, answered
SEARCH_INDEX_UNAVAILABLE after the document was shredded) can be run again, and that run
finishes it: the destroyed text leaves the index, the sender's notice is recorded, the recall
ends ``destroyed``, not ``refused`` with the text left in a soft-deleted copy."""

from __future__ import annotations

import pytest
from index_traces import index_traces
from kho_people import People
from kho_retention import incoming_on_elasticsearch, search_count

import search.elasticsearch as es_module
from kho.errors import StoreUnavailable
from retention.recall import Recalls
from web.context import Kho

pytestmark = [pytest.mark.elasticsearch]

WORD = "nộidungthuhồirv6"


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_whose_purge_ran_out_of_time_is_finished_when_run_again(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    with incoming_on_elasticsearch(kho, people, code_number="61", word=WORD, tag="rv6") as (
        backend, record_id
    ):
        assert search_count(kho, people, WORD) == 1
        recalls = Recalls(kho.repo, backend)
        # The leases are not given up in time (a replica copy down, or the 30 s sync not come).
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 0.0)
        with pytest.raises(StoreUnavailable) as info:
            recalls.recall_incoming(record_id, "CV 21/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert info.value.code == "SEARCH_INDEX_UNAVAILABLE"
        assert not kho.repo.keys.exists(record_id)  # shredded before the purge
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 90.0)
        done = recalls.recall_incoming(record_id, "CV 21/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert done["state"] == "destroyed"
        assert search_count(kho, people, WORD) == 0
        assert index_traces(backend, WORD) == 0
        notified = [e for e in kho.repo.audit.events() if e.action == "recall:notify"]
        assert [e.record_id for e in notified] == [record_id]
