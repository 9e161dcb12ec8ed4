"""The bomb guard's lexical scan between stream keywords (``guards._lexical_state``: how deep in
literal strings, and whether in a comment, a keyword is) reads a string's escapes in one regular
expression match instead of one search per backslash (m34: a UTF-16 /Author of the bench corpus
is ~180 escapes); its answer is the former function's on every input."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kho_former_guards import former_lexical_state

from ingest.text import TextSettings, guards
from ingest.text.errors import FileBomb

SHARED = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
CORPUS = SHARED / "corpora" / "pdf"



class _Counting:
    """A compiled pattern whose calls are counted (every method the scan may use)."""

    def __init__(self, pattern: re.Pattern[bytes], counter: list[int]) -> None:
        self._pattern, self._counter = pattern, counter

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._pattern, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._counter[0] += 1
            return method(*args, **kwargs)

        return counted


def _utf16_info(name: str) -> bytes:
    """An /Info dictionary as reportlab writes it: a UTF-16 /Author in octal escapes."""
    escaped = "".join(f"\\{b:03o}" for b in "\ufeff".encode("utf-16-be") + name.encode("utf-16-be"))
    return b"<< /Author (" + escaped.encode("ascii") + b") /Creator (Kho) >>\n"


def test_a_string_full_of_escapes_is_read_in_a_few_pattern_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = [0]
    for name, value in list(vars(guards).items()):
        if isinstance(value, re.Pattern):
            monkeypatch.setattr(guards, name, _Counting(value, calls))
    data = _utf16_info("ỦY BAN NHÂN DÂN TỈNH THỪA THIÊN HUẾ " * 20)
    escapes = data.count(b"\\")
    assert escapes > 1000
    assert guards._lexical_state(data, 0, len(data), 0, False) == (0, False)
    assert calls[0] <= 12, f"{calls[0]} pattern calls for {escapes} escapes"


_PIECES = [
    b"(",
    b")",
    b"\\",
    b"%",
    b"\r",
    b"\n",
    b"\r\n",
    b"a",
    b" ",
    b"\\(",
    b"\\)",
    b"\\\\",
    b"\\\r",
    b"<<",
    b">>",
    b"/Filter",
    b"\x00",
    b"\xff",
    b"\\053",
    b"stream",
]


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join),
    st.integers(0, 200),
    st.integers(0, 200),
    st.integers(0, 4),
    st.booleans(),
)
def test_the_state_is_the_former_scans_on_any_bytes(
    data: bytes, start: int, length: int, depth: int, comment: bool
) -> None:
    start = min(start, len(data))
    end = min(start + length, len(data))
    assert guards._lexical_state(data, start, end, depth, comment) == former_lexical_state(
        data, start, end, depth, comment
    )


def test_the_state_is_the_former_scans_at_every_keyword_of_the_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every scan the guard makes on the shared PDF corpus, and its answer, is the former
    function's (same states, so the same chains and the same verdicts)."""
    files = sorted(CORPUS.glob("*.pdf"))
    assert files, f"no corpus under {CORPUS}"
    current = guards._lexical_state
    compared = [0]

    def both(data: bytes, start: int, end: int, depth: int, comment: bool) -> tuple[int, bool]:
        answer = current(data, start, end, depth, comment)
        assert answer == former_lexical_state(data, start, end, depth, comment), (start, end, depth, comment)
        compared[0] += 1
        return answer

    monkeypatch.setattr(guards, "_lexical_state", both)
    text_settings = TextSettings()
    for path in files:
        try:
            guards.check_pdf_streams(path.read_bytes(), text_settings)
        except FileBomb:
            pass
    assert compared[0] > 100
