"""Retrieval quality of the search backend: MRR@10 and Recall@10, as written and stripped, on the
whole question set, as a k-fold held-out estimate, and on noisy rewrites of the questions.

    .venv/bin/python bench/eval_search.py CORPUS QUERIES QRELS [--url ES_URL] [--k 10]
        [--folds 5] [--seed 11] [--grid small|none]

The embedded index is always evaluated; with ``--url`` Elasticsearch too, on the same questions,
and both are printed (its alias is ``KHO_ELASTICSEARCH_INDEX``, dropped afterwards).

CORPUS: JSONL ``{"id","title","text"}``; QUERIES: JSONL ``{"id","text"}``; QRELS: TSV
``query_id<TAB>doc_id<TAB>relevance`` (relevance > 0 counts). Each question is searched through
the public query path (:func:`search.query.parse_query` with an auditor principal, so nothing
is hidden) in three forms: as written; with every diacritic stripped (``đ`` → ``d``); and
*noisy* — a seeded rewrite standing in for questions written by other people: a common question
frame ("theo quy định của pháp luật", "là gì", "bao nhiêu", "có được không", …) removed when the
question has one, appended when it has none, then the diacritics of a random half of the words
stripped.

Figures printed per backend:

- ``baseline``: the ranking before issue 11 (:data:`BASELINE`), on every question;
- ``default``: :data:`search.ranking.DEFAULT_RANKING`, on every question (the defaults were
  chosen on these very questions: an optimistic figure);
- ``held-out``: the honest estimate. The questions are split into ``--folds`` seeded folds; for
  each fold, the configuration of the grid (:func:`grid`) with the best mean MRR@10 (as written
  and stripped together) on the other folds is chosen and scored on that fold only; the mean
  over folds is printed, with which configurations were chosen. The baseline's fold mean is the
  "before" held-out figure (nothing tuned);
- ``latency``: the baseline and the default ranking on the same questions, interleaved.

Results and what was tried: ``bench/NOTES-issue11-search-quality.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search import open_backend
from search.analysis import fold, normalize
from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, parse_query
from search.ranking import DEFAULT_RANKING, Ranking

AUDITOR = Principal("eval", everything=True)

BASELINE = Ranking(
    exact_weight=2.0, required_weight=2.0, pair_boost=3.0,
    pairs_across_question_words=False, proximity_boost=0.0, proximity_window=3,
    proximity_slop=2, all_terms_up_to=5,
)
"""The ranking of the embedded index and Elasticsearch before issue 11."""

FRAMES = (
    "theo quy định của pháp luật", "theo quy định hiện hành", "là gì", "bao nhiêu",
    "có được không", "như thế nào", "hãy cho biết", "trong trường hợp nào",
)
"""Question frames people add or leave out (the noisy variant)."""

VARIANTS = ("as written", "stripped", "noisy")


def load_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_qrels(path: Path) -> dict[str, set[str]]:
    rel: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].strip() not in ("", "0") and parts[0] != "query_id":
                rel[parts[0]].add(parts[1])
    return rel


def noisy(text: str, rng: random.Random) -> str:
    """A rewrite of one question: a frame removed or appended, half the words stripped."""
    norm = normalize(text)  # one character per character of the NFC text: same offsets
    text = normalize(text) if len(norm) != len(text) else text
    present = [f for f in FRAMES if f in norm]
    if present:
        frame = rng.choice(present)
        start = norm.index(frame)
        text = text[:start] + text[start + len(frame):]
    else:
        text = re.sub(r"[?.\s]+$", "", text) + " " + rng.choice(FRAMES) + "?"
    words = text.split()
    for i in rng.sample(range(len(words)), len(words) // 2):
        words[i] = fold(words[i])
    return " ".join(words)


@dataclass(frozen=True)
class Scores:
    """Per question (in the order of the judged questions): reciprocal rank, recall."""

    rr: tuple[float, ...]
    recall: tuple[float, ...]


def run(
    backend: SearchBackend, texts: Sequence[str], relevant: Sequence[set[str]], k: int
) -> Scores:
    rr: list[float] = []
    recall: list[float] = []
    for text, rel in zip(texts, relevant, strict=True):
        query = parse_query(text[:1000], AUDITOR, page_size=k, facets=(), highlight=False)
        ranked = backend.search(query).ids
        rr.append(next((1 / r for r, d in enumerate(ranked, 1) if d in rel), 0.0))
        recall.append(len(rel.intersection(ranked)) / len(rel))
    return Scores(tuple(rr), tuple(recall))


def grid(kind: str) -> list[Ranking]:
    """The configurations the k-fold estimate chooses among (the baseline and the default
    always included). Small on purpose: the more knobs tried, the more a choice overfits."""
    out = [BASELINE, DEFAULT_RANKING]
    if kind == "small":
        for pairs_across in (False, True):
            for exact in (2.0, 3.0):
                for proximity in (0.0, 0.5):
                    out.append(BASELINE.with_(
                        exact_weight=exact, pairs_across_question_words=pairs_across,
                        proximity_boost=proximity,
                    ))
    return list(dict.fromkeys(out))


def latency(backend: SearchBackend, texts: Sequence[str], k: int, rounds: int) -> None:
    """p50/p95/p99 of the baseline and the default ranking, each question searched with both
    one after the other (order alternating per round) so the machine's load hits both alike."""
    times: dict[str, list[float]] = {"baseline": [], "default": []}
    both = [("baseline", BASELINE), ("default", DEFAULT_RANKING)]
    for round_ in range(rounds):
        for text in texts:
            query = parse_query(text[:1000], AUDITOR, page_size=k, facets=(), highlight=False)
            for name, ranking in both if round_ % 2 == 0 else both[::-1]:
                backend.ranking = ranking  # type: ignore[attr-defined]
                started = time.perf_counter()
                backend.search(query)
                times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        values.sort()
        n = len(values)
        print(f"  latency {name:8s} n={n} p50 {values[n // 2] * 1000:.2f} ms  "
              f"p95 {values[int(n * 0.95)] * 1000:.2f} ms  p99 {values[int(n * 0.99)] * 1000:.2f} ms"
              f"  mean {mean(values) * 1000:.2f} ms")


