"""s10: how long a search waits, in the process that runs a destruction's ``purge_deleted``,
on the embedded backend; main (the text index rewritten in place under the readers' lock, a14)
against this tree (rewritten aside, then switched), interleaved.

One index of ``--docs`` documents (~1,500 characters of Vietnamese text each, written in
batches of 5,000 as a reindex does) with one document replaced by its "đã hủy" row is built once
(with this tree's code; the file format is the same on both sides) and copied for every run.
Each run is its own interpreter with its side's code first on ``sys.path``: a thread searches
in a loop (four queries in turn, facets on) while the main thread runs ``purge_deleted()``.
Printed per run: the purge's wall seconds and the process CPU seconds over it (the searching
thread included), the searches whose time overlaps the purge (count, latency p50 / p95 / max
in ms; on main the one that waited for the whole rewrite), and the hits of the destroyed word
right after the purge returns (must be 0). Each side also runs the purge alone (no searching
thread), for the purge's own time and CPU.

    git archive main | tar -x -C /tmp/base-s10
    .venv/bin/python bench/bench_purge_wait.py --base /tmp/base-s10 --docs 20000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD = r"""
import sys
from pathlib import Path
from search.embedded import EmbeddedBackend
n, where = int(sys.argv[1]), sys.argv[2]
sys.path.append(sys.argv[3])  # bench/, after the tree's code
from purge_corpus import corpus
docs, doc = corpus(n, kinds=True)
backend = EmbeddedBackend(Path(where))
for start in range(0, n, 5000):
    backend.index(docs[start:start + 5000])
backend.index([doc(n // 2, version=2, text="", title="(đã hủy)")])
backend.close()
"""

CHILD = r"""
import json, resource, statistics, sys, threading, time
from pathlib import Path
from search.embedded import EmbeddedBackend
from search.query import Principal, Query
where, searching_on = sys.argv[1], sys.argv[2] == "1"
SECRET = "thuốcnổbímật"
who = Principal("kt1", everything=True)
queries = [Query(principal=who, terms=t, facets=("loai_van_ban", "year"))
           for t in (("quyết định",), ("hồ sơ", "lưu trữ"), ("số",), ("kế hoạch", "tỉnh"))]
backend = EmbeddedBackend(Path(where))
for q in queries:
    backend.search(q)  # warm: the searcher and the facet paths are open before the purge
times = []  # (start, seconds)
stop = threading.Event()
def searching():
    i = 0
    while not stop.is_set():
        q = queries[i % len(queries)]
        i += 1
        t = time.perf_counter()
        assert backend.search(q).total > 0
        times.append((t, time.perf_counter() - t))
thread = threading.Thread(target=searching)
if searching_on:
    thread.start()
    time.sleep(0.3)
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
backend.purge_deleted()
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
secret_after = backend.search(Query(principal=who, terms=(SECRET,))).total
stop.set()
if searching_on:
    thread.join()
# every search whose time overlaps the purge (one that was running when it began included)
lat = sorted(d * 1000 for s, d in times if s <= t1 and s + d >= t0)
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(json.dumps({
    "purge_wall": t1 - t0,
    "purge_cpu": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
    "searches": len(lat), "p50": pct(0.5), "p95": pct(0.95), "max": lat[-1] if lat else float("nan"),
    "secret_after": secret_after,
}))
backend.close()
"""


def build(docs: int, where: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", BUILD, str(docs), str(where), str(ROOT / "bench")], cwd=ROOT,
                   env=env, check=True)


def run(code_root: Path, template: Path, searching: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="s10-wait-") as tmp:
        where = Path(tmp) / "index"
        shutil.copytree(template, where)
        env = {**os.environ, "PYTHONPATH": str(code_root)}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(where), "1" if searching else "0"],
            cwd=code_root, env=env, capture_output=True, text=True, check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="main unpacked (git archive)")
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sides = {"main": args.base, "s10": ROOT}
    got: dict[str, list[dict[str, float]]] = {k: [] for k in sides}
    alone: dict[str, list[dict[str, float]]] = {k: [] for k in sides}
    with tempfile.TemporaryDirectory(prefix="s10-template-") as tmp:
        template = Path(tmp) / "index"
        build(args.docs, template)
        for _ in range(args.rounds):
            for name, root in sides.items():
                figures = run(root, template, True)
                got[name].append(figures)
                print(name, json.dumps(figures), flush=True)
                figures = run(root, template, False)
                alone[name].append(figures)
                print(name, "alone", json.dumps(figures), flush=True)
    print(f"embedded, {args.docs} documents, {args.rounds} rounds, min / median of the rounds:")
    for name, rows in alone.items():
        walls, cpus = [r["purge_wall"] for r in rows], [r["purge_cpu"] for r in rows]
        print(f"  {name:5s} purge alone (no search running): wall {min(walls):.1f} /"
              f" {statistics.median(walls):.1f} s, cpu {min(cpus):.1f} / {statistics.median(cpus):.1f} s")
    for name, rows in got.items():
        def fig(key: str, rows: list[dict[str, float]] = rows) -> str:
            values = [r[key] for r in rows]
            return f"{min(values):.1f} / {statistics.median(values):.1f}"
        print(
            f"  {name:5s} purge wall {fig('purge_wall')} s, cpu {fig('purge_cpu')} s;"
            f" searches during it {fig('searches')}, latency p50 {fig('p50')} ms,"
            f" p95 {fig('p95')} ms, max {fig('max')} ms;"
            f" destroyed word's hits after: {sorted({int(r['secret_after']) for r in rows})}"
        )


if __name__ == "__main__":
    main()
