"""Where a 2-worker ingest spends CPU beside 1 worker: the bench tree and the rest of the machine.

    .venv/bin/python bench/m13_two_workers.py [--tree .] [--workers 1 2] [--rounds 3] [--count 200]

Runs ``bench/bench_ingest.py --only a`` of ``--tree`` (``PYTHONPATH`` = that tree) under
``perf stat`` (software events only: this KVM guest exposes no hardware counters, so cycles and
instructions read "not supported"), alternating the worker counts round by round. For each run
it prints docs/s, the CPU of the bench's process tree per document (``perf``'s task-clock,
inherited by every descendant, the orphaned verification/text workers included), its context
switches, CPU migrations and page faults per document, and from ``/proc/stat`` over the same
wall time: the machine's busy CPU, what of it was *not* the bench (other engineers, services),
the steal time of the hypervisor, and the idle share of the 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
EVENTS = "task-clock,context-switches,cpu-migrations,page-faults"


def _cpu_times() -> list[int]:
    # user nice system idle iowait irq softirq steal
    return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def run_once(tree: Path, workers: int, count: int) -> dict[str, float]:
    out_file = Path(f"/tmp/m13-perf-{os.getpid()}.csv")
    command = [
        "perf",
        "stat",
        "-x",
        ",",
        "-o",
        str(out_file),
        "-e",
        EVENTS,
        "--",
        sys.executable,
        str(tree / "bench" / "bench_ingest.py"),
        "--only",
        "a",
        "--count",
        str(count),
        "--workers",
        str(workers),
    ]
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = _cpu_times()
    start = time.perf_counter()
    out = subprocess.run(
        command, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ).stdout
    wall = time.perf_counter() - start
    after = _cpu_times()
    delta = [a - b for a, b in zip(after, before, strict=True)]
    counters: dict[str, float] = {}
    for line in out_file.read_text().splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0] and not line.startswith("#"):
            try:
                counters[parts[2]] = float(parts[0])
            except ValueError:
                pass
    out_file.unlink()
    rate = next(float(ln.split()[1]) for ln in out.splitlines() if ln.strip().startswith("throughput:"))
    tree_s = counters["task-clock"] / 1000  # msec
    busy_s = (delta[0] + delta[1] + delta[2] + delta[5] + delta[6]) / TICK
    return {
        "docs_per_s": rate,
        "tree_ms_per_doc": 1000 * tree_s / count,
        "ctx_per_doc": counters["context-switches"] / count,
        "migr_per_doc": counters["cpu-migrations"] / count,
        "faults_per_doc": counters["page-faults"] / count,
        "others_ms_per_doc": 1000 * max(0.0, busy_s - tree_s) / count,
        "steal_s": delta[7] / TICK,
        "idle_share": delta[3] / max(1, sum(delta)),
        "wall": wall,
        "load": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=Path("."))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    tree = args.tree.resolve()
    runs: dict[int, list[dict[str, float]]] = {w: [] for w in args.workers}
    for n in range(args.rounds):
        for w in args.workers:
            got = run_once(tree, w, args.count)
            runs[w].append(got)
            print(
                f"round {n + 1} workers {w}: " + " ".join(f"{k} {v:.2f}" for k, v in got.items()), flush=True
            )
    for w, got in runs.items():
        print(
            f"workers {w} min/median: "
            + " ".join(
                f"{k} {min(r[k] for r in got):.2f}/{statistics.median(r[k] for r in got):.2f}" for k in got[0]
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
