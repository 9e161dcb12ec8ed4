"""``clean_text`` (every text layer and OCR page goes through it) gives the same text as before,
and a text with nothing to clean is not rebuilt character by character (issue #14: the
dict ``str.translate`` was ~0.6 ms of every 3-page born-digital PDF in the verification worker);
and whether a page's text layer is usable is judged as before (``_usable`` without a pattern
substitution, ~0.3 ms of such a PDF)."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.text.model import clean_text
from ingest.text.pdf import _GARBAGE_MAX, _GARBAGE_RE, _usable

_FORMER_CONTROL = {c: None for c in range(32) if c not in (9, 10, 12)} | {0x7F: None}


def _former(text: str) -> str:
    """``clean_text`` as it was, verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_FORMER_CONTROL)
    return unicodedata.normalize("NFC", text)


PAGE = (
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\r\nĐộc lập - Tự do - Hạnh phúc\r\n"
    "Số: 123/QĐ-UBND\tHà Nội, ngày 05 tháng 12 năm 2026\r\nQUYẾT ĐỊNH\r\n"
    "Về việc phê duyệt kế hoạch lưu trữ hồ sơ điện tử năm 2027\f"
) * 20

_PIECE = st.one_of(
    st.sampled_from([chr(c) for c in range(32)] + ["\x7f", "\r\n", "\u0301", "\u0323", "\u00a0"]),
    st.sampled_from(list("aăâđeêoôơuưAĂÂĐ ạảãáàặẳẵắằ\n\t\f")),
    st.characters(),
)
_CLEAN_OR_NOT = st.lists(_PIECE, max_size=300).map("".join)


@settings(max_examples=600, deadline=None)
@given(_CLEAN_OR_NOT)
def test_the_cleaned_text_is_the_same_as_before(text: str) -> None:
    assert clean_text(text) == _former(text)


def test_a_real_looking_page_with_control_characters_is_cleaned_as_before() -> None:
    for page in (PAGE, PAGE.replace("Độc", "Đ\x00ộc\x1b"), PAGE + "\x7f", "\x01" * 10, "", "\r"):
        assert clean_text(page) == _former(page)
    assert "\x00" not in clean_text(PAGE.replace("Độc", "Đ\x00ộc"))


def test_a_text_with_nothing_to_clean_is_given_back_not_rebuilt() -> None:
    text = unicodedata.normalize("NFC", PAGE.replace("\r\n", "\n"))
    assert clean_text(text) == text
    assert clean_text(text) is text


# -- _usable (whether a page's text layer is used or the page goes to OCR) ----------------------
_FORMER_WHITESPACE_RE = re.compile(r"\s+")


def _former_usable(text: str, min_chars: int) -> bool:
    """``ingest.text.pdf._usable`` as it was, verbatim."""
    visible = _FORMER_WHITESPACE_RE.sub("", text)
    if len(visible) < min_chars:
        return False
    bad = len(_GARBAGE_RE.findall(visible))
    return bad <= _GARBAGE_MAX * len(visible)


def test_str_split_cuts_at_exactly_the_characters_the_whitespace_pattern_matches() -> None:
    every = [chr(c) for c in range(sys.maxunicode + 1)]
    assert [c for c in every if c.isspace()] == [c for c in every if _FORMER_WHITESPACE_RE.fullmatch(c)]


@settings(max_examples=600, deadline=None)
@given(_CLEAN_OR_NOT, st.integers(min_value=0, max_value=40))
def test_a_page_is_judged_usable_as_before(text: str, min_chars: int) -> None:
    assert _usable(text, min_chars) is _former_usable(text, min_chars)


def test_a_real_looking_page_is_judged_usable_as_before() -> None:
    garbled = PAGE.replace("ộ", "\ufffd").replace("ạ", "\ue001")
    for page in (PAGE, garbled, " \u00a0\u2003\n" * 30, "\ufffd" * 30, "a b" * 7):
        for min_chars in (0, 20, 200):
            assert _usable(page, min_chars) is _former_usable(page, min_chars)
