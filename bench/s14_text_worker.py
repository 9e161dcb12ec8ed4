"""s14: the text step's cost per PDF, three sides interleaved: main (in process, unbounded),
a17 (a forked child per call) and this tree (a pre-started worker of ``ingest.text.box``).

``extract_text`` over the shared PDF corpus (OCR off: the text layer only), each run in its own
interpreter with its side's code first on ``sys.path``. One warm-up extraction first on every
side (imports; here also the worker's start, reported apart as ``start``), then the corpus is
timed. CPU is the process's own, plus its reaped children (a17's forked children), plus the CPU
the live pool workers used meanwhile (``/proc/PID/schedstat``, read once they wait again).
Counts: processes started during the timed part. Min / median of ``--repeat`` rounds.

    .venv/bin/python bench/s14_text_worker.py --main /tmp/base-s14 --a17 /tmp/a17-s14
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ingest.text.extractor import extract_text
from ingest.text.settings import TextSettings
from kho.errors import KhoError
settings = TextSettings(ocr_enabled=False)
files = sorted(Path(sys.argv[2]).glob("*.pdf"))
datas = [(f.name, f.read_bytes()) for f in files]
try:
    from ingest.text import box
    pooled = hasattr(box, "pool")
except ImportError:
    pooled = False
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
def workers():
    if not pooled:
        return {}
    return box.pool("text", settings.text_layer_memory_mb).idle_worker_cpu()
c0, w0 = cpu(), time.perf_counter()
extract_text(datas[0][1], datas[0][0], settings=settings)  # warm-up (and the worker's start)
start = {"cpu": cpu() - c0 + sum(workers().values()), "wall": time.perf_counter() - w0}
before_workers = workers()
c0, w0 = cpu(), time.perf_counter()
codes = {}
for name, data in datas:
    try:
        codes[name] = len(extract_text(data, name, settings=settings).text)
    except KhoError as exc:
        codes[name] = exc.code
wall = time.perf_counter() - w0
mine = cpu() - c0
after_workers = workers()
in_workers = sum(after_workers.get(pid, 0.0) - before_workers.get(pid, 0.0) for pid in after_workers)
started = len(set(after_workers) - set(before_workers))
print(json.dumps({"cpu": mine + in_workers, "worker_cpu": in_workers, "wall": wall,
                  "files": len(datas), "out": codes, "start": start, "workers_started": started}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--main", required=True)
    parser.add_argument("--a17", required=True)
    parser.add_argument("--corpus", default=os.path.join(
        os.environ.get("KHO_SHARED_DIR", "/work/shared"), "corpora", "pdf"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sides = {"main": args.main, "a17": args.a17, "s14": str(HERE)}
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeat):
        for side, root in sides.items():
            out = subprocess.run([sys.executable, "-c", CHILD, root, args.corpus],
                                 capture_output=True, text=True, check=True, cwd=root)
            runs.setdefault(side, []).append(json.loads(out.stdout.strip().splitlines()[-1]))
    for side, rs in runs.items():
        n = rs[0]["files"]
        cpu = sorted(r["cpu"] for r in rs)
        wall = sorted(r["wall"] for r in rs)
        start_cpu = sorted(r["start"]["cpu"] for r in rs)
        start_wall = sorted(r["start"]["wall"] for r in rs)
        print(f"{side:5} {n} PDFs  CPU min/med {cpu[0]:.3f}/{statistics.median(cpu):.3f} s"
              f" ({1000 * cpu[0] / n:.1f}/{1000 * statistics.median(cpu) / n:.1f} ms/PDF)"
              f"  wall min/med {wall[0]:.3f}/{statistics.median(wall):.3f} s"
              f" ({1000 * wall[0] / n:.1f}/{1000 * statistics.median(wall) / n:.1f} ms/PDF)"
              f"  first call (imports, worker start) CPU med {statistics.median(start_cpu):.3f} s"
              f" wall med {statistics.median(start_wall):.3f} s"
              f"  of it in pool workers med {statistics.median(r['worker_cpu'] for r in rs):.3f} s"
              f"  workers started in the timed part: {[r['workers_started'] for r in rs]}")
    same = runs["main"][0]["out"] == runs["a17"][0]["out"] == runs["s14"][0]["out"]
    print("same text lengths and codes on all sides:", same)


if __name__ == "__main__":
    main()
