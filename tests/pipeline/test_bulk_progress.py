"""The progress line of ``kho ingest files``: files done, rate, and the time left at that rate."""

from __future__ import annotations

from ingest.cli import progress_line


def test_the_line_gives_the_time_left_at_the_current_rate() -> None:
    assert progress_line(40_000, 100_000, 25.0) == "40000/100000 tệp — 25.0 văn bản/giây — còn khoảng 40 phút"


def test_under_a_minute_left_is_said_so() -> None:
    assert progress_line(99_990, 100_000, 25.0).endswith("— còn dưới 1 phút")


def test_no_time_left_is_given_when_done_or_before_a_rate_is_known() -> None:
    assert progress_line(100, 100, 3.0) == "100/100 tệp — 3.0 văn bản/giây"
    assert progress_line(0, 100, 0.0) == "0/100 tệp — 0.0 văn bản/giây"
