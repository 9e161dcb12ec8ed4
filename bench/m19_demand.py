"""Where the two cores of a bulk ingest wait: runnable demand of the run's processes over time.

    .venv/bin/python bench/m19_demand.py --tree /tmp/base-m19 --tree . [--count 1000] [--rounds 1]

Runs ``bench/bench_ingest.py --only a --workers 2`` of each tree in turn (as
``bench/m12_ingest_cpu.py``, whose process roles it uses) and reads, every 50 ms, the
``/proc/<pid>/task/<tid>/schedstat`` of every thread of every descendant: time on a CPU and
time waiting on the run queue. Their sum over an interval, divided by its length, is the
number of the run's threads that wanted a core (its *demand*): on a loaded machine a thread
that waits for a core still counts, so the figure says what the run itself asks for, not what
the other helpers leave it. With 2 workers on 2 cores, every interval whose demand is under 2
is core time a quiet machine leaves idle: printed as core·s in each phase of the run:

* ``start`` — until the first verification worker has done any work (imports, the pool, the
  parent's preload and manifest, the first originals);
* ``steady`` — from then until the last verification worker stops working;
* ``tail`` — the rest (the last index flush, the pool's shutdown, the report).

Wall-clock phases stretch with the load; the idle core·s (demand under 2) is what counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from m12_ingest_cpu import (
    PR_SET_CHILD_SUBREAPER,
    ROLES,
    _cmdline,
    _role,
    all_processes,
    bench_command,
    descendants,
)

INTERVAL = 0.05


def _threads(pid: int) -> dict[int, int]:
    """CPU + run-queue nanoseconds of each thread of ``pid``."""
    out: dict[int, int] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            cpu, queued, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        out[int(tid)] = int(cpu) + int(queued)
    return out


def run_once(tree: Path, count: int, workers: int) -> list[tuple[float, dict[str, float]]]:
    """Samples (seconds since start, demand per role over the interval before it)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = bench_command(tree, count, workers)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[tuple[int, int], int] = {}
    roles: dict[int, str] = {}
    part_pids: set[int] = set()
    me = os.getpid()
    start = last = time.monotonic()
    samples: list[tuple[float, dict[str, float]]] = []
    while process.poll() is None:
        stats = all_processes()
        now = time.monotonic()
        demand = dict.fromkeys(ROLES, 0.0)
        for pid in descendants(stats, me):
            cmd = _cmdline(pid)
            if cmd:
                role = _role(cmd, stats[pid][0], part_pids)
                if role == "parent" and stats[pid][0] == process.pid:
                    part_pids.add(pid)
                roles[pid] = role
            for tid, ns in _threads(pid).items():
                before = seen.get((pid, tid))
                seen[(pid, tid)] = ns
                # a thread first seen: its time so far belongs to the interval it started in,
                # unknown here; counted from its second sample (loses < 50 ms each)
                if before is not None and pid in roles:
                    demand[roles[pid]] += (ns - before) / 1e9
        if now > last:
            samples.append((now - start, {r: v / (now - last) for r, v in demand.items()}))
        last = now
        time.sleep(INTERVAL)
    return samples


def summarise(samples: list[tuple[float, dict[str, float]]], cores: int) -> str:
    verify_times = [t for t, d in samples if d["verify"] > 0.05]
    first, end = (verify_times[0], verify_times[-1]) if verify_times else (0.0, 0.0)
    phases = {"start": 0.0, "steady": 0.0, "tail": 0.0}
    lengths = dict.fromkeys(phases, 0.0)
    previous = 0.0
    for t, d in samples:
        length = t - previous
        previous = t
        phase = "start" if t <= first else "steady" if t <= end else "tail"
        lengths[phase] += length
        phases[phase] += max(0.0, cores - sum(d.values())) * length
    total = sum(lengths.values())
    parts = [f"{p} {lengths[p]:.1f} s wall, {phases[p]:.2f} core·s idle" for p in phases]
    idle = sum(phases.values())
    return (
        f"wall {total:.1f} s; idle {idle:.2f} core·s = {100 * idle / (cores * total):.1f} % of"
        f" {cores} cores; " + "; ".join(parts)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", required=True, type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeline", action="store_true", help="print demand per second")
    args = parser.parse_args()
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    for n in range(args.rounds):
        for tree in args.tree:
            samples = run_once(tree.resolve(), args.count, args.workers)
            while True:  # reap orphans
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break
            print(
                f"round {n + 1} {tree} (load {os.getloadavg()[0]:.1f}): {summarise(samples, args.workers)}",
                flush=True,
            )
            if args.timeline:
                second: dict[int, dict[str, float]] = {}
                counts: dict[int, int] = {}
                for t, d in samples:
                    bucket = second.setdefault(int(t), dict.fromkeys(ROLES, 0.0))
                    counts[int(t)] = counts.get(int(t), 0) + 1
                    for r, v in d.items():
                        bucket[r] += v
                for s, d in sorted(second.items()):
                    line = " ".join(f"{r} {v / counts[s]:.2f}" for r, v in d.items() if v)
                    print(f"  {s:4d} s: demand {sum(d.values()) / counts[s]:.2f} ({line})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
