"""A distribution a legal hold withheld stays withheld: every path that derives grants from the
handling steps (the read-time roll-forward, ``kho handling reindex``) skips the people and units
named in the step's withheld record, while the hold is on and after it is released; the
withholding is recorded once per step however often a reindex runs. Sight after the release is
the ordinary grant, by hand, audited as usual.

The store is the real one (local folder and S3); the race and the death are made at the store's
own write of the step (its ``put_if_absent`` wrapped, the store itself untouched)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kho_handling_holds import BACKENDS
from kho_handling_holds import Died as _Died
from kho_handling_holds import after_writing as _after_writing
from kho_handling_holds import direct as _direct
from kho_handling_holds import events as _events
from kho_handling_holds import submitted as _submitted
from kho_people import People
from kho_retention import Clock

from kho.timeutil import vn_date
from repository.handling import step_key
from repository.workflow import Act
from retention.holds import Holds
from web.context import Kho


def _died_after_commit(kho: Kho, people: People, rid: str) -> None:
    def die() -> None:
        raise _Died

    with pytest.raises(_Died), _after_writing(kho, step_key(rid, 2), die):
        _direct(kho, people, rid)
    assert kho.handling.index.seq_of(rid) == 1  # half-done: committed, not applied


def _released_and_checked(kho: Kho, people: People, rid: str, order: dict[str, Any]) -> None:
    """Release the hold; then neither a read nor reindexes give the withheld handler sight, nor
    record the withholding again; a grant by hand does, audited as a grant."""
    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    version = kho.repo._load(rid).version
    withheld = len(_events(kho, rid, "handling:distribute-withheld"))
    Holds(kho.repo).release(order["order_id"], "Xong thanh tra", actor=leader)
    for _ in range(2):
        kho.handling.state(rid, actor=leader)
        kho.handling.rebuild_index()
        assert not kho.repo.may_see(handler, kho.repo._load(rid))
    assert kho.handling.index.seq_of(rid) == 2
    assert kho.repo._load(rid).version == version
    assert len(_events(kho, rid, "handling:distribute-withheld")) == withheld
    granted = len(_events(kho, rid, "record:grant"))
    kho.repo.grant(rid, users=(handler.user,), actor=leader)
    assert kho.repo.may_see(handler, kho.repo._load(rid))
    assert len(_events(kho, rid, "record:grant")) == granted + 1
    kho.handling.rebuild_index()  # the hand grant stays; nothing else changes
    assert kho.repo.may_see(handler, kho.repo._load(rid))


@BACKENDS
def test_a_distribution_withheld_in_the_race_stays_withheld_after_release(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "911")
    orders: list[dict[str, Any]] = []

    def hold() -> None:
        orders.append(Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=people.actor("lanh_dao")))

    with _after_writing(kho, step_key(rid, 2), hold):
        _direct(kho, people, rid)
    assert len(_events(kho, rid, "handling:distribute-withheld")) == 1
    for _ in range(2):  # while the hold is on, a reindex records nothing more
        kho.handling.rebuild_index()
    assert len(_events(kho, rid, "handling:distribute-withheld")) == 1
    _released_and_checked(kho, people, rid, orders[0])


@BACKENDS
def test_a_reindex_under_hold_records_the_withholding_once_and_it_stays_after_release(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "912")
    _died_after_commit(kho, people, rid)
    order = Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    handler = people.actor("chuyen_vien_b")
    for _ in range(3):  # the reindex applies the step; the next ones find it done
        kho.handling.rebuild_index()
    [withheld] = _events(kho, rid, "handling:distribute-withheld")
    assert withheld.actor == "kho" and withheld.details["seqs"] == [2]
    assert withheld.details["users"] == [handler.user] and withheld.details["code"] == "LEGAL_HOLD"
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
    _released_and_checked(kho, people, rid, order)


@BACKENDS
def test_a_roll_forward_withheld_at_read_stays_withheld_after_release_and_a_later_step_still_gives(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "913")
    _died_after_commit(kho, people, rid)
    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    order = Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=leader)
    kho.handling.state(rid, actor=leader)  # the roll-forward, its distribution withheld
    kho.handling.rebuild_index()
    assert len(_events(kho, rid, "handling:distribute-withheld")) == 1
    Holds(kho.repo).release(order["order_id"], "Xong thanh tra", actor=leader)
    kho.handling.rebuild_index()
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
    # The skip is the withheld step's only: a step taken after the release hands over as usual.
    kho.handling.take(
        rid, Act.ADD_TASK, expected_seq=2, actor=leader, users=[handler.user],
        deadline=(vn_date(clock()) + timedelta(days=7)).isoformat(), content="Phối hợp rà soát",
    )
    assert kho.repo.may_see(handler, kho.repo._load(rid))
