"""Ingest throughput and CPU per document *per process*, two code trees interleaved.

    .venv/bin/python bench/m12_ingest_cpu.py --tree /tmp/base-m12 --tree . [--count 200] [--rounds 3]

Runs ``bench/bench_ingest.py --only a --workers 2`` of each tree in turn (round by round, so
before and after share the same minutes of a loaded machine), with ``PYTHONPATH`` set to that
tree so the fresh worker interpreters import its code too. While a run lasts, this process is
the child subreaper (``PR_SET_CHILD_SUBREAPER``: orphaned verification / text workers end
here) and reads ``/proc/<pid>/stat`` of every descendant every 20 ms, keeping each process's
last user+system CPU and its role (from its command line and parent):

* ``parent`` — the bench's part process (``import_paths``, the pool's parent);
* ``bulk`` — the forked pool workers (the pipeline: store, text client, metadata, index);
* ``text`` — ``python -m ingest.text._worker text`` (pdfium text layer);
* ``verify`` — ``python -m ingest.signatures._worker`` (signature checks);
* ``other`` — anything else (the bench's outer process, Tesseract...).

The total is checked against ``RUSAGE_CHILDREN`` once everything is reaped (a process that ends
between two reads loses at most 20 ms of CPU in the split, none in the total). Prints docs/s
and CPU ms per document per role for each run, then min / median per tree.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
TICK = os.sysconf("SC_CLK_TCK")
ROLES = ("parent", "bulk", "text", "verify", "other")


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK  # ppid, utime+stime


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _role(cmd: str, ppid: int, part_pids: set[int]) -> str:
    if "ingest.text._worker" in cmd:
        return "text"
    if "ingest.signatures._worker" in cmd:
        return "verify"
    if "bench_ingest.py --json" in cmd:
        # the part process is the outer bench's child; the pool's workers are its children
        return "bulk" if ppid in part_pids else "parent"
    return "other"


def bench_command(tree: Path, count: int, workers: int) -> list[str]:
    """Part (a) of ``tree``'s ingest bench: ``count`` signed PDFs, ``workers`` pool workers."""
    return [sys.executable, str(tree / "bench" / "bench_ingest.py"), "--only", "a",
            "--count", str(count), "--workers", str(workers)]


def all_processes() -> dict[int, tuple[int, float]]:
    """Parent pid and CPU seconds of every process now."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            got = _stat(int(entry))
            if got is not None:
                stats[int(entry)] = got
    return stats


def descendants(stats: dict[int, tuple[int, float]], root: int) -> set[int]:
    """Every process below ``root`` (walking parents: orphans are re-parented to ``root``
    when it is the child subreaper)."""
    ours = {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in stats.items():
            if pid not in ours and ppid in ours:
                ours.add(pid)
                changed = True
    return ours - {root}


def run_once(tree: Path, count: int, workers: int) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = bench_command(tree, count, workers)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    cpu: dict[int, float] = {}
    roles: dict[int, str] = {}
    part_pids: set[int] = set()
    me = os.getpid()
    while process.poll() is None:
        stats = all_processes()
        for pid in descendants(stats, me):
            ppid, seconds = stats[pid]
            # read each time: a worker just forked and not yet exec'd still shows its
            # parent's command line (the role is the last one seen)
            cmd = _cmdline(pid)
            if not cmd:
                continue
            role = _role(cmd, ppid, part_pids)
            if role == "parent" and ppid == process.pid:
                part_pids.add(pid)
            roles[pid] = role
            cpu[pid] = max(cpu.get(pid, 0.0), seconds)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    split = dict.fromkeys(ROLES, 0.0)
    for pid, seconds in cpu.items():
        split[roles[pid]] += seconds
    rate = next((float(line.split()[1]) for line in out.splitlines()
                 if line.strip().startswith("throughput:")), float("nan"))
    counts = {role: sum(1 for r in roles.values() if r == role) for role in ROLES}
    return {"tree": str(tree), "docs_per_s": rate, "wall": wall, "cpu_total": total,
            "ms_per_doc": {r: 1000 * s / count for r, s in split.items()},
            "total_ms_per_doc": 1000 * total / count, "processes": counts,
            "load": os.getloadavg()[0], "failed_line": [ln for ln in out.splitlines() if "done" in ln]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", required=True, type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    results: dict[str, list[dict[str, object]]] = {str(t.resolve()): [] for t in args.tree}
    for n in range(args.rounds):
        for tree in args.tree:
            got = run_once(tree.resolve(), args.count, args.workers)
            results[str(tree.resolve())].append(got)
            split = " ".join(f"{r} {v:5.1f}" for r, v in got["ms_per_doc"].items())  # type: ignore[union-attr]
            print(f"round {n + 1} {tree}: {got['docs_per_s']:.2f} docs/s, load {got['load']:.1f};"
                  f" CPU ms/doc total {got['total_ms_per_doc']:.1f} = {split};"
                  f" processes {got['processes']} {got['failed_line']}", flush=True)
    print("\nmin / median over rounds")
    for tree, runs in results.items():
        rates = [float(r["docs_per_s"]) for r in runs]  # type: ignore[arg-type]
        totals = [float(r["total_ms_per_doc"]) for r in runs]  # type: ignore[arg-type]
        line = [f"{tree}: docs/s min {min(rates):.2f} median {statistics.median(rates):.2f};"
                f" CPU ms/doc total min {min(totals):.1f} median {statistics.median(totals):.1f}"]
        for role in ROLES:
            values = [float(r["ms_per_doc"][role]) for r in runs]  # type: ignore[index]
            line.append(f"{role} {min(values):.1f}/{statistics.median(values):.1f}")
        print(" ".join(line))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
