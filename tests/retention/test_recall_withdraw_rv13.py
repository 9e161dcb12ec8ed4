"""rv13: who may withdraw an unfinished recall, and the story its audit trail tells. u10 let
"the person who started it or a lãnh đạo" withdraw it, and took any lãnh đạo role for the
second: a person who may recall the document (a văn thư of the agency) and leads some other
unit withdrew another văn thư's recall. The lãnh đạo must lead the document's own unit (or one
above it), as for every decision over a record. And: withdrawn, recalled again, withdrawn again,
the trail names each recall's start and withdrawal, the document is never frozen by either."""

from __future__ import annotations

from typing import Any

import pytest
from kho_people import AGENCY, UNIT_B, People, create_person
from kho_testing import outgoing, pdf_bytes

from kho.errors import PermissionDenied, StoreUnavailable
from repository.policy import Role
from retention.recall import Recalls
from web.context import Kho

ORDER, REASON = "Công văn số 31/UBND-VP ngày 02/03/2027", "Ban hành sai thẩm quyền"
OTHER = "Quyết định số 131/QĐ-UBND ngày 06/03/2027"
WHY = "Ghi nhầm căn cứ thu hồi"


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def _stopped_recall(kho: Kho, recalls: Recalls, record_id: str, order: str, actor: Any,
                    monkeypatch: pytest.MonkeyPatch) -> str:
    """A recall whose run stopped at its hold (the store failing there): left ``recorded``."""
    with monkeypatch.context() as patch:
        patch.setattr(kho.repo, "place_hold", _store_down)
        with pytest.raises(StoreUnavailable):
            recalls.recall_outgoing(record_id, order, REASON, actor=actor)
    (open_,) = [r for r in recalls.recalls.all() if r["record_id"] == record_id and r["state"] == "recorded"]
    return str(open_["recall_id"])


def test_only_a_lanh_dao_over_the_document_withdraws_anothers_recall_and_the_trail_tells_it_all(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk, head = people.actor("van_thu"), people.actor("lanh_dao")
    admin = kho.accounts.get(people.usernames["quan_tri"])
    account, _ = create_person(kho.accounts, "Văn Thư Kiêm Trưởng Phòng", AGENCY, ("van_thu",), 3, None,
                               admin, confirmer=kho.accounts.get(people.usernames["lanh_dao"]))
    kho.accounts.set_roles(account.username, [(AGENCY, Role.VAN_THU), (UNIT_B, Role.LANH_DAO)], admin)
    elsewhere = kho.actor_of(kho.accounts.get(account.username), "test")
    assert Role.LANH_DAO in {r for _, r in elsewhere.as_principal.roles}
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 31"), pdf_bytes("rv13"), "qd.pdf", clerk
    )
    recalls = Recalls(kho.repo, kho.backend)

    first = _stopped_recall(kho, recalls, doc.record_id, ORDER, clerk, monkeypatch)
    # A lãnh đạo of another unit (who may recall the document as a văn thư of the agency) did
    # not start it and does not lead the document's unit: refused, audited, nothing written.
    with pytest.raises(PermissionDenied) as refused:
        recalls.withdraw(doc.record_id, WHY, actor=elsewhere)
    assert refused.value.code == "RECALL_WITHDRAW_NOT_ALLOWED"
    assert [r["state"] for r in recalls.recalls.all() if r["recall_id"] == first] == ["recorded"]

    # The agency's lãnh đạo withdraws it; recalled again, and withdrawn again by its starter.
    recalls.withdraw(doc.record_id, WHY, actor=head)
    second = _stopped_recall(kho, recalls, doc.record_id, OTHER, clerk, monkeypatch)
    assert second != first
    recalls.withdraw(doc.record_id, "Chờ văn bản thay thế", actor=clerk)
    states = {r["recall_id"]: r["state"] for r in recalls.recalls.all() if r["record_id"] == doc.record_id}
    assert states == {first: "withdrawn", second: "withdrawn"}
    record = kho.repo._load(doc.record_id)
    assert not record.extra.get("recall") and record.state != "frozen"
    assert [h for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"] == []

    story = [(e.action, e.actor, (e.details or {}).get("recall_id"), (e.details or {}).get("order_ref"))
             for e in kho.repo.audit.record_events(doc.record_id) if "recall" in e.action
             or (e.details or {}).get("action") == "recall:withdraw"]
    assert story == [
        ("record:recall", clerk.user, first, ORDER),  # marked by the first run, which then stopped
        ("access:denied", elsewhere.user, first, None),
        ("record:recall-withdraw", head.user, first, ORDER),  # the mark taken off
        ("recall:withdraw", head.user, first, ORDER),
        ("record:recall", clerk.user, second, OTHER),
        ("record:recall-withdraw", clerk.user, second, OTHER),
        ("recall:withdraw", clerk.user, second, OTHER),
    ], story
