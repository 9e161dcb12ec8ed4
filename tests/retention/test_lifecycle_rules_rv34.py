"""The two pure rules of review rv34, table-driven: a re-closing keeps a hồ sơ as long as its
earlier closing (:func:`retention.closing.keeps_as_long`), and a destruction carries out only
what its approvals name (:func:`retention.destruction.unapproved`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from repository.audit import AuditEvent
from retention.closing import EarlierClosing, keeps_as_long
from retention.destruction import APPROVED, approval_details, unapproved
from retention.schedule import parse_retention

END = date(2015, 12, 31)


@pytest.mark.parametrize(
    ("earlier", "earlier_end", "now", "now_end", "kept"),
    [
        ("20 năm", END, "20 năm", END, True),
        ("20 năm", END, "30 năm", END, True),
        ("20 năm", END, "Vĩnh viễn", END, True),
        ("20 năm", END, "01 năm", END, False),
        ("20 năm", END, "19 năm", date(2016, 1, 1), True),  # the same last day: 01/01/2036
        ("20 năm", END, "20 năm", date(2015, 3, 2), True),  # the same year: the same day it ends
        ("05 năm", date(2024, 12, 31), "05 năm", date(2015, 3, 2), False),
        ("Vĩnh viễn", END, "70 năm", END, False),
        ("Vĩnh viễn", END, "Vĩnh viễn", END, True),
        ("20 năm", END, "Đến khi văn bản hết hiệu lực", END, False),
        ("Đến khi văn bản hết hiệu lực", END, "Đến khi văn bản hết hiệu lực", END, True),
        ("Đến khi văn bản hết hiệu lực", END, "50 năm", END, False),
        ("Đến khi văn bản hết hiệu lực", END, "Vĩnh viễn", END, True),
    ],
)
def test_a_re_closing_keeps_as_long(
    earlier: str, earlier_end: date, now: str, now_end: date, kept: bool
) -> None:
    before = EarlierClosing(parse_retention(earlier), earlier_end)
    assert keeps_as_long(parse_retention(now), now_end, before) is kept


def _case(**changes: Any) -> dict[str, Any]:
    case = {
        "case_id": "0123456789abcdef",
        "items": [{"record_id": "F1", "documents": ["D2", "D1"]}],
        "decision": {"ref": "QĐ 9", "by": "head", "deadline": "2027-03-16", "approve": True},
        "execution": None,
    }
    return {**case, **changes}


def _approval(
    case: dict[str, Any], item: dict[str, Any], *, actor: str = "head", **changed: Any
) -> AuditEvent:
    details = {**approval_details(case, item), **changed}
    return AuditEvent(1, "2027-03-01T03:00:00Z", actor, APPROVED, item["record_id"], None, None, details)


def test_an_approved_case_is_carried_out_and_nothing_else() -> None:
    case = _case()
    good = {"F1": [_approval(case, case["items"][0])]}
    assert unapproved(case, good) == []
    executing = _case(execution={"targets": ["D1", "D2", "F1"]})
    assert unapproved(executing, good) == []
    assert unapproved(_case(execution={"targets": ["D1", "X9", "F1"]}), good) == ["X9"]
    assert unapproved(case, {}) == ["F1"]
    added = _case(items=[*case["items"], {"record_id": "F2", "documents": []}])
    assert unapproved(added, good) == ["F2"]
    fewer = _case(items=[{"record_id": "F1", "documents": ["D1"]}])
    assert unapproved(fewer, good) == ["F1"]
    for changed in ({"case_id": "fedcba9876543210"}, {"decision": "QĐ 8"}, {"deadline": "2027-12-31"}):
        assert unapproved(case, {"F1": [_approval(case, case["items"][0], **changed)]}) == ["F1"]
    assert unapproved(case, {"F1": [_approval(case, case["items"][0], actor="someone")]}) == ["F1"]
