"""Text clean-up for documents that come from PDF text layers, OCR or HTML/Markdown copies.

Pure functions. ``fold`` removes diacritics so that OCR and tone-placement variants
("CỘNG HOÀ" / "CỘNG HÒA", "Tự đo" / "Tự do") compare equal; it keeps string length, so a
position found in the folded text is the same position in the original.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from repository.vocabulary import nfc


def _fold_char(ch: str) -> str:
    if ch in "đĐðÐ":  # Ð (U+00D0) stands in for Đ in some PDF text layers
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    return base.lower() if len(base.lower()) == 1 else base


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on first sight of each character (one C call per text
    instead of a Python call per character: the metadata step folds every line many times)."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case, no diacritics, đ → d; same length as ``text`` (NFC input)."""
    return text.translate(_FOLD_TABLE)


_WORD_RE = re.compile(r"[a-z0-9]+")


FOLD_CACHE_MAX_CHARS = 256
"""Texts up to this length are remembered by :func:`fold_words` (a line of a document);
longer ones (a text layer without line breaks) are folded each time, so the cache holds at
most 8,192 short texts, never whole documents."""


def fold_words(text: str) -> str:
    """``fold`` plus: only letters and digits, single spaces (for keyword comparison).

    Short texts are remembered (the last few thousand): the metadata finders fold the same
    lines several times per document, and the fixed parts of a document (Quốc hiệu, Nơi nhận,
    the signature block) recur from one document to the next."""
    if len(text) <= FOLD_CACHE_MAX_CHARS:
        return _fold_words_remembered(text)
    return _fold_words(text)


def _fold_words(text: str) -> str:
    return " ".join(_WORD_RE.findall(fold(nfc(text))))


_fold_words_remembered = lru_cache(maxsize=8192)(_fold_words)


_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_MD_EMPHASIS_RE = re.compile(r"(?<![\w*])(\*{1,2}|_{1,2})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_LEAD_RE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?)")


def clean_line(line: str) -> str:
    """One line without HTML entities/tags, Markdown emphasis and links; spaces kept."""
    line = html.unescape(line).replace("\u00a0", " ").replace("\t", "    ")
    # Each pattern only where the character it cannot match without is in the line (the
    # substitutions only remove characters, so none brings in what a later one needs): most
    # lines of a text layer have none of them.
    if "<" in line:
        line = _TAG_RE.sub("", line)
    if "[" in line:
        line = _MD_LINK_RE.sub(r"\1", line)
    if "#" in line or ">" in line:
        line = _MD_LEAD_RE.sub("", line)
    if "*" in line or "_" in line:
        line = _MD_EMPHASIS_RE.sub(r"\2", line)
        line = line.replace("**", "")
    return line.rstrip()


def clean_lines(text: str) -> list[str]:
    """NFC, cleaned lines; runs of blank lines are dropped (OCR and HTML add many)."""
    out = []
    for raw in nfc(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = clean_line(raw)
        if line.strip():
            out.append(line)
    return out


def squash(text: str) -> str:
    """Single spaces, stripped."""
    return " ".join(text.split())


# --- Quốc hiệu and Tiêu ngữ (ô 1) ------------------------------------------------------

_QUOC_HIEU_RE = re.compile(r"c\s*[o0]\s*n\s*g\s+h\s*[o0]\s*a\s+x\s*a\s+h\s*[o0]\s*[il1]")
_QUOC_HIEU_TAIL_RE = re.compile(
    r"c\s*h\s*u\s+n\s*g\s*h\s*[il1]\s*a\s+v\s*[il1]\s*e\s*t\s+n\s*a\s*m"
)
_TIEU_NGU_RE = re.compile(
    r"d\s*[o0]\s*c\s+l\s*a\s*p\W+t\s*u\s+d\s*[o0]|t\s*u\s+d\s*[o0]\W+h\s*a\s*n\s*h"
)
_SEPARATOR_RE = re.compile(r"^[\s_\-—–=~.*·•|]*$")
_COLUMN_GAP_RE = re.compile(r"\s{3,}")


def quoc_hieu_span(line: str) -> tuple[int, int] | None:
    """Where "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" sits in ``line`` (OCR-tolerant)."""
    return _quoc_hieu_in(fold(line))


def _quoc_hieu_in(folded: str) -> tuple[int, int] | None:
    """:func:`quoc_hieu_span` of a line already folded (:func:`fold` keeps positions)."""
    head = _QUOC_HIEU_RE.search(folded)
    tail = _QUOC_HIEU_TAIL_RE.search(folded)
    if head:
        end = tail.end() if tail and tail.start() >= head.start() else head.end()
        start = head.start()
        if folded[:start].rstrip().endswith("nuoc"):  # "NƯỚC CỘNG HÒA …"
            start = folded[:start].rstrip().rfind("nuoc")
        return start, end
    if tail:
        return tail.start(), tail.end()
    return None


def tieu_ngu_span(line: str) -> tuple[int, int] | None:
    """Where "Độc lập - Tự do - Hạnh phúc" sits in ``line`` (OCR-tolerant)."""
    return _tieu_ngu_in(fold(line))


def _tieu_ngu_in(folded: str) -> tuple[int, int] | None:
    """:func:`tieu_ngu_span` of a line already folded (of the line's length)."""
    match = _TIEU_NGU_RE.search(folded)
    if not match:
        return None
    end = folded.find("phuc", match.start())
    return match.start(), (end + 4 if end >= 0 else len(folded))


def heading_span(line: str) -> tuple[int, int] | None:
    """``quoc_hieu_span(line) or tieu_ngu_span(line)``, the line folded once, not twice."""
    folded = fold(line)
    return _quoc_hieu_in(folded) or _tieu_ngu_in(folded)


def is_separator(line: str) -> bool:
    """A rule line (``____``, ``-----``, ``————``) or punctuation only."""
    return bool(_SEPARATOR_RE.match(line))


def split_columns(line: str) -> list[str]:
    """Split a line where a text layer or OCR joined the two header/footer columns.

    Splits at the Quốc hiệu / Tiêu ngữ and at runs of 3+ spaces. Parts are stripped,
    separators dropped.
    """
    parts: list[str] = []
    for chunk in _COLUMN_GAP_RE.split(line.strip()):
        span = heading_span(chunk)
        if span and span[0] > 0:
            parts.extend([chunk[: span[0]], chunk[span[0] :]])
        else:
            parts.append(chunk)
    return [p.strip() for p in parts if p.strip() and not is_separator(p)]


def is_upper_text(text: str) -> bool:
    """Mostly upper-case letters (a heading, an agency name, a title in the signature).

    Short texts are remembered as by :func:`fold_words`: the finders ask this of the same lines
    and parts ~50 times per document (m20)."""
    if len(text) <= FOLD_CACHE_MAX_CHARS:
        return _is_upper_text_remembered(text)
    return _is_upper_text(text)


def _is_upper_text(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.8


_is_upper_text_remembered = lru_cache(maxsize=8192)(_is_upper_text)