def describe(ranking: Ranking) -> str:
    if ranking == BASELINE:
        return "baseline"
    changed = [f"{f.name}={getattr(ranking, f.name)}" for f in fields(Ranking)
               if getattr(ranking, f.name) != getattr(BASELINE, f.name)]
    return ", ".join(changed) or "baseline"


def mean(values: Sequence[float]) -> float:
    return sum(values) / max(len(values), 1)


def folds_of(n: int, folds: int, seed: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[i::folds]) for i in range(folds)]


def held_out(
    table: dict[Ranking, dict[str, Scores]], parts: list[list[int]]
) -> tuple[dict[str, tuple[float, float]], Counter[Ranking]]:
    """Mean over folds of the scores of the configuration chosen on the other folds."""
    totals: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    chosen: Counter[Ranking] = Counter()
    for i, test in enumerate(parts):
        train = [q for j, part in enumerate(parts) if j != i for q in part]

        def objective(ranking: Ranking, train: list[int] = train) -> float:
            scores = table[ranking]
            return mean([(scores["as written"].rr[q] + scores["stripped"].rr[q]) / 2
                         for q in train])

        # Ties go to the earlier configuration (the baseline first): no change without gain.
        best = max(table, key=objective)
        chosen[best] += 1
        for variant in VARIANTS:
            s = table[best][variant]
            totals[variant].append((mean([s.rr[q] for q in test]),
                                    mean([s.recall[q] for q in test])))
    return {v: (statistics.mean(a for a, _ in t), statistics.mean(b for _, b in t))
            for v, t in totals.items()}, chosen


def fold_mean(scores: dict[str, Scores], parts: list[list[int]]) -> dict[str, tuple[float, float]]:
    return {v: (statistics.mean(mean([scores[v].rr[q] for q in p]) for p in parts),
                statistics.mean(mean([scores[v].recall[q] for q in p]) for p in parts))
            for v in VARIANTS}


