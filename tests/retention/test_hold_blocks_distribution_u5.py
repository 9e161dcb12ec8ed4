"""A legal hold blocks handing a document over (``HOLD_BLOCKS``), for Kho's own processes too:
``Repository.distribute`` refuses it as ``grant`` does; a handling step that names people on a
held document is refused before it is written; a hold placed after a step was committed and
before its distribution (a race, or a writer that died in between) completes the step without
the distribution, audited ``handling:distribute-withheld``, and is not retried on each read.

The store is the real one (local folder and S3); the race and the death are made at the store's
own write of the step (its ``put_if_absent`` wrapped, the store itself untouched)."""

from __future__ import annotations

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

from kho.errors import LegalHold
from repository.handling import ROLL_FORWARD, step_key
from repository.workflow import Act
from retention.holds import Holds
from web.context import Kho


def _hold(kho: Kho, people: People, record_id: str) -> dict[str, Any]:
    return Holds(kho.repo).place([record_id], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))


@BACKENDS
def test_a_distribution_to_a_held_document_is_refused_and_writes_nothing(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "901")
    before = kho.repo._load(rid)
    distributed = len(_events(kho, rid, "record:distribute"))  # the submission's, to the leader
    order = _hold(kho, people, rid)
    for actor in (people.actor("van_thu"), ROLL_FORWARD):  # a person, and Kho's own process
        with pytest.raises(LegalHold) as info:
            kho.repo.distribute(rid, users=[people.usernames["chuyen_vien_b"]], actor=actor)
        assert info.value.code == "LEGAL_HOLD" and "phong tỏa" in info.value.message
    assert kho.repo._load(rid).version == before.version
    assert len(_events(kho, rid, "record:distribute")) == distributed
    Holds(kho.repo).release(order["order_id"], "Xong thanh tra", actor=people.actor("lanh_dao"))
    given = kho.repo.distribute(rid, users=[people.usernames["chuyen_vien_b"]], actor=people.actor("van_thu"))
    assert given.version == before.version + 1  # the hold, and only it, refused


@BACKENDS
def test_a_step_handing_a_held_document_over_is_refused_before_it_is_written(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "902")
    version = kho.repo._load(rid).version
    _hold(kho, people, rid)
    with pytest.raises(LegalHold) as info:
        _direct(kho, people, rid)
    assert info.value.code == "LEGAL_HOLD"
    assert [s.act for s in kho.handling.steps(rid)] == [Act.SUBMIT]
    assert not kho.repo.store.exists(step_key(rid, 2))
    assert kho.repo._load(rid).version == version
    assert not kho.repo.may_see(people.actor("chuyen_vien_b"), kho.repo._load(rid))
    assert _events(kho, rid, "handling:direct") == []


@BACKENDS
def test_a_hold_placed_between_the_commit_and_the_distribution_completes_the_step_without_it(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "903")
    version = kho.repo._load(rid).version
    with _after_writing(kho, step_key(rid, 2), lambda: _hold(kho, people, rid)):
        state = _direct(kho, people, rid)
    assert state.seq == 2 and [s.act for s in kho.handling.steps(rid)] == [Act.SUBMIT, Act.DIRECT]
    handler = people.actor("chuyen_vien_b")
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
    assert kho.repo._load(rid).version == version
    assert kho.handling.index.seq_of(rid) == 2  # not half-done: nothing left to roll forward
    [withheld] = _events(kho, rid, "handling:distribute-withheld")
    assert withheld.actor == people.usernames["lanh_dao"]
    assert withheld.details["seqs"] == [2] and withheld.details["users"] == [handler.user]
    assert withheld.details["code"] == "LEGAL_HOLD" and withheld.details["holds"]
    kho.handling.state(rid, actor=people.actor("lanh_dao"))  # a later read retries nothing
    assert kho.repo._load(rid).version == version
    assert _events(kho, rid, "handling:roll-forward") == []
    assert len(_events(kho, rid, "handling:distribute-withheld")) == 1


@BACKENDS
def test_a_step_left_half_done_rolls_forward_without_the_distribution_under_a_hold(
    kho: Kho, people: People, clock: Clock
) -> None:
    rid = _submitted(kho, people, clock, "904")
    version = kho.repo._load(rid).version

    def die() -> None:
        raise _Died

    with pytest.raises(_Died), _after_writing(kho, step_key(rid, 2), die):
        _direct(kho, people, rid)
    assert kho.handling.index.seq_of(rid) == 1  # half-done: committed, not applied
    _hold(kho, people, rid)

    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    _, state = kho.handling.state(rid, actor=leader)  # the roll-forward, refused its distribution
    assert state.seq == 2 and kho.handling.index.seq_of(rid) == 2
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
    assert kho.repo._load(rid).version == version
    [rolled] = _events(kho, rid, "handling:roll-forward")
    assert rolled.details["seqs"] == [2]
    [withheld] = _events(kho, rid, "handling:distribute-withheld")
    assert withheld.actor == "kho" and withheld.details["seqs"] == [2]
    assert withheld.details["users"] == [handler.user] and withheld.details["code"] == "LEGAL_HOLD"
    kho.handling.state(rid, actor=leader)  # done: the next read neither retries nor audits again
    assert len(_events(kho, rid, "handling:roll-forward")) == 1
    assert len(_events(kho, rid, "handling:distribute-withheld")) == 1
    kho.handling.rebuild_index()  # nor does the rebuild fail on it
    assert kho.handling.index.seq_of(rid) == 2
    assert not kho.repo.may_see(handler, kho.repo._load(rid))
