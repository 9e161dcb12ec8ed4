"""s14: the viewer's page image (``render_page``) on a17 (a forked child per image) and here (a
pool worker), interleaved, each side in its own interpreter; 20 images of page 1 of each of the
first 5 corpus PDFs after one warm-up image (which here starts the worker). CPU: the process,
its reaped children, and the live pool workers (``/proc``). Min / median of 3 rounds.

    .venv/bin/python bench/s14_view.py --a17 /tmp/a17-s14
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
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from web.pages.document_view import render_page
from ingest.text.settings import TextSettings
datas = [f.read_bytes() for f in sorted(Path(sys.argv[2]).glob("*.pdf"))[:5]]
try:
    from ingest.text import box
    pooled = hasattr(box, "pool")
except ImportError:
    pooled = False
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
def workers():
    return box.pool("view", TextSettings().view_memory_mb).idle_worker_cpu() if pooled else {}
render_page(datas[0], 1)
w_before = workers()
c0, w0 = cpu(), time.perf_counter()
sizes = [len(render_page(d, 1)) for _ in range(4) for d in datas]
wall = time.perf_counter() - w0
mine = cpu() - c0
w_after = workers()
print(json.dumps({"cpu": mine + sum(w_after.get(p, 0) - w_before.get(p, 0) for p in w_after),
                  "wall": wall, "images": len(sizes), "sizes": sizes[:5]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a17", required=True)
    parser.add_argument("--corpus", default=os.path.join(
        os.environ.get("KHO_SHARED_DIR", "/work/shared"), "corpora", "pdf"))
    args = parser.parse_args()
    sides = {"a17": args.a17, "s14": str(HERE)}
    runs: dict[str, list[dict]] = {}
    for _ in range(3):
        for side, root in sides.items():
            out = subprocess.run([sys.executable, "-c", CHILD, root, args.corpus],
                                 capture_output=True, text=True, check=True, cwd=root)
            runs.setdefault(side, []).append(json.loads(out.stdout.strip().splitlines()[-1]))
    for side, rs in runs.items():
        n = rs[0]["images"]
        cpu = sorted(1000 * r["cpu"] / n for r in rs)
        wall = sorted(1000 * r["wall"] / n for r in rs)
        print(f"{side}: {n} images, CPU min/med {cpu[0]:.1f}/{statistics.median(cpu):.1f} ms/image,"
              f" wall min/med {wall[0]:.1f}/{statistics.median(wall):.1f} ms/image")
    same = runs["a17"][0]["sizes"] == runs["s14"][0]["sizes"]
    print("same PNG lengths on both sides (the bytes: tests/text/test_pdf_text_worker.py):", same)


if __name__ == "__main__":
    main()
