"""A claim dated ahead of the clock (review r33).

r32 made another machine's ``claims/submitting/<hồ sơ>`` refuse recalls and the next nộp lưu only
while it is younger than the grace (300 s). Its age is "now − at", so a claim whose ``at`` is
next year — a garbled time, a machine whose clock is wrong, or a claim forged by someone with
write access to the store — was "younger than the grace" until then: every recall of the hồ sơ's
documents and every nộp lưu of it answered 409 ``FILE_BEING_SUBMITTED``, and ``kho fsck`` said
nothing. Now a claim dated more than :data:`kho.process.CLOCK_SKEW_SECONDS` ahead runs nothing
(state ``unknown``, reported, kept); a live writer on a machine a few minutes ahead still holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from kho_people import People
from kho_retention import closed_file, left_claim, recall_outcome, submit_outcome

from kho.errors import Conflict
from kho.process import CLAIM_RUNNING, CLAIM_UNKNOWN, claim_state
from kho.timeutil import to_iso_utc
from repository.fsck import Issue, fsck
from repository.records import Record, submitting_key
from web.context import Kho

OTHER_HOST = "may-xu-ly-2/4f1c0b3e-boot/pid:[4026531836]"
# kho.process.CLOCK_SKEW_SECONDS, as a literal: this file fails on integ24 on behaviour.
CLOCK_SKEW_SECONDS = 900.0


def _left(kho: Kho, repair: bool = False) -> list[Issue]:
    return [i for i in fsck(kho.repo, repair=repair).issues if i.kind == "submission-claim"]


def _claim_ahead(kho: Kho, file: Record, ahead: timedelta) -> None:
    at = to_iso_utc(kho.repo.clock() + ahead)
    left_claim(kho, submitting_key(file.record_id), file.record_id, 4242, host=OTHER_HOST, at=at)


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_claim_dated_next_year_refuses_no_recall_and_is_reported(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    _claim_ahead(kho, file, timedelta(days=365))
    done = recall_outcome(kho, people, docs[0])
    assert isinstance(done, dict) and done["state"] == "destroyed", done  # integ24: 409 for a year
    for repair in (False, True):
        [issue] = _left(kho, repair=repair)  # integ24: fsck said nothing
        assert issue.details["state"] == "unknown" and (issue.repairable, issue.repaired) == (False, False)
        assert "ghi thời điểm 365 ngày sau giờ hiện tại" in issue.message, issue.message
    assert kho.repo.store.exists(submitting_key(file.record_id))


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_claim_dated_next_year_is_taken_over_by_the_next_submission(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")
    _claim_ahead(kho, file, timedelta(days=365))
    done = submit_outcome(kho, people, file)
    assert isinstance(done, Record) and done.state == "submitted", done  # integ24: 409
    assert not kho.repo.store.exists(submitting_key(file.record_id)) and _left(kho) == []


@pytest.mark.parametrize("kho", ["local"], indirect=True)
def test_a_claim_of_a_machine_a_few_minutes_ahead_still_refuses(kho: Kho, people: People) -> None:
    """A writer on a machine whose clock runs 5 minutes ahead may be running: still 409."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    _claim_ahead(kho, file, timedelta(minutes=5))
    refused = recall_outcome(kho, people, docs[0])
    assert isinstance(refused, Conflict) and refused.code == "FILE_BEING_SUBMITTED"
    assert _left(kho) == [] and kho.repo._load(file.record_id).state == "closed"


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (-CLOCK_SKEW_SECONDS - 1, CLAIM_UNKNOWN),
        (-86400.0 * 365, CLAIM_UNKNOWN),
        (-CLOCK_SKEW_SECONDS + 1, CLAIM_RUNNING),
        (10.0, CLAIM_RUNNING),
        (301.0, CLAIM_UNKNOWN),
    ],
)
def test_the_one_claim_rule_judges_a_time_ahead(age: float, state: str) -> None:
    """The rule destruction claims are judged by too (``claims/destroying/<id>``)."""
    holder = {"pid": 4242, "host": OTHER_HOST}
    here = "may-xu-ly-1/boot/pid:[1]"
    got = claim_state(holder, done=False, age_seconds=age, here=here, alive=lambda _: True, grace_seconds=300)
    assert got == state
