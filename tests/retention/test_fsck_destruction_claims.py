"""``kho fsck`` lists the destruction claims left behind (m7; a6/r28 left it open).

A destruction takes ``claims/destroying/<id>`` before it checks the holds and withdraws it once
the key is gone. A worker killed in between leaves it. On this machine r28 made such a claim
refuse nothing; one from another machine still refuses every legal hold on the record, until the
destruction is resumed, and fsck said nothing of it. fsck now reports each claim left (its
record, holder, age and the decision it belongs to); ``--repair`` clears only a claim whose
record is destroyed already or whose writer is provably dead, never one whose destruction may
still be running."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from kho_people import People
from kho_retention import closed_file, dead_pid, destroying, left_destruction_claim

from kho.errors import Conflict
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.fsck import Issue, fsck
from repository.records import destroying_key
from retention.holds import Holds
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)

OTHER_HOST = "may-xu-ly-2/4f1c0b3e-boot/pid:[4026531836]"


def _claims(kho: Kho, repair: bool = False) -> list[Issue]:
    return [i for i in fsck(kho.repo, repair=repair).issues if i.kind == "destruction-claim"]


def test_a_claim_left_by_another_machine_is_reported_and_not_cleared(kho: Kho, people: People) -> None:
    """A worker on another machine died two hours into a destruction: its claim refuses every
    hold on the document. fsck names it with its holder, age and decision, and ``--repair``
    leaves it (nothing here can tell that worker is dead)."""
    _, [doc] = closed_file(kho, people, docs=1)
    two_hours_ago = to_iso_utc(kho.repo.clock() - timedelta(hours=2))  # the clock that wrote it
    left_destruction_claim(kho, doc, 4242, host=OTHER_HOST, at=two_hours_ago, decision="QĐ 12/QĐ-UBND")
    with pytest.raises(Conflict):  # what the operator has to act on
        Holds(kho.repo).place([doc], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    for repair in (False, True):
        [issue] = _claims(kho, repair=repair)
        assert issue.subject == destroying_key(doc)
        assert (issue.repairable, issue.repaired) == (False, False)
        details = dict(issue.details)
        assert 7200 <= details.pop("age_seconds") < 7800
        assert details == {
            "record_id": doc,
            "host": OTHER_HOST,
            "pid": 4242,
            "decision": "QĐ 12/QĐ-UBND",
            "state": "unknown",
        }
        assert "may-xu-ly-2" in issue.message and "“QĐ 12/QĐ-UBND”" in issue.message
        assert "giữ từ 2 giờ trước" in issue.message
        assert kho.repo.store.exists(destroying_key(doc))


def test_a_claim_of_a_dead_writer_here_is_reported_and_cleared_by_repair(kho: Kho, people: People) -> None:
    _, [doc] = closed_file(kho, people, docs=1)
    left_destruction_claim(kho, doc, dead_pid(), decision="QĐ 14/QĐ-UBND")
    [found] = _claims(kho)
    assert (found.repairable, found.repaired, found.details["state"]) == (True, False, "abandoned")
    [mended] = _claims(kho, repair=True)
    assert mended.repaired and not kho.repo.store.exists(destroying_key(doc))
    assert _claims(kho) == []
    assert kho.repo.keys.exists(doc)  # clearing a claim destroys nothing


def test_a_destruction_names_its_decision_on_its_claim_and_a_finished_ones_claim_is_cleared(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed after the "đã hủy" row, before the claim was withdrawn: the claim names
    the decision; once its writer is gone fsck reports the destruction as done and clears it."""
    _, [doc] = closed_file(kho, people, docs=1)

    def killed(record_id: str) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(kho.repo.keys, "destroy", killed)
    with pytest.raises(SystemExit):
        kho.repo.destroy(doc, decision="QĐ 15/QĐ-UBND", actor=people.actor("quan_tri"))
    holder = formats.loads(formats.CLAIM.name, kho.repo.store.get(destroying_key(doc)))
    assert (holder["decision"], holder["pid"]) == ("QĐ 15/QĐ-UBND", os.getpid())
    assert _claims(kho) == []  # its writer (this process) is alive: it may be running
    left_destruction_claim(kho, doc, dead_pid(), decision=holder["decision"])
    [mended] = _claims(kho, repair=True)
    assert mended.repaired and mended.details["state"] == "finished"
    assert mended.details["decision"] == "QĐ 15/QĐ-UBND"
    assert not kho.repo.store.exists(destroying_key(doc))


def test_repair_leaves_a_running_destruction_alone(kho: Kho, people: People) -> None:
    """A destruction running in this process (stopped before its "đã hủy" row): fsck neither
    reports nor clears its claim, and the destruction finishes."""
    _, [doc] = closed_file(kho, people, docs=1)
    with destroying(kho, people, doc) as outcome:
        assert kho.repo.store.exists(destroying_key(doc))
        assert _claims(kho, repair=True) == []
        assert kho.repo.store.exists(destroying_key(doc))
    assert not isinstance(outcome[0], Exception)
    assert kho.repo._load(doc).state == "destroyed"


def test_a_claims_age_is_told_by_the_repositorys_clock(kho: Kho, people: People) -> None:
    """r29: fsck measured the claim's ``at`` (written by the repository's clock) with the wall
    clock. Here the repository's clock is months from the wall's: a claim another machine took
    2 minutes ago by that clock is within the grace (not reported), one of 2 hours is reported
    as 2 hours old. integ23 gave a negative age to both, and reported neither."""
    _, [young, old] = closed_file(kho, people, docs=2)
    now = kho.repo.clock()
    assert abs((now - utcnow()).total_seconds()) > 86400  # the two clocks disagree here
    left_destruction_claim(kho, young, 4242, host=OTHER_HOST, at=to_iso_utc(now - timedelta(minutes=2)))
    left_destruction_claim(kho, old, 4243, host=OTHER_HOST, at=to_iso_utc(now - timedelta(hours=2)))
    [issue] = _claims(kho)
    assert issue.subject == destroying_key(old)
    assert 7200 <= issue.details["age_seconds"] < 7300 and "giữ từ 2 giờ trước" in issue.message
