"""Highlighted snippets computed from a document's own text (used by the embedded backend).

Matching is diacritic-insensitive (folded text is aligned character for character with the
NFC original, see :mod:`search.analysis`), so offsets found in the folded text mark the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from search.analysis import fold, normalize
from search.query import Highlight

FRAGMENT_CHARS = 240


def _patterns(words: Sequence[str], phrases: Sequence[str]) -> re.Pattern[str] | None:
    alternatives = sorted(
        {fold(normalize(p)) for p in phrases} | {fold(normalize(w)) for w in words},
        key=len,
        reverse=True,
    )
    alternatives = [a for a in alternatives if a]
    if not alternatives:
        return None
    body = "|".join(r"\W+".join(map(re.escape, a.split())) for a in alternatives)
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])")


def spans_in(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(fold(normalize(text)))]


def highlights(
    fields: Sequence[tuple[str, str]],
    words: Sequence[str],
    phrases: Sequence[str],
    *,
    fragment_chars: int = FRAGMENT_CHARS,
) -> tuple[Highlight, ...]:
    """One highlight per field that matches: short fields whole, long ones as the best window."""
    pattern = _patterns(words, phrases)
    if pattern is None:
        return ()
    out: list[Highlight] = []
    for name, raw in fields:
        text = unicodedata.normalize("NFC", raw or "")
        spans = spans_in(text, pattern)
        if not spans:
            continue
        if len(text) <= fragment_chars:
            out.append(Highlight(name, text, tuple(spans)))
            continue
        start, end = _best_window(text, spans, fragment_chars)
        inside = tuple((s - start, e - start) for s, e in spans if s >= start and e <= end)
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        shift = len(prefix)
        fragment = prefix + text[start:end].replace("\n", " ") + suffix
        out.append(Highlight(name, fragment, tuple((s + shift, e + shift) for s, e in inside)))
    return tuple(out)


def _best_window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The window of ``size`` characters holding the most distinct matches, cut at spaces."""
    best, best_score = 0, -1
    folded = fold(normalize(text))
    j = 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - start <= size:
            j += 1
        score = len({folded[s:e] for s, e in spans[i : j + 1]}) * 100 + (j - i)
        if score > best_score:
            best, best_score = i, score
    first = spans[best][0]
    last_end = first
    for _s, e in spans[best:]:
        if e - first > size:
            break
        last_end = e
    slack = max(0, size - (last_end - first))
    start = max(0, first - slack // 3)
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 <= space - end < 30 else end
    return start, max(end, last_end)
