"""A withheld distribution (u6) is two writes: the ``workflow-withheld`` object, then its
``handling:distribute-withheld`` event. u8: fsck names an event whose object is gone (deleted by a
hand in the store: never repaired) and an object whose event is missing (its writer died between
the two writes: the event is appended by ``--repair``); and a reindex after the release does not
give sight by a step the log says was withheld, whether or not its object is still there.

The store is the real one (local folder and S3); the death is made at the store's own write of
the object (its ``put_if_absent`` wrapped, the store itself untouched)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kho_handling_holds import BACKENDS
from kho_handling_holds import Died as _Died
from kho_handling_holds import after_writing as _after_writing
from kho_handling_holds import direct as _direct
from kho_handling_holds import events as _events
from kho_handling_holds import submitted as _submitted
from kho_people import People
from kho_retention import Clock

from repository.fsck import fsck
from repository.handling import step_key, withheld_key
from retention.holds import Holds
from web.context import Kho

WITHHELD = "handling:distribute-withheld"


def _died_after_commit(kho: Kho, people: People, rid: str) -> None:
    def die() -> None:
        raise _Died

    with pytest.raises(_Died), _after_writing(kho, step_key(rid, 2), die):
        _direct(kho, people, rid)


def _withheld_issues(kho: Kho, **options: object) -> list[tuple[str, str, bool, bool]]:
    report = fsck(kho.repo, **options)  # type: ignore[arg-type]
    return [
        (i.kind, i.subject, i.repairable, i.repaired) for i in report.issues if i.kind.startswith("withheld-")
    ]


@BACKENDS
def test_a_withheld_marker_deleted_by_hand_is_named_by_fsck_and_gives_no_sight_after_release(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "921")
    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    orders = []

    def hold() -> None:
        orders.append(Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=leader))

    with _after_writing(kho, step_key(rid, 2), hold):
        _direct(kho, people, rid)
    assert len(_events(kho, rid, WITHHELD)) == 1
    assert _withheld_issues(kho) == []
    kho.repo.store.delete(withheld_key(rid, 2))  # a hand in the store

    found = _withheld_issues(kho, repair=True)
    assert found == [("withheld-marker-missing", withheld_key(rid, 2), False, False)]
    [issue] = [i for i in fsck(kho.repo).issues if i.kind == "withheld-marker-missing"]
    assert "phong tỏa" in issue.message and "bước 2" in issue.message
    assert list(kho.repo.store.list(withheld_key(rid, 2))) == []  # never written back

    Holds(kho.repo).release(orders[0]["order_id"], "Xong thanh tra", actor=leader)
    version = kho.repo._load(rid).version
    for _ in range(2):
        kho.handling.state(rid, actor=leader)
        kho.handling.rebuild_index()
        assert not kho.repo.may_see(handler, kho.repo._load(rid))
    assert kho.repo._load(rid).version == version
    assert len(_events(kho, rid, WITHHELD)) == 1


@BACKENDS
def test_a_withheld_marker_whose_writer_died_before_its_event_is_named_and_its_event_appended(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "922")
    _died_after_commit(kho, people, rid)
    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    order = Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=leader)

    def die() -> None:
        raise _Died

    with pytest.raises(_Died), _after_writing(kho, withheld_key(rid, 2), die):
        kho.handling.rebuild_index()  # withholds step 2: the object written, then the process ends
    assert _events(kho, rid, WITHHELD) == []
    kho.handling.rebuild_index()  # a later run finds the object there and appends nothing
    assert _events(kho, rid, WITHHELD) == []

    assert _withheld_issues(kho) == []  # within the grace: its writer may be about to append
    clock.now += timedelta(minutes=10)
    assert _withheld_issues(kho) == [("withheld-unaudited", withheld_key(rid, 2), True, False)]
    assert _withheld_issues(kho, repair=True) == [("withheld-unaudited", withheld_key(rid, 2), True, True)]
    [event] = _events(kho, rid, WITHHELD)
    assert event.actor == "system:fsck" and event.details["seqs"] == [2]
    assert event.details["users"] == [handler.user] and event.details["code"] == "LEGAL_HOLD"
    assert event.details["holds"]
    assert _withheld_issues(kho) == []
    assert kho.repo.audit.verify().ok

    Holds(kho.repo).release(order["order_id"], "Xong thanh tra", actor=leader)
    kho.handling.rebuild_index()
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
