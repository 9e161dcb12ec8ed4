"""A destruction decision stored before the 15-day rule (``deadline: null``: the head named
none) is not executable for ever: its deadline is the decision's day plus the 15 days of
TT 06/2025, as for a decision made now. Before, y3's default was given only to new decisions,
so an approval stored months earlier was still carried out, and never listed overdue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from kho_people import PASSWORD, People
from kho_retention import Clock, closed_file, council_ready

from kho.errors import KhoError
from retention.destruction import deadline_of, is_overdue
from web.context import Kho


def test_a_decision_stored_without_a_deadline_lapses_after_15_days(
    kho: Kho, people: People, clock: Clock
) -> None:
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    case = d.decide(case["case_id"], "QĐ 10", approve=True, actor=head)
    body = {**case, "decision": {**case["decision"], "deadline": None}}  # as stored before y3
    body.pop("format_version", None)
    case = d.cases.write(case["case_id"], body, expected=case["version"])
    decided_on = clock().date()
    assert deadline_of(case) == decided_on + timedelta(days=15)
    clock.now = clock.now + timedelta(days=20)
    assert is_overdue(case, clock().date())
    with pytest.raises(KhoError) as lapsed:
        d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert lapsed.value.code == "DESTRUCTION_DECISION_LAPSED"
    assert lapsed.value.details["deadline"] == (decided_on + timedelta(days=15)).isoformat()
    assert all(kho.repo.keys.exists(rid) for rid in [*docs, file.record_id])
    assert not is_overdue({"state": "decided", "decision": {"deadline": None}}, date(2030, 1, 1))
