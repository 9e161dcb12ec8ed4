"""User and system CPU of every process of an ingest bench's tree, by role (issue 14, session 50).

    .venv/bin/python bench/s24_tree_cpu.py [TREE] [--count 400] [--workers 2]

Runs ``TREE/bench/bench_ingest.py --only a`` (default: this tree; a worktree of ``main`` for
the baseline) from ``TREE`` and reads ``/proc/<pid>/stat`` of each process below it every
0.1 s, keeping each one's last figures (the verification workers outlive their pool workers
and are not waited for by them, so ``RUSAGE_CHILDREN`` alone misses them). Roles: the
verification workers (``ingest.signatures._worker``), the pipeline (the bench's child and its
pool workers), the bench's outer process. Prints the bench's throughput line and, per role,
processes, user and system seconds, and milliseconds a document. A process that lived less than
0.1 s may be missed (none of these do). A figure of a script, not a test.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, int, int, str]]:
    """pid: (parent, user ticks, system ticks, command line) of every process readable now."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        found[int(entry)] = (int(fields[1]), int(fields[11]), int(fields[12]), command)
    return found


def _role(command: str) -> str:
    if "signatures._worker" in command:
        return "verification workers"
    if "--json" in command or not command.strip():  # (a zombie pool worker: no command line)
        return "pipeline (bench child + pool workers)"
    return "bench outer process"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tree", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    bench = subprocess.Popen(
        [sys.executable, str(args.tree / "bench" / "bench_ingest.py"), "--only", "a",
         "--count", str(args.count), "--workers", str(args.workers)],
        cwd=args.tree, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    last: dict[int, tuple[str, int, int]] = {}
    while bench.poll() is None:
        found = _processes()
        children = collections.defaultdict(list)
        for pid, (parent, _, _, _) in found.items():
            children[parent].append(pid)
        todo, seen = [bench.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen or pid not in found:
                continue
            seen.add(pid)
            todo += children.get(pid, [])
            _, user, system, command = found[pid]
            role = _role(command) if pid not in last or command.strip() else last[pid][0]
            last[pid] = (role, user, system)
        time.sleep(0.1)
    out = bench.stdout.read() if bench.stdout else ""
    print(next((line.strip() for line in out.splitlines() if "throughput" in line), "no throughput line"))
    totals: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for role, user, system in last.values():
        totals[role][0] += 1
        totals[role][1] += user
        totals[role][2] += system
    for role, (count, user, system) in sorted(totals.items()):
        seconds = (user + system) / TICK
        print(f"  {role:<40} processes {count:>2}  user {user / TICK:6.2f} s  system {system / TICK:6.2f} s"
              f"  {1000 * seconds / args.count:6.1f} ms a document")
    return bench.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
