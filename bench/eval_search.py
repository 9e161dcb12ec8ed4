"""Retrieval quality of the search backend: MRR@10 and Recall@10, as written and stripped.

    .venv/bin/python bench/eval_search.py CORPUS QUERIES QRELS [--url ES_URL] [--k 10]

The embedded index is always evaluated; with ``--url`` Elasticsearch too, on the same questions,
and both are printed (its alias is ``KHO_ELASTICSEARCH_INDEX``, dropped afterwards).

CORPUS: JSONL ``{"id","title","text"}``; QUERIES: JSONL ``{"id","text"}``; QRELS: TSV
``query_id<TAB>doc_id<TAB>relevance`` (relevance > 0 counts). Each question is searched through
the public query path (:func:`search.query.parse_query` with an auditor principal, so nothing
is hidden), once as written and once with every diacritic stripped (``đ`` → ``d``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search import open_backend
from search.analysis import fold
from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, parse_query

AUDITOR = Principal("eval", everything=True)


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


def evaluate(
    backend: SearchBackend,
    queries: list[dict[str, str]],
    qrels: dict[str, set[str]],
    k: int,
    strip: bool,
) -> tuple[float, float, float]:
    mrr = recall = 0.0
    judged = 0
    started = time.perf_counter()
    for q in queries:
        relevant = qrels.get(q["id"])
        if not relevant:
            continue
        judged += 1
        text = fold(q["text"]) if strip else q["text"]
        query = parse_query(text[:1000], AUDITOR, page_size=k, facets=(), highlight=False)
        ranked = backend.search(query).ids
        for rank, doc_id in enumerate(ranked, 1):
            if doc_id in relevant:
                mrr += 1 / rank
                break
        recall += len(relevant.intersection(ranked)) / len(relevant)
    elapsed = time.perf_counter() - started
    return mrr / max(judged, 1), recall / max(judged, 1), elapsed / max(judged, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("qrels", type=Path)
    parser.add_argument("--url", help="Elasticsearch URL (default: a temporary embedded index)")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    corpus = load_jsonl(args.corpus)
    queries = load_jsonl(args.queries)
    qrels = load_qrels(args.qrels)
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
            for label, strip in (("as written", False), ("diacritics stripped", True)):
                mrr, rec, per_query = evaluate(backend, queries, qrels, args.k, strip)
                print(f"  {label:20s} MRR@{args.k} {mrr:.4f}  Recall@{args.k} {rec:.4f}  "
                      f"({per_query * 1000:.1f} ms/query, {len(queries)} queries)")
            drop = getattr(backend, "drop_all", None)
            if drop is not None:
                drop()
            backend.close()


if __name__ == "__main__":
    main()
