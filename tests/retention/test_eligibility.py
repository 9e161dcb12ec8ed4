"""The destruction eligibility rules: pure, with the day given."""

from __future__ import annotations

from datetime import date

import pytest

from retention.eligibility import (
    NotDestroyable,
    Reason,
    RetentionFacts,
    assess,
    check_destroyable,
    eligible,
    expiry,
)


def facts(
    maintenance: str = "05 năm", start: date | None = date(2015, 12, 31), **kw: object
) -> RetentionFacts:
    return RetentionFacts("r1", maintenance, start, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("maintenance", "start", "ends"),
    [
        ("05 năm", date(2015, 12, 31), date(2021, 1, 1)),
        ("05 năm", date(2015, 1, 1), date(2021, 1, 1)),
        ("10 năm", date(2020, 2, 29), date(2031, 1, 1)),
        ("Vĩnh viễn", date(2015, 1, 1), None),
        ("05 năm", None, None),
    ],
)
def test_period_runs_from_the_first_of_january_after_closing(
    maintenance: str, start: date | None, ends: date | None
) -> None:
    assert expiry(facts(maintenance, start)) == ends


def test_expired_items_are_listed_and_the_rest_say_why_not() -> None:
    today = date(2027, 3, 1)
    assert assess(facts(), today).reason is Reason.EXPIRED
    assert assess(facts("20 năm"), today).code == "RETENTION_NOT_EXPIRED"
    assert assess(facts("Vĩnh viễn"), today).code == "RETENTION_PERMANENT"
    assert assess(facts(on_hold=True), today).code == "LEGAL_HOLD"
    assert assess(facts(state="destroyed"), today).code == "ALREADY_DESTROYED"
    assert assess(facts("Đến khi văn bản hết hiệu lực"), today).code == "RETENTION_UNKNOWN"
    superseded = facts("Đến khi văn bản hết hiệu lực", superseded_on=date(2026, 5, 1))
    assert assess(superseded, today).eligible


def test_the_last_day_of_the_period_is_not_yet_expired() -> None:
    assert not assess(facts(), date(2020, 12, 31)).eligible
    assert assess(facts(), date(2021, 1, 1)).eligible


def test_duplicates_are_listed_even_within_their_period_but_never_on_hold() -> None:
    today = date(2027, 3, 1)
    assert assess(facts("Vĩnh viễn", duplicate_of="r0"), today).reason is Reason.DUPLICATE
    assert not assess(facts(duplicate_of="r0", on_hold=True), today).eligible


def test_refusal_at_execution_carries_a_code_and_a_vietnamese_message() -> None:
    with pytest.raises(NotDestroyable) as info:
        check_destroyable(facts("20 năm"), date(2027, 3, 1))
    assert info.value.code == "RETENTION_NOT_EXPIRED"
    assert "còn trong thời hạn bảo quản" in info.value.message and "01/01/2036" in info.value.message


def test_list_keeps_input_order() -> None:
    items = [RetentionFacts(f"r{n}", "05 năm" if n % 2 else "Vĩnh viễn", date(2010, 1, 1)) for n in range(6)]
    assert [v.record_id for v in eligible(items, date(2027, 1, 1))] == ["r1", "r3", "r5"]
