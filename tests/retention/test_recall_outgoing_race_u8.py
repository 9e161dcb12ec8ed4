"""u8: a recall of a văn bản đi gets the treatment u7 gave a recall of a văn bản đến. Its id is
derived from the record and its rank, so two clicks at once write one recall and one hold (before:
two recalls with random ids and two holds); a run that stopped or died is finished by the next
one; a document already frozen by its recall is refused with ``RECALL_ALREADY_DONE``. A recall
left ``recorded`` by the code before (random id, format version 1, no ``run``) is found and
finished, for a văn bản đi and a văn bản đến alike."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from kho_click_race import two_clicks
from kho_people import People
from kho_testing import incoming, outgoing, pdf_bytes

from kho.errors import Conflict, StoreUnavailable
from repository.records import RECALL_KEY
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 15/UBND-VP ngày 01/03/2027", "Ban hành sai thẩm quyền"


def _mine(recalls: Recalls, record_id: str) -> list[tuple[str, str]]:
    return [(r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == record_id]


def _events(kho: Kho, action: str, record_id: str) -> int:
    return sum(1 for e in kho.repo.audit.events() if e.action == action and e.record_id == record_id)


def _recall_holds(kho: Kho, record_id: str) -> list[str]:
    return sorted(h["hold_id"] for h in kho.repo.holds_on(record_id) if h.get("kind") == "recall")


def _frozen_once(kho: Kho, recalls: Recalls, record_id: str, recall_id: str) -> None:
    """One recall, one recall hold (its own), one mark on the document naming it."""
    assert _mine(recalls, record_id) == [(recall_id, "frozen")]  # u8: "recorded" (u9)
    assert _recall_holds(kho, record_id) == [f"recall-{recall_id}"]
    assert _events(kho, "record:recall", record_id) == 1
    assert kho.repo._load(record_id).extra[RECALL_KEY]["recall_id"] == recall_id
    assert recalls.recalls.latest(recall_id)["run"] is None  # finished: nobody holds it


def _old_form(kho: Kho, recall_id: str, record_id: str, direction: str) -> None:
    """A recall as the code before u7/u8 wrote it and left it: random id, version 1, no run."""
    body = {
        "at": "2027-03-01T03:00:00.000000Z", "by": "vanthu", "direction": direction,
        "format_version": 1, "order_ref": ORDER, "reason": REASON, "recall_id": recall_id,
        "record_id": record_id, "state": "recorded", "version": 1,
    }
    kho.repo.store.put_if_absent(
        f"retention/recalls/{recall_id}/v000001", json.dumps(body, ensure_ascii=False).encode()
    )


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_two_clicks_recalling_one_outgoing_document_at_once_write_one_recall_and_one_hold(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    recalls = Recalls(kho.repo, kho.backend)
    for round_ in range(3):
        doc = kho.repo.create_document(
            "di", outgoing(subject=f"Quyết định 8{round_}"), pdf_bytes(f"di{round_}"), "qd.pdf", clerk
        )
        finished, refused, outcomes = two_clicks(
            lambda record_id=doc.record_id: recalls.recall_outgoing(record_id, ORDER, REASON, actor=clerk)
        )
        assert len(finished) == 1 and len(refused) == 1, outcomes
        assert refused[0].http_status == 409
        assert refused[0].code in {"VERSION_CONFLICT", "RECALL_IN_PROGRESS", "RECALL_ALREADY_DONE"}
        _frozen_once(kho, recalls, doc.record_id, finished[0]["recall_id"])

    # A click once it is frozen: refused, nothing written.
    versions = len(list(kho.repo.store.list("retention/recalls/")))
    with pytest.raises(Conflict) as again:
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert again.value.code == "RECALL_ALREADY_DONE" and again.value.http_status == 409
    assert "không thu hồi lại" in again.value.message
    assert len(list(kho.repo.store.list("retention/recalls/"))) == versions
    _frozen_once(kho, recalls, doc.record_id, finished[0]["recall_id"])


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_of_an_outgoing_document_stopped_by_an_error_is_finished_by_the_next_click(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 91"), pdf_bytes("di"), "qd.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    place = kho.repo.place_hold

    def store_down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")

    monkeypatch.setattr(kho.repo, "place_hold", store_down)
    with pytest.raises(StoreUnavailable):
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded" and recalls.recalls.latest(first)["run"] is None  # released
    assert _recall_holds(kho, doc.record_id) == []
    monkeypatch.setattr(kho.repo, "place_hold", place)
    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert done["recall_id"] == first
    _frozen_once(kho, recalls, doc.record_id, first)  # the mark was not written twice


@pytest.mark.parametrize("kho", ["local"], indirect=True)
def test_a_recall_of_an_outgoing_document_whose_process_was_killed_is_taken_over(
    kho: Kho, people: People
) -> None:
    import multiprocessing
    import signal

    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 92"), pdf_bytes("di"), "qd.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)

    def killed_run() -> None:
        kho.repo.place_hold = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[method-assign]
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)

    child = multiprocessing.get_context("fork").Process(target=killed_run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    [(first, _state)] = _mine(recalls, doc.record_id)
    assert recalls.recalls.latest(first)["run"]["pid"] == child.pid  # held by the dead run
    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert done["recall_id"] == first
    _frozen_once(kho, recalls, doc.record_id, first)


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_of_an_outgoing_document_left_by_the_old_code_is_found_and_finished(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 93"), pdf_bytes("di"), "qd.pdf", clerk)
    other = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 94"), pdf_bytes("di2"), "qd.pdf", clerk
    )
    recalls = Recalls(kho.repo, kho.backend)
    _old_form(kho, "a1b2c3d4e5f60718", other.record_id, "di")  # another document's: left alone
    _old_form(kho, "0f1e2d3c4b5a6978", doc.record_id, "di")  # died before marking the document
    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert done["recall_id"] == "0f1e2d3c4b5a6978" and done["version"] == 3
    _frozen_once(kho, recalls, doc.record_id, "0f1e2d3c4b5a6978")
    assert recalls.recalls.latest("a1b2c3d4e5f60718")["version"] == 1


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_recall_of_an_incoming_document_left_by_the_old_code_is_found_and_finished(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="95"), pdf_bytes("den"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    _old_form(kho, "99aa88bb77cc66dd", doc.record_id, "den")
    done = recalls.recall_incoming(doc.record_id, ORDER, REASON, actor=clerk)
    assert (done["recall_id"], done["state"]) == ("99aa88bb77cc66dd", "destroyed")
    assert _mine(recalls, doc.record_id) == [("99aa88bb77cc66dd", "destroyed")]
    assert not kho.repo.keys.exists(doc.record_id)
    assert _events(kho, "record:destroy", doc.record_id) == 1
    assert _events(kho, "recall:notify", doc.record_id) == 1
