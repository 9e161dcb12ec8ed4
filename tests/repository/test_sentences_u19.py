"""kho.sentences: one rule for where a sentence of a message ends (branch u19)."""

from __future__ import annotations

import unicodedata

import pytest

from kho.sentences import clause, sentence, sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("đã ban hành.", "Đã ban hành."),
        ("đã ban hành..", "Đã ban hành."),
        ("  đã ban hành . . ", "Đã ban hành."),
        ("Hồ sơ không có văn bản", "Hồ sơ không có văn bản."),
        ("Có nộp lưu không?", "Có nộp lưu không?"),
        ("Dừng lại!", "Dừng lại!"),
        ("Chưa sửa: a, b …", "Chưa sửa: a, b …"),
        ("“kho fsck” chưa chạy", "“Kho fsck” chưa chạy."),
        ("12 tệp hỏng", "12 tệp hỏng."),
        ("", ""),
        ("  . ", ""),
    ],
)
def test_sentence_has_one_closing_stop_and_a_capital(text: str, expected: str) -> None:
    assert sentence(text) == expected


def test_clause_drops_closing_stops_only() -> None:
    assert clause(" tệp hỏng.. ") == "tệp hỏng"
    assert clause("v1.2 đã cũ") == "v1.2 đã cũ"
    assert clause("sao?") == "sao?"


def test_sentences_join_with_one_space_and_leave_out_empty_parts() -> None:
    joined = sentences("Hồ sơ 01.VP không có trong danh mục hồ sơ đã ban hành.", None, "", "hãy trả lại")
    assert joined == "Hồ sơ 01.VP không có trong danh mục hồ sơ đã ban hành. Hãy trả lại."
    assert ".." not in joined


def test_output_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "đã ban hành")
    assert sentence(decomposed) == unicodedata.normalize("NFC", "Đã ban hành.")
