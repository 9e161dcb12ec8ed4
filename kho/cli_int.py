"""The one click parameter type for whole numbers on the ``kho`` command line: ASCII digits only.

click's ``type=int`` and ``click.IntRange`` hand the text to Python's ``int()``, which reads
"٣" (Arabic-Indic), "３" (fullwidth) and every other script's digits, "0_3" and " 3" as 3:
``kho serve --port ٨٠`` listened on port 80 (review rv46). :class:`AsciiInt` reads a value with
:func:`kho.digits.ascii_int` (the rule of the forms, the API and the query strings, u23), with a
leading ``-`` only where negatives are legal (no lower bound, or a negative one), and refuses
anything else with click's ``BadParameter``, which :func:`web.cli_usage.usage_refusal` turns into
``Lỗi [CLI_VALUE_INVALID]: …`` (exit 2, JSON with ``--json``).

Every integer option and argument of the ``kho`` tree uses it (``tests/web/test_cli_ascii_int_u26.py``
walks the tree and fails on any other integer type).
"""

from __future__ import annotations

from typing import Any

import click

from kho.digits import ascii_int


class AsciiInt(click.IntRange):
    """A whole number written in ASCII digits (``[0-9]+``, ``-`` first where ``min`` allows a
    negative), at most 18 of them, between ``min`` and ``max`` when they are given."""

    def __init__(self, min: int | None = None, max: int | None = None) -> None:  # click's names
        super().__init__(min, max)
        if min is None and max is None:
            self.name = "integer"  # help shows INTEGER, as for ``type=int``

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):  # a default, already a number
            return super().convert(value, param, ctx)
        text = value if isinstance(value, str) else str(value)
        negative = text.startswith("-") and (self.min is None or self.min < 0)
        number = ascii_int(text[1:] if negative else text)
        if number is None:
            self.fail(f"{text!r} is not a whole number in ASCII digits 0-9.", param, ctx)
        return super().convert(-number if negative else number, param, ctx)

    def _describe_range(self) -> str:
        """Nothing to add to the help when the number has no bounds (click would say ``x<=None``)."""
        if self.min is None and self.max is None:
            return ""
        return super()._describe_range()
