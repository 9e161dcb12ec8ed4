"""a14: what ``purge_deleted`` (the last index step of a destruction or a recall) costs, before
(main) and after a14, interleaved, and whether the destroyed text is still in the index after it.

Embedded backend: an index of ``--docs`` documents (~1,500 characters of Vietnamese text each)
written in one batch (as a reindex writes it), one document replaced by its "đã hủy" row, then
``purge_deleted()``. Printed per side and round: the purge's wall and process CPU seconds, and
``doc_freq`` of the replaced document's own word afterwards (0 = nothing left; main leaves 2).
Each side runs in its own interpreter with its code first on ``sys.path``; sides alternate.

With ``--es`` (an Elasticsearch URL): the same on a fresh index of the real server, wall seconds
of the purge and the deleted copies of the word left (termvectors ``doc_freq``); after a14 the
purge waits for the shard's retention lease sync (up to 30 s).

    eval "$(bash scripts/services.sh env)"
    git archive main | tar -x -C /tmp/base-a14
    .venv/bin/python bench/a14_purge_cost.py --base /tmp/base-a14 --docs 5000
    .venv/bin/python bench/a14_purge_cost.py --base /tmp/base-a14 --docs 1000 \
        --es "$KHO_TEST_ELASTICSEARCH_URL"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, time, uuid
from pathlib import Path
from search.analysis import fold, normalize
n, where, es_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path.append(sys.argv[4])  # bench/, after the side's tree
from purge_corpus import SECRET, corpus
docs, doc = corpus(n)
if es_url:
    from search.elasticsearch import ElasticsearchBackend
    backend = ElasticsearchBackend(es_url, prefix=f"kho-bench-a14-{uuid.uuid4().hex[:8]}", refresh=True)
else:
    from search.embedded import EmbeddedBackend
    backend = EmbeddedBackend(Path(where) / "index")
try:
    for start in range(0, n, 5000):
        backend.index(docs[start:start + 5000])
    backend.index([doc(n // 2, version=2, text="", title="(đã hủy)")])
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    backend.purge_deleted()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if es_url:
        vec = backend.es.termvectors(index=backend.alias, doc={"text": SECRET}, term_statistics=True,
                                     fields=["text"]).body["term_vectors"]
        left = sum(t.get("doc_freq", 0) for f in vec.values() for t in f["terms"].values())
    else:
        idx = backend._live_writer(); idx.text.reload()
        left = idx.text.searcher().doc_freq("f", fold(normalize(SECRET)))
    print(json.dumps({"wall": wall, "cpu": cpu, "left": left}))
finally:
    if es_url:
        backend.drop_all()
    backend.close()
"""


def run(code_root: Path, docs: int, es: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="a14-purge-") as where:
        env = {**os.environ, "PYTHONPATH": str(code_root)}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(docs), where, es, str(ROOT / "bench")],
            cwd=code_root, env=env, capture_output=True, text=True, check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="main unpacked (git archive)")
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--es", default="", help="Elasticsearch URL (default: embedded)")
    args = parser.parse_args()
    sides = {"before": args.base, "after": ROOT}
    got: dict[str, list[dict[str, float]]] = {k: [] for k in sides}
    for _ in range(args.rounds):
        for name, root in sides.items():
            figures = run(root, args.docs, args.es)
            got[name].append(figures)
            print(name, json.dumps(figures), flush=True)
    backend = "elasticsearch" if args.es else "embedded"
    print(f"{backend}, {args.docs} documents, {args.rounds} rounds (min / median):")
    for name, rows in got.items():
        walls, cpus = [r["wall"] for r in rows], [r["cpu"] for r in rows]
        print(
            f"  {name:6s} wall {min(walls):.3f} / {statistics.median(walls):.3f} s,"
            f" cpu {min(cpus):.3f} / {statistics.median(cpus):.3f} s,"
            f" copies of the destroyed word left: {sorted({int(r['left']) for r in rows})}"
        )


if __name__ == "__main__":
    main()
