"""Highlighted snippets computed from a document's own text (used by the embedded backend).

Matching is diacritic-, case- and tone-placement-insensitive, as if on ``fold(normalize(text))``
(aligned character for character with the NFC original, see :mod:`search.analysis`), but it
runs on the original text itself: every letter of the folded query words becomes the class of
all characters that fold to it, so no hit's text is normalised or folded at query time (that
was 60% of a query's time). The pattern starts with one character class (the first letters of
every word) so that the regular-expression engine skips to candidate characters in C.
"""

from __future__ import annotations

import functools
import re
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
    # The plane without the surrogates (no case, no fold, never in a str of text), decoded in
    # C: with them, "surrogatepass" made the decoding half of this function's time. Its UTF-32
    # is written a byte column at a time (code point n: n & 0xFF, n >> 8, 0, 0), not from an
    # array of 65,000 ints (2 ms of every search's start-up, 0.6 ms this way).
    utf32 = bytearray(4 * 0x10000)
    utf32[0::4] = bytes(range(256)) * 256
    utf32[1::4] = b"".join(bytes([high]) * 256 for high in range(256))
    plane = utf32[4 * 0x20 : 4 * 0xD800].decode("utf-32-le") + utf32[4 * 0xE000 :].decode("utf-32-le")
    candidates = set(map(chr, _FOLD_TABLE))
    for start in range(0, len(plane), 256):
        block = plane[start : start + 256]
        if block.lower() != block:
            candidates.update(c for c in block if c.lower() != c)
    # Folded all at once (one character out per character in): a call per character was as
    # long as the rest of this function.
    chars = list(candidates)
    lowered = "".join(low if len(low := char.lower()) == 1 else char for char in chars)
    groups: dict[str, set[str]] = {}
    for char, key in zip(chars, fold(lowered), strict=True):
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
            branches.append(  # one group per alternative: a match says which one it is
                f"((?<={_class(parts[0][0])})"
                + r"\W+".join("".join(_class(c) for c in part) for part in tail)
                + ")"
            )
        # What a match of each alternative counts as in _best_window: a word's matches all fold
        # to the word itself; a phrase's depend on what separates its words in the text.
        self.keys: list[str | None] = [None, *(None if " " in a else a for a in alternatives)]
        body = "|".join(branches)
        # Whole words: not preceded nor followed by a letter or digit. The look-behind comes
        # after the first character class so that the engine still skips to candidates in C.
        self.pattern = re.compile(
            "[" + "".join(re.escape(c) for c in union) + r"](?<![^\W_].)"
            + f"(?:{body})(?![^\\W_])"
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping matches, leftmost first (one scan in C)."""
        return [m.span() for m in self.pattern.finditer(text)]

    def spans_and_keys(self, text: str) -> tuple[list[tuple[int, int]], list[str]]:
        """:meth:`spans`, and what each match counts as (``fold(normalize(matched))``)."""
        found = [(m.span(), m.lastindex) for m in self.pattern.finditer(text)]
        spans = [span for span, _ in found]
        keys = self.keys
        return spans, [keys[group] or _match_key(text[s:e])  # type: ignore[index]
                       for (s, e), group in found]


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
    nfc = unicodedata.normalize
    for name, raw in fields:
        if not raw:
            continue
        text = nfc("NFC", raw)
        if len(text) <= fragment_chars:
            spans = pattern.spans(text)
            if spans:
                out.append(Highlight(name, text, tuple(spans)))
            continue
        spans, keys = pattern.spans_and_keys(text)
        if not spans:
            continue
        start, end = _best_window(text, spans, fragment_chars, keys)
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        shift = len(prefix) - start
        fragment = prefix + text[start:end].replace("\n", " ") + suffix
        out.append(Highlight(
            name, fragment, tuple((s + shift, e + shift) for s, e in spans if s >= start and e <= end)
        ))
    return tuple(out)


_MATCH_KEYS: dict[str, str] = {}
_MATCH_KEYS_SIZE = 65_536


def _match_key(matched: str) -> str:
    """What a match counts as in :func:`_best_window` (the same words match again and again,
    so the folded form is remembered; the memo starts again when full)."""
    key = _MATCH_KEYS.get(matched)
    if key is None:
        if len(_MATCH_KEYS) >= _MATCH_KEYS_SIZE:
            _MATCH_KEYS.clear()
        key = _MATCH_KEYS[matched] = fold(normalize(matched))
    return key


def _best_window(
    text: str, spans: list[tuple[int, int]], size: int, keys: list[str] | None = None
) -> tuple[int, int]:
    """The window of ``size`` characters holding the most distinct matches, cut at spaces.

    Windows start at a match and hold every following match ending within ``size`` characters
    of that start; the first window with the most distinct matches (then the most matches)
    wins. One pass: the window's distinct matches are counted as it slides.
    """
    n = len(spans)
    best = 0
    if spans[-1][1] - spans[0][0] > size:  # else the first window holds every match
        if keys is None:
            keys = [_match_key(text[s:e]) for s, e in spans]
        counts: dict[str, int] = {}
        best_score = -1
        most = len(set(keys)) * 100 + n - 2  # bound on the score of the window after i: - i
        j = -1  # last span inside the window of span i
        for i in range(n):
            if j < i:
                j = i
                counts[keys[i]] = counts.get(keys[i], 0) + 1
            limit = spans[i][0] + size
            while j + 1 < n and spans[j + 1][1] <= limit:
                j += 1
                counts[keys[j]] = counts.get(keys[j], 0) + 1
            score = len(counts) * 100 + (j - i)
            if score > best_score:
                best, best_score = i, score
            if j == n - 1 or best_score >= most - i:
                break  # no later window can score more (a subset of these, or too few left)
            left = keys[i]
            if counts[left] == 1:
                del counts[left]
            else:
                counts[left] -= 1
    return window_bounds(text, spans, best, size)


def window_bounds(text: str, spans: list[tuple[int, int]], best: int, size: int) -> tuple[int, int]:
    """The fragment of the window that starts at match ``best``: its matches within ``size``
    characters, the slack shared a third before and the rest after, cut at spaces."""
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
