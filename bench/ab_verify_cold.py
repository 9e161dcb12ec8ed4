"""Cold ``kho verify`` (no agent) of two source trees, interleaved, beside ``import click``.

    .venv/bin/python bench/ab_verify_cold.py --before /tmp/base-tree [--after .] [--rounds 10]

Each round runs ``python -c 'import click'``, the "before" tree's and the "after" tree's
``python -m web.cli verify PDF`` (``KHO_VERIFY_AGENT=0``), in an order reversed every round, all
with this interpreter (the tree chosen by ``PYTHONPATH`` and the working folder), both trees
byte-compiled first. Printed: wall min / median and CPU min / median (user + system of the
process and of the children it waited for, from ``wait4``), the load average over the run, and
the UTC minutes it ran. A script, not a test: the figures go into bench/NOTES-issue14-startup.md.
(Written on branch p14a; taken with round 7. On a machine shared by others, see also
``bench/ir_verify_cold.py``: instruction counts do not depend on the load.)
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
PDF = SHARED / "corpora" / "pdf" / "vn-gov__194-ttg.signed.pdf"


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pdf", type=Path, default=PDF)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="KHO_DATA_DIR of both trees (e.g. one whose trust/ holds CRLs); "
                             "default: an empty one, so the shipped trust list")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():
        for package in ("kho", "repository", "ingest", "search", "web", "retention"):
            compileall.compile_dir(tree / package, quiet=1)
    home = Path(tempfile.mkdtemp(prefix="kho-ab-"))  # removed at the end (with the data folder)
    try:
        data_dir = args.data_dir.resolve() if args.data_dir else home / "data"
        base = {**os.environ, "KHO_DATA_DIR": str(data_dir), "HOME": str(home), "KHO_VERIFY_AGENT": "0"}
        base.pop("KHO_TRUST_DIR", None)
        cases = {"python -c 'import click'": ([sys.executable, "-c", "import click"], ROOT, base)}
        for name, tree in trees.items():
            cases[f"kho verify, cold (no agent), {name}"] = (
                [sys.executable, "-m", "web.cli", "verify", str(args.pdf)], tree,
                {**base, "PYTHONPATH": str(tree)})
        for argv, cwd, env in cases.values():  # warm the page cache
            run(argv, cwd, env)
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in cases}
        loads = [os.getloadavg()[0]]
        start = time.strftime("%H:%M:%S", time.gmtime())
        for i in range(args.rounds):
            for name in (list(cases) if i % 2 == 0 else list(reversed(cases))):
                results[name].append(run(*cases[name]))
            loads.append(os.getloadavg()[0])
        end = time.strftime("%H:%M:%S", time.gmtime())
        print(f"{start}-{end} UTC, {args.rounds} rounds, {os.cpu_count()} cores, load average "
              f"{min(loads):.2f}-{max(loads):.2f}; seconds")
        for name, rows in results.items():
            walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
            print(f"{name:44s} wall min {min(walls):.3f} med {statistics.median(walls):.3f}"
                  f"   cpu min {min(cpus):.3f} med {statistics.median(cpus):.3f}"
                  f"   exit {sorted({r[2] for r in rows})}")
    finally:
        shutil.rmtree(home, ignore_errors=True)

if __name__ == "__main__":
    main()
