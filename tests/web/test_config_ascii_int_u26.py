"""Whole numbers in the configuration (``KHO_*``) are ASCII digits, as on the command line and
in the forms (u26): ``kho.digits.ascii_int``. Before u26 ``KHO_OCR_DPI=+300`` was read as 300
and a schedule ``KHO_*_SCHEDULE=٢:00`` (``str.isdigit``) as 02:00."""

from __future__ import annotations

import pytest

from kho.config import parse_schedule, process_settings
from kho.errors import ConfigError


@pytest.mark.parametrize("value", ["+300", "٣٠٠", "３００", "3_00", "300.0", "1" * 19])
def test_a_number_setting_in_other_characters_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        process_settings({"KHO_OCR_DPI": value})
    assert refused.value.code == "CONFIG_INVALID" and "KHO_OCR_DPI" in refused.value.message


def test_a_number_setting_in_ascii_digits_is_read() -> None:
    assert process_settings({"KHO_OCR_DPI": "300"}).ocr_dpi == 300
    assert process_settings({"KHO_OCR_DPI": " 0300 "}).ocr_dpi == 300  # spaces around: stripped, as before


@pytest.mark.parametrize("value", ["٢:00", "２:00", "02:٠٠", "٣m", "３h", "+5m", "²:00"])
def test_a_schedule_in_other_digits_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(value)


def test_a_schedule_in_ascii_digits_is_read() -> None:
    assert parse_schedule("02:30") == ("daily", 2, 30)
    assert parse_schedule("5m") == ("every", 300, 0)
    assert parse_schedule("off") is None
