"""u7: a recall run again after one that did not finish (its Elasticsearch purge ran out of time)
finishes that recall instead of writing a second one, which left the first ``recorded`` — listed
as under way for ever (review rv6) — and two clicks at once finish one recall: the other is
refused with a clear code, nothing is destroyed twice and the sender is told once."""

from __future__ import annotations

import os

import pytest
from index_traces import index_traces
from kho_click_race import two_clicks
from kho_people import People
from kho_retention import incoming_on_elasticsearch, search_count
from kho_testing import incoming, pdf_bytes

import search.elasticsearch as es_module
from kho.errors import Conflict, StoreUnavailable
from retention.recall import Recalls
from web.context import Kho

WORD = "nộidungthuhồiu7"


def _mine(recalls: Recalls, record_id: str) -> list[tuple[str, str]]:
    return [(r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == record_id]


def _events(kho: Kho, action: str, record_id: str) -> int:
    return sum(1 for e in kho.repo.audit.events() if e.action == action and e.record_id == record_id)


@pytest.mark.elasticsearch
@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_run_again_after_its_purge_ran_out_of_time_finishes_the_same_recall(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    with incoming_on_elasticsearch(kho, people, code_number="62", word=WORD, tag="u7") as (
        backend, record_id
    ):
        recalls = Recalls(kho.repo, backend)
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 0.0)  # the leases not given up in time
        with pytest.raises(StoreUnavailable) as info:
            recalls.recall_incoming(record_id, "CV 22/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert info.value.code == "SEARCH_INDEX_UNAVAILABLE"
        [(first, state)] = _mine(recalls, record_id)
        assert state == "recorded"
        monkeypatch.setattr(es_module, "LEASE_WAIT_SECONDS", 90.0)
        done = recalls.recall_incoming(record_id, "CV 22/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert (done["recall_id"], done["state"]) == (first, "destroyed")
        assert _mine(recalls, record_id) == [(first, "destroyed")]  # no recall left "recorded"
        assert index_traces(backend, WORD) == 0
        assert search_count(kho, people, WORD) == 0
        assert _events(kho, "record:destroy", record_id) == 1  # the second run shredded nothing
        assert _events(kho, "recall:notify", record_id) == 1
        # A third click, once it is finished: refused, nothing written, nobody told again.
        with pytest.raises(Conflict) as again:
            recalls.recall_incoming(record_id, "CV 22/BNV-VP", "Ban hành nhầm", actor=clerk)
        assert again.value.code == "RECALL_ALREADY_DONE"
        assert _mine(recalls, record_id) == [(first, "destroyed")]
        assert _events(kho, "recall:notify", record_id) == 1


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_two_clicks_recalling_one_incoming_document_at_once_finish_one_recall(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    recalls = Recalls(kho.repo, kho.backend)
    for round_ in range(3):
        doc = kho.repo.create_document(
            "den", incoming(code_number=f"7{round_}"), pdf_bytes(f"den{round_}"), "cv.pdf", clerk
        )
        finished, refused, outcomes = two_clicks(
            lambda record_id=doc.record_id: recalls.recall_incoming(
                record_id, "CV 23/BNV-VP", "Ban hành nhầm", actor=clerk
            )
        )
        assert len(finished) == 1 and len(refused) == 1, outcomes
        assert finished[0]["state"] == "destroyed"
        assert refused[0].http_status == 409
        assert refused[0].code in {"VERSION_CONFLICT", "RECALL_IN_PROGRESS", "RECALL_ALREADY_DONE"}
        assert _mine(recalls, doc.record_id) == [(finished[0]["recall_id"], "destroyed")]
        assert not kho.repo.keys.exists(doc.record_id)
        assert _events(kho, "record:destroy", doc.record_id) == 1
        assert _events(kho, "recall:notify", doc.record_id) == 1


@pytest.mark.parametrize("kho", ["local"], indirect=True)
def test_a_recall_whose_process_was_killed_is_taken_over_and_finished(kho: Kho, people: People) -> None:
    """A run killed (kill -9) after the shredding, before its purge: its recall names a dead
    process of this machine, so the next run takes it over at once and finishes it."""
    import multiprocessing
    import signal

    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="64"), pdf_bytes("den"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)

    def killed_run() -> None:
        kho.backend.purge_deleted = lambda: os.kill(os.getpid(), signal.SIGKILL)  # dies mid-run
        recalls.recall_incoming(doc.record_id, "CV 24/BNV-VP", "Ban hành nhầm", actor=clerk)

    child = multiprocessing.get_context("fork").Process(target=killed_run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded" and not kho.repo.keys.exists(doc.record_id)
    done = recalls.recall_incoming(doc.record_id, "CV 24/BNV-VP", "Ban hành nhầm", actor=clerk)
    assert (done["recall_id"], done["state"]) == (first, "destroyed")
    assert _mine(recalls, doc.record_id) == [(first, "destroyed")]
    assert _events(kho, "record:destroy", doc.record_id) == 1
    assert _events(kho, "recall:notify", doc.record_id) == 1
