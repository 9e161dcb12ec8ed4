"""How free-text words are weighed: one plan, translated by each backend (pure, no I/O).

:func:`plan` turns the words of a :class:`search.query.Query` into a :class:`TextPlan` — which
syllables are searched (exact and folded forms), which adjacent pairs add a bonus, which short
windows of the question add a proximity bonus, and the weight of each — under the knobs of a
:class:`Ranking`. The embedded backend builds Tantivy queries from the plan and the
Elasticsearch backend builds the equivalent query DSL (``term`` for a term, ``match_phrase``
with ``slop`` for a window), so both backends score the same BM25 terms with the same boosts.

The defaults were chosen with ``bench/eval_search.py``, which also reports a k-fold held-out
estimate of choosing them (every knob picked on four fifths of the questions, scored on the
fifth) and a noisy-question variant; see the notes printed there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from search.analysis import QUESTION_WORDS, fold, normalize, syllables

MAX_TOKEN_CHARS = 100
"""Longer letter/digit runs (encoded blobs in extracted text) are not indexed nor searched."""


@dataclass(frozen=True)
class Ranking:
    """Query-time weights (no reindex needed to change them)."""

    exact_weight: float = 2.0
    """Weight of a match with the diacritics as typed (a folded match weighs 1)."""
    required_weight: float = 2.0
    """Weight of each folded word when every word is required (short queries)."""
    pair_boost: float = 3.0
    """Two adjacent query syllables found side by side (compound words, word order)."""
    pairs_across_question_words: bool = True
    """Form pairs on the question as written (question words included) rather than on the
    words left once question words are dropped: "trách nhiệm của cá nhân" then gives
    "trách nhiệm", "nhiệm của", "của cá", "cá nhân" instead of the made-up "nhiệm cá", and
    compound words holding a question word ("có thẩm quyền", "được hưởng") keep their pair.
    (Issue 11: MRR@10 0.914 → 0.940 as written, 0.909 → 0.939 stripped, both backends.)"""
    proximity_boost: float = 0.0
    """Bonus for ``proximity_window`` consecutive content words found within ``proximity_slop``
    extra positions of each other (0 = off)."""
    proximity_window: int = 3
    proximity_slop: int = 2
    all_terms_up_to: int = 5
    """Queries of up to this many distinct words (after question words) need every word, like a
    search box; longer ones (questions, pasted text) rank documents by any of their words."""

    def with_(self, **changes: float | int | bool) -> Ranking:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_RANKING = Ranking()


@dataclass(frozen=True)
class Term:
    exact: str
    """Normalised syllable (diacritics as typed)."""
    folded: str
    exact_weight: float
    folded_weight: float


@dataclass(frozen=True)
class TextPlan:
    terms: tuple[Term, ...]
    required: bool
    """Every term's folded form is required (else any term matches)."""
    pairs: tuple[tuple[str, str], ...]
    """Folded adjacent syllable pairs, each weighing :attr:`pair_weight`."""
    pair_weight: float
    windows: tuple[tuple[str, ...], ...]
    """Folded runs of consecutive content words, each a sloppy phrase of :attr:`slop`."""
    window_weight: float
    slop: int


def _content(tokens: list[str]) -> list[str]:
    kept = [t for t in tokens if fold(t) not in QUESTION_WORDS]
    return kept or tokens


def plan(words: tuple[str, ...] | list[str], ranking: Ranking = DEFAULT_RANKING) -> TextPlan | None:
    """The weighted terms of the free-text words of a query; None when there are none.

    Question words (:data:`search.analysis.QUESTION_WORDS`) are dropped from the searched terms
    unless the query has nothing else; they never leave the index.
    """
    tokens = [t for t in syllables(normalize(" ".join(words))) if len(t) <= MAX_TOKEN_CHARS]
    if not tokens:
        return None
    content = _content(tokens)
    distinct = list(dict.fromkeys(content))
    required = len(distinct) <= ranking.all_terms_up_to
    exact_weight = ranking.exact_weight
    folded_weight = ranking.required_weight if required else 1.0
    terms = tuple(Term(t, fold(t), exact_weight, folded_weight) for t in distinct)
    source = tokens if ranking.pairs_across_question_words else content
    folded_source = [fold(t) for t in source]
    pairs = tuple(dict.fromkeys(itertools.pairwise(folded_source)))
    windows: tuple[tuple[str, ...], ...] = ()
    size = ranking.proximity_window
    folded_content = [fold(t) for t in content]
    if ranking.proximity_boost > 0 and size >= 2 and len(folded_content) >= size:
        windows = tuple(dict.fromkeys(
            tuple(folded_content[i : i + size]) for i in range(len(folded_content) - size + 1)
        ))
    return TextPlan(
        terms=terms, required=required, pairs=pairs, pair_weight=ranking.pair_boost,
        windows=windows, window_weight=ranking.proximity_boost, slop=ranking.proximity_slop,
    )