def line(label: str, figures: dict[str, tuple[float, float]], k: int) -> str:
    cells = "  ".join(f"{v}: MRR@{k} {figures[v][0]:.4f} R@{k} {figures[v][1]:.4f}"
                      for v in VARIANTS)
    return f"  {label:28s} {cells}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("qrels", type=Path)
    parser.add_argument("--url", help="Elasticsearch URL (default: a temporary embedded index)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11, help="folds and noisy rewrites")
    parser.add_argument("--grid", choices=("small", "none"), default="small",
                        help="configurations the held-out estimate chooses among")
    parser.add_argument("--latency-rounds", type=int, default=2,
                        help="rounds of the baseline/default latency comparison (0: none)")
    args = parser.parse_args()

    corpus = load_jsonl(args.corpus)
    qrels = load_qrels(args.qrels)
    judged = [q for q in load_jsonl(args.queries) if qrels.get(q["id"])]
    relevant = [qrels[q["id"]] for q in judged]
    rng = random.Random(args.seed)
    texts = {
        "as written": [q["text"] for q in judged],
        "stripped": [fold(q["text"]) for q in judged],
        "noisy": [noisy(q["text"], rng) for q in judged],
    }
    parts = folds_of(len(judged), args.folds, args.seed)
    configs = grid(args.grid)
    print(f"{len(judged)} judged questions, {len(corpus)} documents, {args.folds} folds "
          f"(seed {args.seed}), {len(configs)} configurations")
    with tempfile.TemporaryDirectory() as tmp:
        for target in [tmp, *([args.url] if args.url else [])]:
            backend = open_backend(target)
            started = time.perf_counter()
            rebuild = backend.begin_rebuild()
            batch = [
                IndexDocument(id=d["id"], version=1, direction="di", title=d.get("title", ""),
                              text=d.get("text", ""))
                for d in corpus
            ]
            for i in range(0, len(batch), 500):
                rebuild.index(batch[i : i + 500])
            rebuild.commit()
            print(f"{backend.name}: indexed {len(corpus)} documents in "
                  f"{time.perf_counter() - started:.1f} s")
            table: dict[Ranking, dict[str, Scores]] = {}
            timing: dict[Ranking, float] = {}
            for ranking in configs:
                backend.ranking = ranking  # type: ignore[attr-defined]
                started = time.perf_counter()
                table[ranking] = {v: run(backend, texts[v], relevant, args.k) for v in VARIANTS}
                timing[ranking] = (time.perf_counter() - started) / (len(judged) * len(VARIANTS))
            whole = {r: {v: (mean(s[v].rr), mean(s[v].recall)) for v in VARIANTS}
                     for r, s in table.items()}
            print(line("baseline, all questions", whole[BASELINE], args.k)
                  + f"  ({timing[BASELINE] * 1000:.1f} ms/query)")
            print(line("default, all questions", whole[DEFAULT_RANKING], args.k)
                  + f"  ({timing[DEFAULT_RANKING] * 1000:.1f} ms/query)")
            print(line("baseline, k-fold mean", fold_mean(table[BASELINE], parts), args.k))
            print(line("default, k-fold mean", fold_mean(table[DEFAULT_RANKING], parts), args.k))
            if len(configs) > 2:
                estimate, chosen = held_out(table, parts)
                print(line("tuned on k-1, held-out mean", estimate, args.k))
                for ranking, times in chosen.most_common():
                    print(f"    chosen in {times} fold(s): {describe(ranking)}")
                best = max(table, key=lambda r: (whole[r]["as written"][0]
                                                 + whole[r]["stripped"][0]) / 2)
                print(f"    best on all questions: {describe(best)}")
                print(line("  its figures", whole[best], args.k))
            print(f"    default: {describe(DEFAULT_RANKING)}")
            if args.latency_rounds:
                latency(backend, texts["as written"], args.k, args.latency_rounds)
            drop = getattr(backend, "drop_all", None)
            if drop is not None:
                drop()
            backend.close()


if __name__ == "__main__":
    main()
