"""``kho`` commands of two source trees, interleaved, with instruction counts (a script, not a test).

    .venv/bin/python bench/ab_cli_startup.py --before /tmp/base-tree [--after .] [--rounds 7]
        [--ir] [--pdf FILE]

On a demo store of its own (``kho demo``, then ``kho login`` as its văn thư; agents off), each
round runs ``python -c 'import click'`` and each command of the "before" and the "after" tree
(``python -m web.cli ...`` with this interpreter, the tree chosen by ``PYTHONPATH`` and the
working folder, both trees byte-compiled first), the order of the two trees reversed every
round. Printed per command and tree: wall min / median and CPU min / median (user + system of
the process and of the children it waited for, from ``wait4``: on a loaded machine the CPU
time is what the command costs, the wall time mostly the queue for a core), and with ``--ir``
the instructions of one run under ``valgrind --tool=callgrind`` (every process of the command
added up; deterministic within ~0.1 %, whatever the load). The load average and the UTC
minutes of the run are printed too.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
PDF = SHARED / "corpora" / "pdf" / "vn-gov__194-ttg.signed.pdf"
PACKAGES = ("kho", "repository", "ingest", "search", "web", "retention")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def instructions(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           "--trace-children=yes", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    return sum(int(n.replace(",", "")) for n in re.findall(r"Collected : ([\d,]+)", proc.stderr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ir", action="store_true", help="also count instructions (callgrind)")
    parser.add_argument("--pdf", type=Path, default=PDF)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():
        for package in PACKAGES:
            compileall.compile_dir(tree / package, quiet=1)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="kho-ab-cli-") as tmp:
        env = {**os.environ, "HOME": tmp, "KHO_DATA_DIR": str(Path(tmp) / "data"),
               "KHO_VERIFY_AGENT": "0", "KHO_VERIFY_AGENT_PRESTART": "0"}

        def kho(tree: Path, *argv: str, stdin: str | None = None) -> str:
            return subprocess.run([python, "-m", "web.cli", *argv], cwd=tree,
                                  env={**env, "PYTHONPATH": str(tree)}, input=stdin, text=True,
                                  capture_output=True, check=True).stdout

        kho(trees["after"], "demo")
        kho(trees["after"], "login", "khuedt.ubnd", "--password-stdin", stdin="Kho@demo2026\n")
        hits = json.loads(kho(trees["after"], "search", "--json", "quy định"))["hits"]
        commands = [["--help"], ["whoami"], ["register", "list"], ["record", "show", hits[0]["id"]],
                    ["search", "quy", "định"]]
        if args.pdf.exists():
            commands.append(["verify", str(args.pdf)])
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at "
              f"{time.strftime('%H:%M:%S', time.gmtime())} UTC; {args.rounds} rounds")
        click_wall, click_cpu = [], []
        results: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        for round_ in range(args.rounds):
            wall, cpu, _ = run([python, "-c", "import click"], ROOT, env)
            click_wall.append(wall)
            click_cpu.append(cpu)
            for command in commands:
                order = list(trees.items()) if round_ % 2 == 0 else list(trees.items())[::-1]
                for label, tree in order:
                    wall, cpu, code = run([python, "-m", "web.cli", *command], tree,
                                          {**env, "PYTHONPATH": str(tree)})
                    if code not in (0, 1):
                        raise SystemExit(f"{label} {' '.join(command)}: exit {code}")
                    walls, cpus = results.setdefault((" ".join(command[:2]), label), ([], []))
                    walls.append(wall)
                    cpus.append(cpu)
        print(f"{'python -c import click':34s} wall {min(click_wall):.3f} / "
              f"{statistics.median(click_wall):.3f}  cpu {min(click_cpu):.3f} / "
              f"{statistics.median(click_cpu):.3f}")
        for (name, label), (walls, cpus) in results.items():
            print(f"{name[:26]:26s} {label:7s} wall {min(walls):.3f} / {statistics.median(walls):.3f}"
                  f"  cpu {min(cpus):.3f} / {statistics.median(cpus):.3f}")
        print(f"load average {os.getloadavg()[0]:.1f} at {time.strftime('%H:%M:%S', time.gmtime())} UTC")
        if args.ir:
            print(f"instructions: python -c 'import click' "
                  f"{instructions([python, '-c', 'import click'], ROOT, env) / 1e6:,.1f} M")
            for command in commands:
                counts = [instructions([python, "-m", "web.cli", *command], tree,
                                       {**env, "PYTHONPATH": str(tree)}) for tree in trees.values()]
                change = (counts[1] - counts[0]) / counts[0] * 100
                print(f"instructions: {' '.join(command[:2])[:26]:26s} before {counts[0] / 1e6:,.1f} M"
                      f"  after {counts[1] / 1e6:,.1f} M  ({change:+.1f} %)")


if __name__ == "__main__":
    main()
