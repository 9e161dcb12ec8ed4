"""m64: the pure rule a restore moves registers by (``registers.floors_past_entries``): which
numbers the log gives past each register's newest entry, placed as fsck places them (an event
before m61 names no agency), and how a văn thư reads them."""

from __future__ import annotations

import pytest

from repository.registers import (
    LostNumber,
    NumberGiven,
    RegisterFloor,
    floor_explained,
    floors_past_entries,
    number_ranges,
)

A, B = "000.00.18.H40", "000.00.19.H41"


def _event(
    organ: str | None, number: int, record: str, seq: int, series: str = "den", year: int = 2026
) -> NumberGiven:
    return NumberGiven(organ, year, series, number, record, seq)


def _entry(organ: str, number: int, record: str, series: str = "den", year: int = 2026) -> NumberGiven:
    return NumberGiven(organ, year, series, number, record)


CASES = [
    # (events, entries, floors as (organ, series, year, numbers, highest), unplaced records)
    ([], [], [], []),
    ([_event(A, 1, "r1", 1)], [_entry(A, 1, "r1")], [], []),  # everything held
    ([_event(A, 1, "r1", 1), _event(A, 2, "g2", 3)], [_entry(A, 1, "r1")], [(A, "den", 2026, [2], 2)], []),
    ([_event(A, 3, "g3", 5)], [], [(A, "den", 2026, [3], 3)], []),  # a register with no entry
    # below the newest entry: a gap fsck names, nothing to move
    ([_event(A, 2, "g2", 4)], [_entry(A, 1, "r1"), _entry(A, 3, "r3")], [], []),
    # before m61 (no agency): the store's only agency; in a store of several, unknown (apart)
    ([_event(None, 2, "g2", 4)], [_entry(A, 1, "r1")], [(A, "den", 2026, [2], 2)], []),
    ([_event(None, 2, "g2", 4)], [_entry(A, 1, "r1"), _entry(B, 1, "s1")], [], ["g2"]),
    ([_event(B, 2, "g2", 4)], [_entry(A, 1, "r1"), _entry(B, 1, "s1")], [(B, "den", 2026, [2], 2)], []),
    ([_event(A, 2, "g2", 4, "di")], [_entry(A, 5, "r5")], [(A, "di", 2026, [2], 2)], []),  # its own series
    ([_event(A, 2, "g2", 4, year=2027)], [_entry(A, 5, "r5")], [(A, "den", 2027, [2], 2)], []),  # own year
    ([_event(A, 2, "g", 4), _event(A, 2, "g", 9), _event(A, 4, "h", 6)], [_entry(A, 1, "r1")],
     [(A, "den", 2026, [2, 4], 4)], []),  # an event restored twice: one number
]


@pytest.mark.parametrize(("events", "entries", "floors", "unplaced"), CASES)
def test_numbers_past_each_register(
    events: list[NumberGiven],
    entries: list[NumberGiven],
    floors: list[tuple[object, ...]],
    unplaced: list[str],
) -> None:
    made, apart = floors_past_entries(events, entries, backup_id="b1")
    assert [(f.organ_id, f.series, f.year, f.numbers(), f.number) for f in made] == floors
    assert [g.record_id for g in apart] == unplaced
    assert all(f.backup_id == "b1" for f in made)


def test_a_floor_round_trips_and_reads_as_ranges() -> None:
    lost = (LostNumber(4, "g4", 10), LostNumber(5, "g5", 12), LostNumber(9, "g9", 20))
    floor = RegisterFloor(A, 2026, "den", 9, lost, "b1", "2026-03-03T04:00:00.000000Z")
    assert RegisterFloor.from_json(floor.to_json()) == floor
    assert number_ranges([9, 4, 5, 6, 11]) == "04–06, 09, 11"
    said = floor_explained(floor)
    assert "các số 04–05, 09 là số đã cấp trước khi sao lưu, văn bản không có trong bản sao" in said
    assert "“b1”" in said and "số 04: văn bản g4 (nhật ký kiểm toán #10)" in said and "từ số 10" in said
    assert "g9" not in floor_explained(floor, [4, 5])
