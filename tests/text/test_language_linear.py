"""The language guess of a text (``detect_language``) counts the words it counted before, and
reads a long word once: a PDF whose text layer holds a word of tens of thousands of digits took
seconds of the pipeline process's CPU per such word (the old patterns tried the word again from
each of its characters), and that process has no time limit in a bulk import."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from pdf_objects import pdf_from_objects

from ingest.text import TextSettings, extract_text, model
from ingest.text.model import _VI_LETTERS, detect_language

SHARED = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
RECORDS = SHARED / "corpora" / "meta" / "records.jsonl"

_OLD_WORDS = re.compile(r"\S*[^\W\d_]\S*")
_OLD_VI_WORDS = re.compile(r"\S*[" + "".join(sorted(_VI_LETTERS)) + r"]\S*")


def _old_detect_language(text: str) -> str | None:
    lowered = text.lower()
    words = len(_OLD_WORDS.findall(lowered))
    if words < 3:
        return None
    marked = len(_OLD_VI_WORDS.findall(lowered))
    return "vi" if marked * 5 >= words else None


def _texts() -> list[str]:
    assert RECORDS.is_file(), f"metadata corpus not found at {RECORDS} (set KHO_SHARED_DIR)"
    with RECORDS.open(encoding="utf-8") as fh:
        texts = [json.loads(row)["text"] for row in fh]
    rng = random.Random(14)
    pieces = [
        "a", "Đ", "ệ", "ư", "7", "²", "½", "Ⅻ", "_", "-", ".", " ", "\n", "\t", "\u00a0", "\u2028",
        "\u3000", "e\u0301", "Việt", "Nam", "2026", "x_1", "ﬁ",
    ]  # fmt: skip
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 40))) for _ in range(5000)]
    return texts


def test_the_words_and_the_guess_are_those_of_the_old_patterns() -> None:
    texts = _texts()
    guesses = []
    for text in texts:
        lowered = text.lower()
        assert len(model._WORD_WITH_LETTER_RE.findall(lowered)) == len(_OLD_WORDS.findall(lowered)), text
        assert len(model._WORD_WITH_VI_LETTER_RE.findall(lowered)) == len(_OLD_VI_WORDS.findall(lowered)), (
            text
        )
        guesses.append(detect_language(text))
        assert guesses[-1] == _old_detect_language(text), text
    assert guesses.count("vi") > 100 and guesses.count(None) > 100  # both answers compared


def test_a_pdf_with_long_words_costs_the_pipeline_no_time() -> None:
    """Four lines of 25,000 digits on one page (a page as wide as PDF allows, 1-point type): the
    text layer holds four 25,000-character words. Before, guessing the language spent ~8 s of
    CPU per such word in this process (measured: 8.1 s for one)."""
    lines = b"".join(
        b"BT /F1 1 Tf 10 %d Td (" % (400 + 20 * i) + b"7" * 25_000 + b") Tj ET " for i in range(4)
    )
    content = lines + b"BT /F1 12 Tf 10 300 Td (Cong van so mot) Tj ET"
    pdf = pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /Resources << /Font << /F1 4 0 R >>"
        b" >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])  # fmt: skip
    began = time.process_time()
    text = extract_text(pdf, "so-dai.pdf", settings=TextSettings())
    spent = time.process_time() - began  # this process only: pdfium reads in its worker
    assert sorted(len(word) for word in text.text.split())[-4:] == [25_000] * 4
    assert spent < 2.0, f"{spent:.1f} s of CPU in the pipeline's process"


def test_a_word_of_two_million_characters_is_read_in_linear_time() -> None:
    """In a child process, so that the quadratic reading (hours for this word) fails the test
    by its time-out instead of holding the suite."""
    code = (
        "import time; from ingest.text.model import detect_language; t = time.process_time(); "
        "assert detect_language('7' * 2_000_000 + ' một hai ba bốn') == 'vi'; "
        "print(time.process_time() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert float(done.stdout) < 2.0
