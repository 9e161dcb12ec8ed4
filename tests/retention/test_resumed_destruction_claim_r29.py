"""A destruction resumed over the claim a killed worker left keeps that claim naming the dead
worker (r28 made the resumed run take it as its own, without rewriting it). While the resumed
run shreds the document, the claim looks abandoned: m7's ``kho fsck`` reported it as left by a
dead process and ``--repair`` deleted it, and a legal hold placed meanwhile was accepted (the
claim of a dead writer refuses nothing) although the running destruction then destroyed the
document. A resumed destruction now takes the claim over in its own name (r29, reviewing m7)."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import closed_file, dead_pid, destroying, left_destruction_claim

from kho.errors import Conflict
from repository import formats
from repository.fsck import fsck
from repository.records import destroying_key
from retention.holds import Holds
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def test_a_resumed_destruction_holds_its_claim_as_a_running_one(kho: Kho, people: People) -> None:
    _, [doc] = closed_file(kho, people, docs=1)
    left_destruction_claim(kho, doc, dead_pid(), decision="QĐ 12/QĐ-UBND")
    with destroying(kho, people, doc) as outcome:  # resumed, stopped before its "đã hủy" row
        claims = [i for i in fsck(kho.repo, repair=True).issues if i.kind == "destruction-claim"]
        assert claims == [], [i.message for i in claims]
        holder = formats.loads(formats.CLAIM.name, kho.repo.store.get(destroying_key(doc)))
        assert holder["pid"] != 0 and holder.get("decision") == "QĐ 12/QĐ-UBND"
        with pytest.raises(Conflict):  # refused as during any running destruction
            Holds(kho.repo).place([doc], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome  # destroyed
    assert not kho.repo.store.exists(destroying_key(doc))
