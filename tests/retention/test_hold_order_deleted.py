"""A hold whose order object was deleted too is still released through Kho (review m2, left open).

m2 let a hold whose *hold object* was deleted be released through its order. An insider who
also deleted the order (``retention/holds/<order>/v…``) left the record frozen for good: every
change refused ``HOLD_MISSING`` and ``Holds.release`` answered ``NOT_FOUND``. The way out reads
the hold's targets and placer from the audit log, with the same authority as any release."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError, LegalHold, NotFound, PermissionDenied
from retention.holds import Holds
from web.context import Kho


def _delete(kho: Kho, prefix: str) -> None:
    for info in list(kho.repo.store.list(prefix)):
        kho.repo.store.delete(info.key)


def _delete_order(kho: Kho, order_id: str) -> None:
    _delete(kho, f"retention/holds/{order_id}/")
    with pytest.raises(NotFound):
        Holds(kho.repo).orders.latest(order_id)


@pytest.mark.parametrize("hold_objects", ["deleted", "kept"])
def test_a_hold_whose_order_was_deleted_is_released_by_its_placer(
    kho: Kho, people: People, hold_objects: str
) -> None:
    _, docs = closed_file(kho, people, end="", docs=2)
    holds = Holds(kho.repo)
    order = holds.place(docs, "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    _delete_order(kho, order["order_id"])
    if hold_objects == "deleted":
        for doc in docs:
            _delete(kho, f"holds/{doc}/")
    doc = kho.repo._load(docs[0])
    with pytest.raises(LegalHold):  # frozen before the release, as it should be
        kho.repo.update_metadata(
            docs[0], {"subject": "Đổi"}, expected_version=doc.version, actor=people.actor("van_thu")
        )
    released = holds.release(order["order_id"], "Kết thúc điều tra", actor=people.actor("lanh_dao"))
    assert released["order_missing"] is True and released["targets"] == sorted(docs)
    for record_id in docs:
        [event] = [e for e in kho.repo.audit.record_events(record_id) if e.action == "hold:release"]
        assert event.details["order_missing"] is True
        assert event.details["hold_id"] == order["order_id"]
        assert event.actor == people.actor("lanh_dao").user
        assert kho.repo.holds_on(record_id) == []
    changed = kho.repo.update_metadata(
        docs[0], {"subject": "Đổi trích yếu"}, expected_version=doc.version, actor=people.actor("van_thu")
    )
    assert changed.version == doc.version + 1


def test_a_lost_order_is_not_released_by_someone_without_authority(kho: Kho, people: People) -> None:
    """All or nothing, and the same authority as any hold: a văn thư is refused, nothing is
    written, the records stay held."""
    _, docs = closed_file(kho, people, end="", docs=1)
    holds = Holds(kho.repo)
    order = holds.place(docs, "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    _delete_order(kho, order["order_id"])
    _delete(kho, f"holds/{docs[0]}/")
    with pytest.raises((PermissionDenied, LegalHold)):
        holds.release(order["order_id"], "Tự gỡ", actor=people.actor("van_thu"))
    assert not [e for e in kho.repo.audit.record_events(docs[0]) if e.action == "hold:release"]
    doc = kho.repo._load(docs[0])
    with pytest.raises(LegalHold):
        kho.repo.update_metadata(
            docs[0], {"subject": "Đổi"}, expected_version=doc.version, actor=people.actor("van_thu")
        )


def test_an_unknown_order_is_still_not_found(kho: Kho, people: People) -> None:
    with pytest.raises(KhoError) as refused:
        Holds(kho.repo).release("0123456789abcdef", "Gỡ", actor=people.actor("lanh_dao"))
    assert refused.value.code == "NOT_FOUND"
