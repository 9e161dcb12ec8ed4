"""u9: a second recall click with another order (another số quyết định or reason) while the
record's first recall is unfinished, under way or done is refused with a clear answer naming the
first recall (its id, state and order; a stable code), instead of silently finishing the first
order and recording the second nowhere (review rv7). A finished recall of a văn bản đi is listed
``frozen``, its true state, not ``recorded`` (u8 left it so: the state of one under way)."""

from __future__ import annotations

from typing import Any

import pytest
from kho_people import People
from kho_testing import incoming, outgoing, pdf_bytes

from kho.errors import Conflict, StoreUnavailable
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 15/UBND-VP ngày 01/03/2027", "Ban hành sai thẩm quyền"
OTHER = "Quyết định số 99/QĐ-UBND ngày 05/03/2027"


def _mine(recalls: Recalls, record_id: str) -> list[tuple[str, str]]:
    return [(r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == record_id]


def _versions(kho: Kho) -> int:
    return len(list(kho.repo.store.list("retention/recalls/")))


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def _names_first(refusal: Conflict, code: str, recall_id: str, state: str) -> None:
    assert refusal.code == code and refusal.http_status == 409
    assert (refusal.details["recall_id"], refusal.details["state"]) == (recall_id, state)
    assert refusal.details["order_ref"] == ORDER
    assert recall_id in refusal.message and ORDER in refusal.message  # the clerk is told which


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_another_order_on_an_outgoing_document_is_refused_naming_the_first_recall(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 19"), pdf_bytes("u9"), "qd.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    place = kho.repo.place_hold
    monkeypatch.setattr(kho.repo, "place_hold", _store_down)
    with pytest.raises(StoreUnavailable):
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded" and recalls.recalls.latest(first)["run"] is None  # released
    monkeypatch.setattr(kho.repo, "place_hold", place)

    # Unfinished: another order, or the same order with another reason, is refused; nothing written.
    versions = _versions(kho)
    for order, reason in ((OTHER, REASON), (ORDER, "Lý do khác")):
        with pytest.raises(Conflict) as other:
            recalls.recall_outgoing(doc.record_id, order, reason, actor=clerk)
        _names_first(other.value, "RECALL_OTHER_ORDER", first, "recorded")
        assert "lệnh thu hồi khác" in other.value.message
    assert _versions(kho) == versions
    assert [h for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"] == []

    # The same order finishes it; its listing says frozen.
    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    assert (done["recall_id"], done["state"]) == (first, "frozen")
    assert _mine(recalls, doc.record_id) == [(first, "frozen")]
    assert [(r["recall_id"], r["state"]) for r in recalls.list(actor=people.actor("luu_tru"))
            if r["record_id"] == doc.record_id] == [(first, "frozen")]

    # Done: another order is told which recall froze it.
    with pytest.raises(Conflict) as again:
        recalls.recall_outgoing(doc.record_id, OTHER, REASON, actor=clerk)
    _names_first(again.value, "RECALL_ALREADY_DONE", first, "frozen")
    assert _versions(kho) == versions + 2  # taken, finished; nothing by the refusals


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_another_order_while_an_outgoing_recall_is_under_way_is_told_the_first(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 29"), pdf_bytes("u92"), "qd.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    place = kho.repo.place_hold
    seen: list[Exception] = []

    def second_click_meanwhile(*args: Any, **kwargs: Any) -> Any:
        try:
            Recalls(kho.repo, kho.backend).recall_outgoing(doc.record_id, OTHER, REASON, actor=clerk)
        except Conflict as exc:
            seen.append(exc)
        return place(*args, **kwargs)

    monkeypatch.setattr(kho.repo, "place_hold", second_click_meanwhile)
    done = recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    [refusal] = seen
    assert isinstance(refusal, Conflict)
    _names_first(refusal, "RECALL_IN_PROGRESS", done["recall_id"], "recorded")
    assert _mine(recalls, doc.record_id) == [(done["recall_id"], "frozen")]


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_another_order_on_an_incoming_document_is_refused_naming_the_first_recall(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="919"), pdf_bytes("u9den"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    destroy = kho.repo.destroy
    monkeypatch.setattr(kho.repo, "destroy", _store_down)
    with pytest.raises(StoreUnavailable):
        recalls.recall_incoming(doc.record_id, ORDER, REASON, actor=clerk)
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded" and recalls.recalls.latest(first)["run"] is None  # released
    monkeypatch.setattr(kho.repo, "destroy", destroy)

    versions = _versions(kho)
    with pytest.raises(Conflict) as other:
        recalls.recall_incoming(doc.record_id, OTHER, REASON, actor=clerk)
    _names_first(other.value, "RECALL_OTHER_ORDER", first, "recorded")
    assert _versions(kho) == versions
    assert kho.repo.keys.exists(doc.record_id)  # nothing destroyed under the first order

    done = recalls.recall_incoming(doc.record_id, ORDER, REASON, actor=clerk)
    assert (done["recall_id"], done["state"]) == (first, "destroyed")
    with pytest.raises(Conflict) as again:
        recalls.recall_incoming(doc.record_id, OTHER, REASON, actor=clerk)
    _names_first(again.value, "RECALL_ALREADY_DONE", first, "destroyed")
    assert _mine(recalls, doc.record_id) == [(first, "destroyed")]
