"""m61: the pure rule of a number given twice (:func:`repository.registers.numbers_given_twice`):
what a register is, and how an event written before m61 (no agency) is placed."""

from __future__ import annotations

import pytest

from repository.registers import NumberGiven, number_given_in, numbers_given_twice

A, B = "000.00.18.H40", "000.00.19.H41"


def event(record: str, number: int, *, organ: str | None = None, year: int = 2026, series: str = "den",
          seq: int = 0) -> NumberGiven:
    return NumberGiven(organ, year, series, number, record, seq)


def entry(record: str, number: int, *, organ: str = A, year: int = 2026, series: str = "den") -> NumberGiven:
    return NumberGiven(organ, year, series, number, record)


@pytest.mark.parametrize(
    ("events", "entries", "twice", "unplaced"),
    [
        # one record, its event twice (a confirmation retried): one holder
        ([event("x", 1, organ=A, seq=1), event("x", 1, seq=5)], [entry("x", 1)], [], []),
        # the killed writer's event, the taker's event and entry (m60's state, before m61)
        (
            [event("x", 2, seq=3), event("y", 2, seq=5)],
            [entry("w", 1), entry("y", 2)],
            [(A, 2, ("x", "y"))],
            [],
        ),
        # two agencies, number 1 each, events before m61: placed by their records' entries
        ([event("a", 1, seq=1), event("b", 1, seq=3)], [entry("a", 1), entry("b", 1, organ=B)], [], []),
        # ... and one more event of nothing: two agencies, so not placed, never matched
        ([event("a", 1), event("ghost", 1, seq=9)], [entry("a", 1), entry("b", 1, organ=B)], [], ["ghost"]),
        # ... naming its agency: matched with that agency's number only
        ([event("ghost", 1, organ=B)], [entry("a", 1), entry("b", 1, organ=B)], [(B, 1, ("b", "ghost"))], []),
        # two years, two series: number 1 each
        (
            [event("a", 1), event("b", 1, year=2027), event("c", 1, series="hanh-chinh")],
            [entry("a", 1), entry("b", 1, year=2027), entry("c", 1, series="hanh-chinh")],
            [],
            [],
        ),
        # an event gives a number whose entry names another record, with no event of its own
        ([event("y", 4, organ=A, seq=8)], [entry("x", 4)], [(A, 4, ("x", "y"))], []),
        # an empty store: an event of nothing has no agency to be placed in
        ([event("ghost", 1)], [], [], ["ghost"]),
    ],
)
def test_numbers_given_twice(
    events: list[NumberGiven],
    entries: list[NumberGiven],
    twice: list[tuple[str, int, tuple[str, ...]]],
    unplaced: list[str],
) -> None:
    found, left = numbers_given_twice(events, entries)
    assert [(f.organ_id, f.number, f.records) for f in found] == twice
    assert [g.record_id for g in left] == unplaced


def test_the_finding_names_its_events_and_entry() -> None:
    [found] = numbers_given_twice([event("y", 2, seq=5), event("x", 2, seq=3)], [entry("y", 2)])[0]
    assert (found.year, found.series, found.entry_record) == (2026, "den", "y")
    assert found.events == ((3, "x"), (5, "y"))


@pytest.mark.parametrize(
    "details",
    [
        {"series": "den", "year": 2026},
        {"series": "den", "year": 2026, "number": "2"},
        {"series": "den", "year": 2026, "number": 0},
        {"series": "den", "year": True, "number": 2},
        {"series": "", "year": 2026, "number": 2},
        {"series": "den", "year": 2026, "number": 2, "organ_id": 7},
    ],
)
def test_details_that_name_no_number_are_not_a_number_given(details: dict[str, object]) -> None:
    assert number_given_in(details, "x", 1) is None


def test_details_of_either_format_are_read() -> None:
    assert number_given_in({"series": "den", "year": 2026, "number": 2}, "x", 4) == event("x", 2, seq=4)
    with_organ = {"series": "den", "year": 2026, "number": 2, "organ_id": A}
    assert number_given_in(with_organ, "x", 4) == event("x", 2, organ=A, seq=4)
    assert number_given_in(with_organ, None, 4) is None
