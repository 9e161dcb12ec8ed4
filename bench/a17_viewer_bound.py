"""a17: the viewer's page image of an oversized page, before (``--base``, a ``git archive main``
tree) and after (this tree), interleaved: each measurement in its own interpreter with that
side's code first on ``sys.path``; CPU seconds, wall seconds and peak RSS of the render, and the
PNG's pixel size. Min / median of ``--repeat`` rounds.

    .venv/bin/python bench/a17_viewer_bound.py --base /tmp/base-a17
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
import io, json, resource, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/tests/support")
from pdf_objects import pdf_from_objects
from PIL import Image
from web.pages.document_view import render_page
w, h = int(sys.argv[2]), int(sys.argv[3])
pdf = pdf_from_objects([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (w, h)])
cpu, wall = time.process_time(), time.perf_counter()
png = render_page(pdf, 1)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
size = Image.open(io.BytesIO(png)).size
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"cpu": cpu, "wall": wall, "rss_mb": rss, "pixels": size, "file": len(pdf)}))
"""
PAGES = {"A4 (595x842 pt)": (595, 842), "200x42 in (14400x3000 pt)": (14400, 3000)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sides = {"before": args.base, "after": str(HERE)}
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeat):
        for page, (w, h) in PAGES.items():
            for side, root in sides.items():
                out = subprocess.run([sys.executable, "-c", CHILD, root, str(w), str(h)],
                                     capture_output=True, text=True, check=True)
                runs.setdefault((page, side), []).append(json.loads(out.stdout))
    for (page, side), rs in runs.items():
        cpu = sorted(r["cpu"] for r in rs)
        wall = sorted(r["wall"] for r in rs)
        print(f"{page:28} {side:6} file {rs[0]['file']} B  px {rs[0]['pixels'][0]}x{rs[0]['pixels'][1]}"
              f"  CPU min/med {cpu[0]:.3f}/{statistics.median(cpu):.3f} s"
              f"  wall min/med {wall[0]:.3f}/{statistics.median(wall):.3f} s"
              f"  peak RSS {max(r['rss_mb'] for r in rs)} MB")


if __name__ == "__main__":
    main()
