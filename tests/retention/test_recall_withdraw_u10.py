"""u10: an unfinished recall (its run stopped by a store error, or killed) can be withdrawn by
the person who started it or by a lãnh đạo, with a reason, audited (``recall:withdraw``), so that
a new recall of the document can be made; before, it could only be finished by its own order
(``RECALL_OTHER_ORDER`` for any other, u9) and never replaced. Anyone else is refused
(``RECALL_WITHDRAW_NOT_ALLOWED``, audited), a recall under way is refused
(``RECALL_IN_PROGRESS``), and a finished one stays frozen (``RECALL_ALREADY_DONE``); nothing is
written before a refusal. A văn bản đi's mark left by the stopped run is taken off."""

from __future__ import annotations

from typing import Any

import pytest
from kho_people import AGENCY, People, create_person
from kho_testing import incoming, outgoing, pdf_bytes

from kho.errors import Conflict, KhoError, PermissionDenied, StoreUnavailable
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 21/UBND-VP ngày 02/03/2027", "Ban hành sai thẩm quyền"
OTHER = "Quyết định số 101/QĐ-UBND ngày 06/03/2027"
WHY = "Ghi nhầm căn cứ thu hồi"


def _mine(recalls: Recalls, record_id: str) -> list[tuple[str, str]]:
    return sorted((r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == record_id)


def _versions(kho: Kho) -> int:
    return len(list(kho.repo.store.list("retention/recalls/")))


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def _events(kho: Kho, record_id: str, action: str) -> list[dict[str, Any]]:
    return [e.details or {} for e in kho.repo.audit.record_events(record_id) if e.action == action]


def _refused(kho: Kho, call: Any, error: type[KhoError], code: str) -> KhoError:
    versions = _versions(kho)
    with pytest.raises(error) as refused:
        call()
    assert refused.value.code == code, refused.value
    assert _versions(kho) == versions  # nothing written
    return refused.value


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_an_unfinished_outgoing_recall_is_withdrawn_by_a_lanh_dao_and_replaced(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk, head = people.actor("van_thu"), people.actor("lanh_dao")
    admin = kho.accounts.get(people.usernames["quan_tri"])
    other_clerk, _ = create_person(kho.accounts, "Văn Thư Hai", AGENCY, ("van_thu",), 3, None, admin,
                                   confirmer=kho.accounts.get(people.usernames["lanh_dao"]))
    stranger = kho.actor_of(other_clerk, "test")
    doc = kho.repo.create_document("di", outgoing(subject="Quyết định 21"), pdf_bytes("u10"), "qd.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    withdraw = recalls.withdraw

    _refused(kho, lambda: withdraw(doc.record_id, WHY, actor=clerk), Conflict, "RECALL_NOT_OPEN")
    place = kho.repo.place_hold
    monkeypatch.setattr(kho.repo, "place_hold", _store_down)
    with pytest.raises(StoreUnavailable):
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded" and kho.repo._load(doc.record_id).extra["recall"]["recall_id"] == first

    # While a run is placing its hold, a withdrawal is refused (the run goes on and freezes it).
    def hold_and_withdraw(*args: Any, **kwargs: Any) -> Any:
        _refused(kho, lambda: withdraw(doc.record_id, WHY, actor=clerk), Conflict, "RECALL_IN_PROGRESS")
        raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")

    monkeypatch.setattr(kho.repo, "place_hold", hold_and_withdraw)
    with pytest.raises(StoreUnavailable):
        recalls.recall_outgoing(doc.record_id, ORDER, REASON, actor=clerk)
    monkeypatch.setattr(kho.repo, "place_hold", place)

    # Another văn thư (not the one who started it) is refused, and the refusal audited.
    denied = _refused(kho, lambda: withdraw(doc.record_id, WHY, actor=stranger), PermissionDenied,
                      "RECALL_WITHDRAW_NOT_ALLOWED")
    assert denied.details["recall_id"] == first
    denials = _events(kho, doc.record_id, "access:denied")
    assert any(d.get("code") == "RECALL_WITHDRAW_NOT_ALLOWED" for d in denials)
    _refused(kho, lambda: withdraw(doc.record_id, "  ", actor=head), KhoError, "RECALL_REF_REQUIRED")

    # A lãnh đạo withdraws it: withdrawn, audited with the reason, the mark taken off.
    versions = _versions(kho)
    gone = withdraw(doc.record_id, WHY, actor=head)
    assert (gone["recall_id"], gone["state"], gone["run"]) == (first, "withdrawn", None)
    assert gone["withdrawn"]["by"] == head.user and gone["withdrawn"]["reason"] == WHY
    assert _versions(kho) == versions + 2  # taken, withdrawn
    told = _events(kho, doc.record_id, "recall:withdraw")
    assert [(d["recall_id"], d["order_ref"], d["reason"]) for d in told] == [(first, ORDER, WHY)]
    assert not kho.repo._load(doc.record_id).extra.get("recall")
    assert [h for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"] == []
    _refused(kho, lambda: withdraw(doc.record_id, WHY, actor=head), Conflict, "RECALL_NOT_OPEN")

    # A new recall with another order is made and carried out.
    done = recalls.recall_outgoing(doc.record_id, OTHER, REASON, actor=clerk)
    assert done["recall_id"] != first and done["state"] == "frozen" and done["order_ref"] == OTHER
    assert _mine(recalls, doc.record_id) == sorted([(first, "withdrawn"), (done["recall_id"], "frozen")])
    assert recalls.mark_earlier(actor=head) == []  # the withdrawn recall marks nothing again
    assert kho.repo._load(doc.record_id).extra["recall"]["recall_id"] == done["recall_id"]

    # A finished recall stays frozen.
    finished = _refused(
        kho, lambda: withdraw(doc.record_id, WHY, actor=clerk), Conflict, "RECALL_ALREADY_DONE"
    )
    assert (finished.details["recall_id"], finished.details["state"]) == (done["recall_id"], "frozen")


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_an_unfinished_incoming_recall_is_withdrawn_by_its_clerk_and_replaced(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="2121"), pdf_bytes("u10d"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)
    destroy = kho.repo.destroy
    monkeypatch.setattr(kho.repo, "destroy", _store_down)
    with pytest.raises(StoreUnavailable):
        recalls.recall_incoming(doc.record_id, ORDER, REASON, actor=clerk)
    monkeypatch.setattr(kho.repo, "destroy", destroy)
    [(first, state)] = _mine(recalls, doc.record_id)
    assert state == "recorded"

    gone = recalls.withdraw(doc.record_id, WHY, actor=clerk)  # the one who started it
    assert (gone["recall_id"], gone["state"]) == (first, "withdrawn")
    assert kho.repo.keys.exists(doc.record_id) and kho.repo._load(doc.record_id).state != "destroyed"
    assert [d["recall_id"] for d in _events(kho, doc.record_id, "recall:withdraw")] == [first]

    done = recalls.recall_incoming(doc.record_id, OTHER, REASON, actor=clerk)
    assert done["recall_id"] != first and done["state"] == "destroyed" and done["order_ref"] == OTHER
    finished = _refused(kho, lambda: recalls.withdraw(doc.record_id, WHY, actor=clerk), Conflict,
                        "RECALL_ALREADY_DONE")
    assert (finished.details["recall_id"], finished.details["state"]) == (done["recall_id"], "destroyed")
