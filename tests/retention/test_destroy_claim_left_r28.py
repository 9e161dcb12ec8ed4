"""A destruction killed (kill -9, a worker lost) between taking ``claims/destroying/<id>`` and
shredding the key (review r28).

a6's claim makes a hold placed during a destruction see it and be refused (409
``RECORD_BEING_DESTROYED``). A claim whose process died stayed for ever: every legal hold on the
record, or on a hồ sơ holding it, was refused as "being destroyed", and the document could not be
put in a hồ sơ, though nothing was destroying it; the lãnh đạo could not stop the resumed
execution with a hold, which main allowed (the resume checks the holds record by record). Now a
claim whose writer is gone on this machine is not counted; a live one still refuses."""

from __future__ import annotations

import os

import pytest
from kho_people import People
from kho_retention import closed_file, dead_pid, left_destruction_claim

from kho.errors import Conflict, LegalHold
from repository.records import destroying_key
from retention.holds import Holds
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


@pytest.mark.parametrize("target", ["document", "file"])
def test_a_hold_is_placed_over_the_claim_of_a_killed_destruction(
    kho: Kho, people: People, target: str
) -> None:
    file, [doc] = closed_file(kho, people, docs=1)
    left_destruction_claim(kho, doc, dead_pid())
    held = doc if target == "document" else file.record_id
    order = Holds(kho.repo).place([held], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert len(kho.repo.holds_on(held)) == 1 and order["order_id"]
    with pytest.raises(LegalHold):  # the resumed destruction now stops at the hold
        kho.repo.destroy(doc, decision="QĐ 12/QĐ-UBND", actor=people.actor("quan_tri"))
    assert kho.repo.keys.exists(doc) and kho.repo._load(doc).state != "destroyed"


def test_the_claim_of_a_live_destruction_still_refuses_the_hold(kho: Kho, people: People) -> None:
    _, [doc] = closed_file(kho, people, docs=1)
    left_destruction_claim(kho, doc, os.getpid())
    with pytest.raises(Conflict) as refused:
        Holds(kho.repo).place([doc], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert refused.value.code == "RECORD_BEING_DESTROYED"
    assert kho.repo.holds_on(doc) == []


def test_a_refused_destruction_does_not_withdraw_a_running_ones_claim(kho: Kho, people: People) -> None:
    """Two decided cases destroy one document at once: case A (both its hồ sơ) is shredding it,
    case B (one hồ sơ only) keeps it (``DOCUMENT_IN_ANOTHER_FILE``). B's refusal deleted A's
    claim, so a hold placed next was accepted while A shredded the document."""
    theirs, [doc] = closed_file(kho, people, end="", docs=1)
    mine, _ = closed_file(kho, people, notation="02.TCCB", end="", docs=0)
    kho.repo.add_to_file(
        mine.record_id, doc, expected_version=mine.version, actor=people.actor("chuyen_vien")
    )
    left_destruction_claim(kho, doc, os.getpid())  # case A's destruction, running in this process
    with pytest.raises(Conflict) as kept:
        kho.repo.destroy(
            doc, decision="QĐ 13/QĐ-UBND", actor=people.actor("quan_tri"), only_in=[theirs.record_id]
        )
    assert kept.value.code == "DOCUMENT_IN_ANOTHER_FILE"
    assert kho.repo.store.exists(destroying_key(doc))  # before: withdrawn
    with pytest.raises(Conflict) as refused:
        Holds(kho.repo).place([doc], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert refused.value.code == "RECORD_BEING_DESTROYED"
