"""Vietnamese text analysis shared by every search backend (pure functions, no I/O).

Pipeline for indexed text and for queries alike:

1. :func:`normalize` — Unicode NFC, lower case, and one canonical tone-mark placement for the
   vowel pairs whose mark moves between the "old" and "new" styles ("hoà" → "hòa",
   "khoẻ" → "khỏe", "thuỷ" → "thủy"). Every step maps one character to one character, so the
   result stays aligned with the NFC original (highlights reuse the offsets).
2. :func:`fold` — strip every diacritic, ``đ`` → ``d`` (still one character for one).
3. :func:`syllables` — the syllables (Vietnamese words are written as space-separated
   syllables); :func:`bigrams` joins neighbours inside a clause so that compound words
   ("quyết định", "hồ sơ") and phrases weigh more than their parts.

The Elasticsearch analyzers in :mod:`search.elasticsearch` mirror these steps with a
``mapping`` char filter built from :data:`TONE_PLACEMENT`, ``lowercase`` and ``asciifolding``.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator

from kho.digits import ascii_int
from kho.textkey import plain_text

# --- tone-mark placement -------------------------------------------------------------------

_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng


def _with_tone(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


def _placement_table() -> dict[str, str]:
    """New-style pairs ("oà", "oẻ", "uỷ") → old style ("òa", "ỏe", "ủy"), both lower case."""
    table: dict[str, str] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in _TONES:
            table[first + _with_tone(second, tone)] = _with_tone(first, tone) + second
    return table


TONE_PLACEMENT: dict[str, str] = _placement_table()
"""Two-letter sequences rewritten to one canonical tone placement (lower case)."""

_PLACEMENT_ITEMS = tuple(TONE_PLACEMENT.items())


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    # Every character of U+00C0–U+1EFF whose decomposition is one ASCII character plus marks
    # lies in these blocks (Latin-1, Latin Extended-A/B, Greek's ";", Latin Extended Additional);
    # a test checks the table against the whole range. Scanning only these keeps imports fast.
    for code in itertools.chain(range(0x00C0, 0x0250), range(0x0370, 0x0400),
                                range(0x1E00, 0x1F00)):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base != char and base.isascii():
            table[code] = base
    return table


_FOLD_TABLE = _build_fold_table()


def normalize(text: str) -> str:
    """NFC, lower case, canonical tone-mark placement; one output character per NFC input one."""
    text = unicodedata.normalize("NFC", text)
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-Vietnamese letters expand when lower-cased
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for source, target in _PLACEMENT_ITEMS:
        if source in lowered:
            lowered = lowered.replace(source, target)
    return lowered


def fold(text: str) -> str:
    """Diacritics removed (``đ`` → ``d``); one output character per input character."""
    return text.translate(_FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    return fold(text) != text


# --- tokens ----------------------------------------------------------------------------------

SYLLABLE_RE = re.compile(r"[^\W_]+")
# Clause boundaries: bigrams never span punctuation or line breaks.
_CLAUSE_RE = re.compile(r"[^\s\w]+|\n+|_")


def syllables(text: str) -> list[str]:
    """Syllables (letters/digits runs) of already normalised or folded text."""
    return SYLLABLE_RE.findall(text)


def syllable_spans(text: str) -> Iterator[tuple[int, int, str]]:
    for match in SYLLABLE_RE.finditer(text):
        yield match.start(), match.end(), match.group(0)


def bigrams(text: str, joiner: str = "_") -> list[str]:
    """Adjacent syllable pairs inside each clause, joined by ``joiner``."""
    out: list[str] = []
    for clause in _CLAUSE_RE.split(text):
        tokens = SYLLABLE_RE.findall(clause)
        out.extend(f"{a}{joiner}{b}" for a, b in itertools.pairwise(tokens))
    return out


# Question words and fillers that carry no topic: dropped from free-text queries only (the index
# keeps every word, and phrases keep them). Each entry is matched on folded syllables.
QUESTION_WORDS: frozenset[str] = frozenset(
    fold(w)
    for w in (
        "ai", "gì", "nào", "đâu", "sao", "bao", "nhiêu", "lâu", "mấy", "thế", "hay", "không",
        "phải", "hỏi", "được", "bị", "là", "thì", "có", "của", "và", "các", "những", "về",
        "theo", "trong", "đối", "với", "cho", "khi", "nếu", "mà", "này", "đó", "ra", "như",
        "vậy", "hoặc", "hãy", "ạ", "nhỉ", "chăng",
    )
)


def query_terms(text: str) -> list[str]:
    """Normalised syllables of a free-text query with question words removed.

    A query made only of such words keeps them all (the user meant them).
    """
    tokens = syllables(normalize(text))
    kept = [t for t in tokens if fold(t) not in QUESTION_WORDS]
    return kept or tokens


# --- số, ký hiệu -------------------------------------------------------------------------------

SO_KY_HIEU_QUERY_RE = re.compile(
    r"(?<![\w/])(?:số\s*:?\s*)?(\d{1,7})\s*/\s*((?:(?:19|20)\d\d\s*/\s*)?[^\W\d_][^\W_]*"
    r"(?:\s*-\s*[^\W_]+)*)(?![\w/])",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def so_ky_hieu_key(text: str) -> str:
    """Canonical lookup key of a số/ký hiệu: ``"123/QĐ-UBND"`` and ``"123/qd-ubnd"`` → same.

    Folded, lower case, no spaces, leading zeros of the number dropped (``05`` = ``5``).
    """
    folded = fold(normalize(plain_text(text))).replace(" ", "")
    folded = re.sub(r"^so:?", "", folded)
    number, sep, rest = folded.partition("/")
    value = ascii_int(number, max_digits=100) if sep else None
    if value is not None:
        return f"{value}/{rest}"
    return folded


def find_so_ky_hieu(text: str) -> list[tuple[int, int, str]]:
    """Số/ký hiệu written in a query: ``(start, end, key)`` for each."""
    return [(m.start(), m.end(), so_ky_hieu_key(m.group(1) + "/" + m.group(2)))
            for m in SO_KY_HIEU_QUERY_RE.finditer(unicodedata.normalize("NFC", text))]
