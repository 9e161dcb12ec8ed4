"""The ranking plan (search.ranking) and its effect on both backends (issue 11)."""

from __future__ import annotations

import pytest

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, parse_query
from search.ranking import DEFAULT_RANKING, MAX_TOKEN_CHARS, Ranking, plan

AUDITOR = Principal("kiem-tra", everything=True)
BEFORE = DEFAULT_RANKING.with_(pairs_across_question_words=False)


def test_pairs_are_formed_on_the_question_as_written_not_on_what_is_left():
    words = parse_query("Trách nhiệm của cá nhân là gì?", AUDITOR).terms
    p = plan(words)
    assert p is not None
    # question words are not searched on their own ...
    assert [t.exact for t in p.terms] == ["trách", "nhiệm", "cá", "nhân"]
    assert [t.folded for t in p.terms] == ["trach", "nhiem", "ca", "nhan"]
    # ... but the pairs are the ones the question has, never a pair nobody wrote
    assert p.pairs == (("trach", "nhiem"), ("nhiem", "cua"), ("cua", "ca"), ("ca", "nhan"),
                       ("nhan", "la"), ("la", "gi"))
    assert ("nhiem", "ca") not in p.pairs
    # the ranking before issue 11 paired what was left once question words were dropped
    old = plan(words, BEFORE)
    assert old is not None and ("nhiem", "ca") in old.pairs and ("cua", "ca") not in old.pairs


def test_plan_weights_follow_the_ranking_and_short_queries_require_every_word():
    short = plan(("hồ", "sơ", "lưu", "trữ"))
    assert short is not None and short.required
    assert {(t.exact_weight, t.folded_weight) for t in short.terms} == {
        (DEFAULT_RANKING.exact_weight, DEFAULT_RANKING.required_weight)}
    long_words = parse_query("người phạm tội chưa thành niên bị phạt tù bao nhiêu năm",
                             AUDITOR).terms
    long = plan(long_words, Ranking(exact_weight=3.0, pair_boost=4.0))
    assert long is not None and not long.required
    assert {t.exact_weight for t in long.terms} == {3.0}
    assert {t.folded_weight for t in long.terms} == {1.0}
    assert long.pair_weight == 4.0 and long.windows == ()
    near = plan(long_words, DEFAULT_RANKING.with_(proximity_boost=0.5, proximity_window=3))
    assert near is not None and near.windows[0] == ("nguoi", "pham", "toi")
    assert all(len(w) == 3 for w in near.windows) and near.window_weight == 0.5


def test_plan_of_nothing_searchable_is_none_and_blobs_are_skipped():
    assert plan(()) is None
    assert plan(("?!",)) is None
    p = plan(("a" * (MAX_TOKEN_CHARS + 1), "lưu"))
    assert p is not None and [t.exact for t in p.terms] == ["lưu"]
    # a query made only of question words keeps them (the user meant them)
    only = plan(("là", "gì"))
    assert only is not None and [t.exact for t in only.terms] == ["là", "gì"]


_DOCS = [
    # The article that answers the question, in a longer text ...
    IndexDocument(
        id="answer", version=1, direction="di", title="Điều 9. Trách nhiệm",
        text="Trách nhiệm của cá nhân, tổ chức trong việc lập hồ sơ, giao nộp hồ sơ, tài liệu "
             "vào lưu trữ cơ quan được quy định tại Điều này và các văn bản hướng dẫn.",
    ),
    # ... and a short one with the same words, not in the question's order.
    IndexDocument(
        id="scattered", version=1, direction="di", title="Điều 3. Cá nhân",
        text="Cá nhân có trách nhiệm báo cáo của tổ chức.",
    ),
]


@pytest.mark.parametrize("typed", ["Trách nhiệm của cá nhân là gì?",
                                   "Trach nhiem cua ca nhan la gi?"])
def test_the_question_word_order_ranks_the_answer_first_on_both_backends(
    backend: SearchBackend, typed: str
):
    backend.index(_DOCS)
    query = parse_query(typed, AUDITOR, highlight=False)
    assert backend.search(query).ids[:2] == ["answer", "scattered"]
    # without the pairs that hold a question word ("nhiệm của", "của cá") the shorter
    # document won: the case this change is for
    backend.ranking = BEFORE  # type: ignore[attr-defined]
    assert backend.search(query).ids[:2] == ["scattered", "answer"]
