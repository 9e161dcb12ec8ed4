"""a17: the cost of reading the PDF text layer in a bounded forked child (``ingest.text.box``):
``extract_text`` over the shared PDF corpus (OCR off: the text layer only), before (``--base``,
a ``git archive main`` tree) and after (this tree), interleaved, each run in its own interpreter
with its side's code first on ``sys.path``. CPU is this process's plus its children's (the box).
Min / median of ``--repeat`` rounds.

    .venv/bin/python bench/a17_text_box.py --base /tmp/base-a17
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
from ingest.text.extractor import extract_text
from ingest.text.settings import TextSettings
from kho.errors import KhoError
settings = TextSettings(ocr_enabled=False)
files = sorted(Path(sys.argv[2]).glob("*.pdf"))
datas = [(f.name, f.read_bytes()) for f in files]
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
c0, w0 = cpu(), time.perf_counter()
codes = {}
for name, data in datas:
    try:
        codes[name] = len(extract_text(data, name, settings=settings).text)
    except KhoError as exc:
        codes[name] = exc.code
print(json.dumps({"cpu": cpu() - c0, "wall": time.perf_counter() - w0, "files": len(datas), "out": codes}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--corpus", default=os.path.join(
        os.environ.get("KHO_SHARED_DIR", "/work/shared"), "corpora", "pdf"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sides = {"before": args.base, "after": str(HERE)}
    runs: dict[str, list[dict]] = {}
    for _ in range(args.repeat):
        for side, root in sides.items():
            out = subprocess.run([sys.executable, "-c", CHILD, root, args.corpus],
                                 capture_output=True, text=True, check=True)
            runs.setdefault(side, []).append(json.loads(out.stdout))
    same = runs["before"][0]["out"] == runs["after"][0]["out"]
    for side, rs in runs.items():
        cpu = sorted(r["cpu"] for r in rs)
        wall = sorted(r["wall"] for r in rs)
        print(f"{side:6} {rs[0]['files']} PDFs  CPU (self+children) min/med"
              f" {cpu[0]:.3f}/{statistics.median(cpu):.3f} s"
              f"  wall min/med {wall[0]:.3f}/{statistics.median(wall):.3f} s")
    print("same text lengths and codes on both sides:", same)


if __name__ == "__main__":
    main()
