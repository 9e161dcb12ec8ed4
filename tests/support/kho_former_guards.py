"""The bomb guard's lexical scan as it was before m34 (main ``e773fc01``'s
``ingest.text.guards._lexical_state``, verbatim: one regex search per bracket, backslash or
``%``): what ``tests/text/test_pdf_guard_lexical_m34.py`` holds the current scan equal to, and
what ``bench/m34_guard_lexical.py`` times it against."""

from __future__ import annotations

import re

_LEXEME = re.compile(rb"[()\\%]")
_LINE_END = re.compile(rb"[\r\n]")


def former_lexical_state(data: bytes, start: int, end: int, depth: int, comment: bool) -> tuple[int, bool]:
    """``_lexical_state`` before m34."""
    at = start
    while at < end:
        if comment:
            line = _LINE_END.search(data, at, end)
            if line is None:
                return depth, True
            at, comment = line.end(), False
            continue
        m = _LEXEME.search(data, at, end)
        if m is None:
            break
        at = m.end()
        token = m.group()
        if token == b"\\":
            at += 1 if depth else 0
        elif token == b"(":
            depth += 1
        elif token == b")":
            depth = max(0, depth - 1)
        elif depth == 0:
            comment = True
    return depth, comment
