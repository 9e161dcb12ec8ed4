"""The metadata step's line clean-up and word folding give what they gave before they were
made cheaper (patterns only where their character is in the line; folded words remembered),
on every line of the metadata corpus (Markdown, HTML and plain copies of real documents) and
on lines whose markup only appears once HTML entities are decoded."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from ingest.metadata import normalize
from repository.vocabulary import nfc

SHARED = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
RECORDS = SHARED / "corpora" / "meta" / "records.jsonl"


def _reference_clean_line(line: str) -> str:
    """``clean_line`` as it was: every pattern on every line."""
    line = html.unescape(line).replace("\u00a0", " ").replace("\t", "    ")
    line = normalize._TAG_RE.sub("", line)
    line = normalize._MD_LINK_RE.sub(r"\1", line)
    line = normalize._MD_LEAD_RE.sub("", line)
    line = normalize._MD_EMPHASIS_RE.sub(r"\2", line)
    line = line.replace("**", "")
    return line.rstrip()


def _reference_fold_words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", normalize.fold(nfc(text))))


def _corpus_lines() -> list[str]:
    assert RECORDS.is_file(), f"metadata corpus not found at {RECORDS} (set KHO_SHARED_DIR)"
    lines: list[str] = []
    with RECORDS.open(encoding="utf-8") as fh:
        for row in fh:
            lines.extend(json.loads(row)["text"].replace("\r", "\n").split("\n"))
    return lines


_TRICKY = [
    "&lt;b&gt;QUYẾT ĐỊNH&lt;/b&gt;",  # a tag only after the entities are decoded
    "&#35;&#35; Điều 1. Phạm vi",  # a Markdown heading from entities
    "&gt; trích dẫn",
    "&#42;&#42;Số:&#42;&#42; 08/2010/NĐ-CP",
    "[Nghị định 30](https://example.vn/nd30) &amp; [Luật](x)",
    "&#95;Hà Nội, ngày 05 tháng 02 năm 2010&#95;",
    "   # không phải tiêu đề#",
    "a_b_c snake_case **đậm** *nghiêng* __gạch__ ***",
    "\u00a0\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\u00a0",
    "<span style='x'>Độc lập</span> – Tự do – Hạnh phúc >",
    "",
]


def test_clean_line_is_unchanged_on_every_corpus_line_and_on_entity_markup() -> None:
    lines = _corpus_lines() + _TRICKY
    assert len(lines) > 1000
    marked = [line for line in lines if any(c in html.unescape(line) for c in "<[#>*_")]
    assert len(marked) > 50  # the corpus exercises the patterns, not only their skipping
    for line in lines:
        assert normalize.clean_line(line) == _reference_clean_line(line), line


def test_fold_words_is_unchanged_and_remembered() -> None:
    remembered = normalize._fold_words_remembered
    remembered.cache_clear()
    lines = _corpus_lines() + _TRICKY + ["Đ Ð đ ð", "CỘNG HOÀ", "CỘNG HÒA"]
    for line in lines:
        assert normalize.fold_words(line) == _reference_fold_words(line), line
    recent = [
        line for line in dict.fromkeys(lines[-200:]) if len(line) <= normalize.FOLD_CACHE_MAX_CHARS
    ]  # well within what is remembered
    assert len(recent) > 100
    first = remembered.cache_info()
    for line in recent:
        assert normalize.fold_words(line) == _reference_fold_words(line), line
    again = remembered.cache_info()
    assert again.hits - first.hits == len(recent)  # the second pass folded nothing again
    assert normalize.fold_words("CỘNG HOÀ") == normalize.fold_words("CỘNG HÒA") == "cong hoa"


def test_fold_words_does_not_keep_long_texts() -> None:
    """A text layer without line breaks is one long "line": folding it must not keep it (and
    thousands like it) alive in the cache of a long-running worker."""
    remembered = normalize._fold_words_remembered
    remembered.cache_clear()
    long_text = "Cộng hòa xã hội chủ nghĩa Việt Nam " * 2000
    assert normalize.fold_words(long_text) == _reference_fold_words(long_text)
    assert normalize.fold_words(long_text) == _reference_fold_words(long_text)
    assert remembered.cache_info().currsize == 0


def _reference_is_upper_text(text: str) -> bool:
    """``is_upper_text`` as it was, computed each time."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and sum(1 for c in letters if c.isupper()) / len(letters) >= 0.8


def test_is_upper_text_is_unchanged_remembered_for_lines_and_not_for_long_texts() -> None:
    remembered = normalize._is_upper_text_remembered
    remembered.cache_clear()
    # Roman numerals are upper case but not letters; Đ/ð, titles and mixed lines
    lines = _corpus_lines() + _TRICKY + ["ⅠⅡⅢ", "ⅠⅡⅢ ab", "ĐIỀU 1", "Điều 1", "ĐĐđ", "A", "ab CD EF GH"]
    verdicts = [normalize.is_upper_text(line) for line in lines]
    assert verdicts == [_reference_is_upper_text(line) for line in lines]
    assert any(verdicts) and not all(verdicts)
    short = [line for line in dict.fromkeys(lines) if len(line) <= normalize.FOLD_CACHE_MAX_CHARS]
    first = remembered.cache_info()
    for line in short[-500:]:
        assert normalize.is_upper_text(line) == _reference_is_upper_text(line), line
    assert remembered.cache_info().hits - first.hits == 500  # nothing computed again
    remembered.cache_clear()
    long_text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM " * 2000
    assert normalize.is_upper_text(long_text) is True
    assert remembered.cache_info().currsize == 0
