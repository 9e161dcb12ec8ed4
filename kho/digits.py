"""Whole numbers typed by people or read from stored names: ASCII digits only.

``str.isdigit()`` is true of "²" (``int()`` refuses it: a ValueError, a 500 where a form sent
it) and of "٣" (``int()`` reads 3), and ``int()`` refuses more than 4,300 digits. Every place
that turns text into a count, a version, a year or a số goes through :func:`ascii_int`.
"""

from __future__ import annotations

import functools
import re


@functools.cache
def _pattern(max_digits: int) -> re.Pattern[str]:
    return re.compile(rf"[0-9]{{1,{max_digits}}}")


def ascii_int(text: str, *, max_digits: int = 18) -> int | None:
    """The whole number ``text`` writes in 1 to ``max_digits`` ASCII digits, else ``None``."""
    return int(text) if _pattern(max_digits).fullmatch(text) else None


def ascii_int_or(text: str | None, default: int, *, max_digits: int = 18) -> int:
    """:func:`ascii_int` of ``text``, or ``default`` where it is absent or is not a whole
    number in ASCII digits: a query string's page or year, which fall back as werkzeug's
    ``type=int`` did for "abc", but without reading "٣", "３" or "0_3" as a number (werkzeug's
    ``type=int`` is Python's ``int()``)."""
    number = None if text is None else ascii_int(text, max_digits=max_digits)
    return default if number is None else number
