"""JSON from outside Kho's own memory (stored objects, files, request bodies) parsed with a
bound on its nesting, checked before the parser runs.

``json.loads`` of ``[[[…]]]`` nested 100,000 deep recurses until it meets the interpreter's
recursion limit and raises ``RecursionError``. Catching that is not enough: while the parser is
within a few frames of the limit it allocates a list per level, an allocation can start the
garbage collector, and a finaliser (``__del__`` of a connection, a generator's close) that the
collector runs there has no stack left and fails as an "unraisable" exception (seen in CI:
``test_an_event_nested_too_deep_is_unreadable…[s3]`` failed in pytest's unraisable hook). Here
the parser never goes deeper than :data:`MAX_DEPTH`, far from the limit.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 256
"""The deepest nesting of arrays and objects accepted. Kho's own objects nest a few levels; the
parser's C code counts a level as a frame of the 1,000 the interpreter allows, so 256 leaves
the caller's frames and any finaliser the collector runs during the parse their stack."""

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # open: +1, close: -1 as a signed byte


class NestedTooDeep(ValueError):
    """Arrays or objects nested deeper than :data:`MAX_DEPTH` (a ``ValueError``, as every other
    JSON that cannot be read)."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, brackets inside strings not
    counted (an unterminated string's brackets are, which only overstates bad JSON)."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    steps = brackets.encode("ascii").translate(_STEPS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def loads(raw: str | bytes | bytearray) -> Any:
    """``json.loads(raw)``, or :class:`NestedTooDeep` (a ``ValueError``) for nesting deeper than
    :data:`MAX_DEPTH`, before the parser runs. Bytes are decoded as ``json.loads`` does
    (UTF-8, -16 or -32; ``UnicodeDecodeError``, a ``ValueError``, if they are none)."""
    if isinstance(raw, (bytes, bytearray)):
        if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:  # cannot nest deeper: no scan
            return json.loads(raw)
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    else:
        text = raw
        if text.count("[") + text.count("{") <= MAX_DEPTH:
            return json.loads(text)
    if nesting_depth(text) > MAX_DEPTH:
        raise NestedTooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    return json.loads(text)
