"""A legal hold placed while a destruction of the same record runs (review a6).

``Repository.destroy`` checked the holds, then wrote the ledger and the "đã hủy" row, then
shredded the key; ``place_hold`` wrote its marker without looking at destructions. A lãnh đạo who
placed a hold in between was told it held (``hold:place`` audited, 201 on the API) while the
record was shredded under it: a hold on a record that no longer exists. Now a destruction takes
``claims/destroying/<id>`` before it checks the holds and keeps it until the key is gone, and a
hold checks for it (and for the "đã hủy" row) after its marker is written: of a hold and a
destruction that overlap, never both succeed.

The race is made deterministic with a hook on the real store: the destruction is stopped just
before it writes the "đã hủy" row (after its hold check), the hold is placed, then it goes on.
"""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import closed_file, destroying

from kho.errors import Conflict, LegalHold
from retention.holds import Holds
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


@pytest.mark.parametrize("target", ["document", "file"])
def test_a_hold_placed_while_the_record_is_being_destroyed_is_refused_not_lost(
    kho: Kho, people: People, target: str
) -> None:
    file, docs = closed_file(kho, people, docs=1)
    doomed = docs[0]
    held = doomed if target == "document" else file.record_id  # a hold on the hồ sơ reaches it
    # The destruction's hold check found none; before, the hold was placed, audited, then shredded.
    with destroying(kho, people, doomed) as outcome, pytest.raises(Conflict) as refused:
        Holds(kho.repo).place([held], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert refused.value.code == "RECORD_BEING_DESTROYED"
    assert refused.value.http_status == 409 and "đang được hủy" in refused.value.message
    assert refused.value.details["record_id"] == doomed
    assert not isinstance(outcome[0], BaseException), outcome
    assert kho.repo._load(doomed).state == "destroyed" and not kho.repo.keys.exists(doomed)
    assert kho.repo.holds_on(held) == []  # no marker claims a hold that does not hold
    placed = [e for e in kho.repo.audit.record_events(held) if e.action == "hold:place"]
    assert placed == []  # and the log does not say one was placed
    assert list(kho.repo.store.list("claims/destroying/")) == []  # nothing left behind


def test_a_destruction_that_finds_the_hold_placed_first_is_refused_and_leaves_nothing(
    kho: Kho, people: People
) -> None:
    """The other order: the hold's marker is there when the destruction checks. Refused
    (``LEGAL_HOLD``), nothing destroyed, and its claim withdrawn, so a later hold or a
    destruction after the release is not refused by a leftover."""
    _, docs = closed_file(kho, people, docs=1)
    holds = Holds(kho.repo)
    order = holds.place([docs[0]], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    with pytest.raises(LegalHold):
        kho.repo.destroy(docs[0], decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
    assert list(kho.repo.store.list("claims/destroying/")) == []
    assert kho.repo.keys.exists(docs[0])
    holds.place([docs[0]], "Thêm một lệnh", actor=people.actor("lanh_dao"))  # not refused
    holds.release(order["order_id"], "Kết thúc", actor=people.actor("lanh_dao"))


def test_a_hold_on_a_record_already_destroyed_is_refused(kho: Kho, people: People) -> None:
    """Sequentially too: a hold on a "đã hủy" row held nothing and was reported placed."""
    _, docs = closed_file(kho, people, docs=1)
    kho.repo.destroy(docs[0], decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
    with pytest.raises(Conflict) as refused:
        Holds(kho.repo).place([docs[0]], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert refused.value.code == "RECORD_DESTROYED" and "đã bị hủy" in refused.value.message
    assert kho.repo.holds_on(docs[0]) == []


def test_an_order_refused_on_one_target_holds_none_of_them(kho: Kho, people: People) -> None:
    """All or nothing: an order over a live document and a destroyed one was placed on both.
    Now it is refused, and the marker already placed on the live one is released with the
    order (audited), so no active order names a target it does not hold."""
    _, docs = closed_file(kho, people, docs=2)
    kho.repo.destroy(docs[1], decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
    holds = Holds(kho.repo)
    with pytest.raises(Conflict) as refused:
        holds.place(docs, "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert refused.value.code == "RECORD_DESTROYED"
    assert kho.repo.holds_on(docs[0]) == [] and kho.repo.holds_on(docs[1]) == []
    [order] = holds.list(actor=people.actor("lanh_dao"))
    assert order["state"] == "released" and "đã bị hủy" in order["release_reason"]
    assert holds.list(actor=people.actor("lanh_dao"), active_only=True) == []
    assert not kho.repo.holds_covering(kho.repo._load(docs[0]))
