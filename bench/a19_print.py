"""a19: the print copy's cost per PDF, before (main: pypdf in the calling process) and after
(this tree: pypdf in the page images' bounded worker), interleaved.

``stamp_pdf`` over the shared PDF corpus, each side in its own interpreter with its tree first
on ``sys.path`` and as its working directory (so the worker it starts runs its own code). One
warm-up copy first (imports; after: the worker's start, reported apart), then the corpus is
timed. CPU = the process's own + its reaped children + the live pool workers' CPU meanwhile
(``/proc/PID/schedstat``). Also the output sizes (same on both sides) and the refusals.
Min / median of ``--repeat`` rounds.

    .venv/bin/python bench/a19_print.py --base /tmp/base-a19 [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from web.pages.document_view import stamp_pdf
from kho.errors import KhoError
files = sorted(Path(sys.argv[2]).glob("*.pdf"))
datas = [f.read_bytes() for f in files]
MARK = "In bởi Nguyễn Văn A lúc 05/12/2026 10:00"
def workers():
    try:
        from ingest.text import box
    except ImportError:
        return []
    pids = []
    for pool in getattr(box, "_pools", {}).values():
        for worker in list(getattr(pool, "_idle", [])):
            pids.append(worker.process.pid)
    return pids
def worker_cpu():
    total = 0
    for pid in workers():
        try:
            total += int(open(f"/proc/{pid}/schedstat").read().split()[0]) / 1e9
        except OSError:
            pass
    return total
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + worker_cpu()
c0, w0 = cpu(), time.perf_counter()
stamp_pdf(datas[0], MARK)
start_cpu, start_wall = cpu() - c0, time.perf_counter() - w0
c0, w0 = cpu(), time.perf_counter()
sizes, refused = [], []
for data in datas:
    try:
        sizes.append(len(stamp_pdf(data, MARK)))
    except KhoError as exc:
        refused.append(exc.code)
print(json.dumps({"cpu": cpu() - c0, "wall": time.perf_counter() - w0, "n": len(datas),
                  "start_cpu": start_cpu, "start_wall": start_wall, "bytes": sum(sizes),
                  "refused": sorted(refused)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, help="main extracted (git archive main)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=str(HERE.parent / "shared" / "corpora" / "pdf"))
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for side, tree in (("before", args.base), ("after", str(HERE))):
            done = subprocess.run([sys.executable, "-c", CHILD, tree, args.corpus], cwd=tree,
                                  capture_output=True, text=True, check=True)
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for side, found in runs.items():
        n = found[0]["n"]
        cpu = [r["cpu"] / n * 1000 for r in found]
        wall = [r["wall"] / n * 1000 for r in found]
        print(f"{side:6} CPU min/med per PDF {min(cpu):6.1f} / {statistics.median(cpu):6.1f} ms"
              f"   wall min/med {min(wall):6.1f} / {statistics.median(wall):6.1f} ms"
              f"   first copy {found[0]['start_wall']:.2f} s wall"
              f"   {n} PDFs, copies {found[0]['bytes']} B, refused {found[0]['refused']}")


if __name__ == "__main__":
    main()
