"""Steady-state CPU per document of one bulk worker and its verification worker, in process,
code trees interleaved (each run a fresh interpreter of that tree's venv).

    .venv/bin/python bench/m20_steady_cpu.py --tree /tmp/base-m20 --tree . [--count 160] [--rounds 3]

Each run: ``bulk.preload()``, ``bulk._init_worker`` (the pipeline a forked pool worker opens,
with its verification worker), one warm chunk of 16 documents of the cached ``signed-*x3``
corpus (what ``bench/bench_ingest.py --only a`` makes), then ``--count`` documents through
``bulk._ingest_chunk`` in chunks of 16 (index commit included). Prints the worker's own CPU
(``time.process_time``) and its children's (the verification worker: ``/proc/PID/stat``) per
document over the measured chunks: the bulk and verify roles of ``bench/m12_ingest_cpu.py``
without the pool, the start-up and the tail.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kho-bench"
CHUNK = 16

CHILD = r"""
import json, os, sys, tempfile, time, logging
import atexit, shutil
def _scratch(**options):
    folder = tempfile.mkdtemp(**options)
    atexit.register(shutil.rmtree, folder, True)
    return folder
from pathlib import Path
folder, count = Path(sys.argv[1]), int(sys.argv[2])
tmp = _scratch(prefix="m20-steady-")
os.environ.update(KHO_DATA_DIR=tmp, KHO_TRUST_DIR=str(folder / "trust"), KHO_FSYNC="false",
                  KHO_BROKER_URL="", KHO_TIKA_URL="")
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
from ingest import bulk
from ingest.source_files import identity
from kho.config import Settings
TICK = os.sysconf("SC_CLK_TCK")

def children_cpu():
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                raw = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total

bulk.preload(Settings.from_env())
bulk._init_worker("den")
paths = sorted(folder.glob("signed-*.pdf"))[: 16 + count]
items = [(str(p), p.name, identity(p)) for p in paths]
bulk._ingest_chunk(items[:16])
cpu, kids, wall = time.process_time(), children_cpu(), time.monotonic()
done = 0
for i in range(16, len(items), 16):
    for _, item in bulk._ingest_chunk(items[i:i + 16]):
        done += item.state == "xong"
cpu, kids, wall = time.process_time() - cpu, children_cpu() - kids, time.monotonic() - wall
print(json.dumps({"bulk_ms": 1000 * cpu / count, "verify_ms": 1000 * kids / count,
                  "wall_ms": 1000 * wall / count, "done": done}))
"""


def run(tree: Path, folder: Path, count: int) -> dict[str, float]:
    python = tree / ".venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [str(python), "-c", CHILD, str(folder), str(count)], env=env, cwd=tree, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, required=True)
    parser.add_argument("--count", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [n for n in (200, 1000) if n >= args.count + CHUNK and (CACHE / f"signed-{n}x3").is_dir()]
    folder = CACHE / f"signed-{sizes[0]}x3"
    figures: dict[Path, list[dict[str, float]]] = {tree: [] for tree in args.tree}
    for round_no in range(1, args.rounds + 1):
        for tree in args.tree:
            load = os.getloadavg()[0]
            result = run(tree.resolve(), folder, args.count)
            figures[tree].append(result)
            print(
                f"round {round_no} {tree}: bulk {result['bulk_ms']:.2f} verify {result['verify_ms']:.2f}"
                f" wall {result['wall_ms']:.2f} ms/doc, {result['done']:.0f} done,"
                f" load {load:.1f} at {time.strftime('%H:%M:%S', time.gmtime())}",
                flush=True,
            )
    for tree, rows in figures.items():
        parts = []
        for role in ("bulk_ms", "verify_ms"):
            values = [row[role] for row in rows]
            parts.append(f"{role[:-3]} {min(values):.2f} / {statistics.median(values):.2f}")
        print(f"{tree}: min / median ms/doc: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
