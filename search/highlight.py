"""Highlighted snippets computed from a document's own text (used by the embedded backend).

Matching is diacritic-, case- and tone-placement-insensitive, as if on ``fold(normalize(text))``
(aligned character for character with the NFC original, see :mod:`search.analysis`), but it
runs on the original text itself: every letter of the folded query words becomes the class of
all characters that fold to it, so no hit's text is normalised or folded at query time (that
was 60% of a query's time). The pattern starts with one character class (the first letters of
every word) so that the regular-expression engine skips to candidate characters in C.
"""

from __future__ import annotations

import array
import functools
import re
import sys
import unicodedata
from collections.abc import Sequence

from search.analysis import _FOLD_TABLE, fold, normalize
from search.query import Highlight

FRAGMENT_CHARS = 240


@functools.cache
def _variants() -> dict[str, frozenset[str]]:
    """Folded character → every NFC character ``c`` (BMP) with ``fold(normalize(c)) == it``.

    On one NFC character, :func:`normalize` is lower case (kept when it would be two
    characters) and tone placement needs two, so ``fold(lower(c))`` is the same; characters NFC
    replaces (the Kelvin sign) never occur in the NFC text matched. Built once per process.

    Only two kinds of character fold to another one: those the fold table maps and those lower
    case changes. The second are found 256 code points at a time (a block lower case leaves
    alone is skipped in C), so the whole plane is not walked in Python: this runs in every
    ``kho search`` process, where the walk was a sixth of its time.
    """
    codes = array.array("I", range(0x20, 0x10000)).tobytes()
    plane = codes.decode(f"utf-32-{sys.byteorder[0]}e", "surrogatepass")
    candidates = set(map(chr, _FOLD_TABLE))
    for start in range(0, len(plane), 256):
        block = plane[start : start + 256]
        if block.lower() != block:
            candidates.update(c for c in block if c.lower() != c)
    groups: dict[str, set[str]] = {}
    for char in candidates:
        lowered = char.lower()
        key = fold(lowered if len(lowered) == 1 else char)
        if key != char:
            groups.setdefault(key, {key}).add(char)
    return {k: frozenset(v) for k, v in groups.items()}


@functools.lru_cache(maxsize=4096)
def _class(char: str) -> str:
    """A regular expression for one folded character: every character folding to it."""
    variants = _variants().get(char)
    if variants is None:
        return re.escape(char)
    return "[" + "".join(re.escape(c) for c in sorted(variants)) + "]"


class _Matcher:
    """Finds the folded alternatives in original (NFC) text, whole words only."""

    def __init__(self, alternatives: list[str]) -> None:
        firsts = sorted({a[0] for a in alternatives})
        union = sorted(set().union(*(_variants().get(c, {c}) for c in firsts)))
        branches = []
        for alternative in alternatives:  # longest first: the longest match wins at a position
            parts = alternative.split()
            tail = [parts[0][1:], *parts[1:]]
            branches.append(
                f"(?<={_class(parts[0][0])})"
                + r"\W+".join("".join(_class(c) for c in part) for part in tail)
            )
        body = "|".join(branches)
        self.pattern = re.compile(
            "[" + "".join(re.escape(c) for c in union) + f"](?:{body})(?![^\\W_])"
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Matches not preceded by a letter or digit (the pattern checks what follows)."""
        out: list[tuple[int, int]] = []
        search = self.pattern.search
        pos = 0
        while True:
            found = search(text, pos)
            if found is None:
                return out
            start = found.start()
            if start and text[start - 1].isalnum():
                pos = start + 1
                continue
            out.append(found.span())
            pos = found.end()


def _patterns(words: Sequence[str], phrases: Sequence[str]) -> _Matcher | None:
    return _matcher(tuple(words), tuple(phrases))


@functools.lru_cache(maxsize=256)
def _matcher(words: tuple[str, ...], phrases: tuple[str, ...]) -> _Matcher | None:
    """Built once per query (every hit of a page, and repeated queries, reuse it)."""
    alternatives = sorted(
        {" ".join(fold(normalize(p)).split()) for p in phrases}
        | {" ".join(fold(normalize(w)).split()) for w in words},
        key=len,
        reverse=True,
    )
    alternatives = [a for a in alternatives if a]
    if not alternatives:
        return None
    return _Matcher(alternatives)


def spans_in(text: str, pattern: _Matcher) -> list[tuple[int, int]]:
    """Spans of the matches in ``text`` (NFC); the same as in ``fold(normalize(text))``."""
    return pattern.spans(unicodedata.normalize("NFC", text))


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


@functools.lru_cache(maxsize=4096)
def _match_key(matched: str) -> str:
    """What a match counts as in :func:`_best_window` (the same words match again and again)."""
    return fold(normalize(matched))


def _best_window(text: str, spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The window of ``size`` characters holding the most distinct matches, cut at spaces."""
    best, best_score = 0, -1
    keys = [_match_key(text[s:e]) for s, e in spans]
    j = 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - start <= size:
            j += 1
        score = len(set(keys[i : j + 1])) * 100 + (j - i)
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
