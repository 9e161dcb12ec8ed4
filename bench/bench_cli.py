"""Start-up of the ``kho`` command beside raw baselines, in the same run (a script, not a test).

    .venv/bin/python bench/bench_cli.py [--repeat 3] [--pdf FILE]

Each line is the wall time of a whole process, min / median of ``--repeat`` runs, and the
median CPU time (user + system, its worker processes included: on a loaded machine the wall
time measures the queue for a core, the CPU time what the command costs):

  baseline   ``python -c 'import click'`` (an interpreter and the CLI library, nothing of Kho)
  kho        ``--help``, ``config``, ``search --help``, ``register list`` and ``whoami`` (the last
             two open the store and stop at AUTH_REQUIRED: no account is logged in, which is the
             start-up of every record command), ``search quy định`` (same)
  verify     ``kho verify`` of one small signed PDF, beside poppler's ``pdfsig`` on it

The project's ``.py`` files are byte-compiled first (as an installed package is), so the figures
do not include compiling source; the data directory is a fresh temporary one.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
DEFAULT_PDF = SHARED / "corpora" / "pdf" / "vn-gov__194-ttg.signed.pdf"


def wall(argv: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, float, int]:
    """Wall min / median, CPU median (user + system of the process and of every process it
    waited for, e.g. a verification worker), exit code of the last run."""
    times = []
    cpu = []
    code = 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code = proc.returncode
    return min(times), statistics.median(times), statistics.median(cpu), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    args = parser.parse_args()
    for package in ("kho", "repository", "ingest", "search", "web", "retention"):
        compileall.compile_dir(ROOT / package, quiet=1)
    python = sys.executable
    kho = [python, "-m", "web.cli"]
    with tempfile.TemporaryDirectory(prefix="kho-bench-cli-") as tmp:
        env = {**os.environ, "KHO_DATA_DIR": str(Path(tmp) / "data"), "HOME": tmp,
               "PYTHONPATH": str(ROOT)}
        rows: list[tuple[str, list[str]]] = [
            ("baseline: python -c 'import click'", [python, "-c", "import click"]),
            ("kho --help", [*kho, "--help"]),
            ("kho config", [*kho, "config"]),
            ("kho search --help", [*kho, "search", "--help"]),
            ("kho register list (no login)", [*kho, "register", "list"]),
            ("kho whoami (no login)", [*kho, "whoami"]),
            ("kho search quy định (no login)", [*kho, "search", "quy", "định"]),
        ]
        if args.pdf.exists():
            rows.append((f"kho verify {args.pdf.name}", [*kho, "verify", str(args.pdf)]))
            if shutil.which("pdfsig"):
                rows.append((f"baseline: pdfsig {args.pdf.name}", ["pdfsig", str(args.pdf)]))
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
              f"wall seconds, min / median of {args.repeat}; CPU seconds, median")
        base = None
        for label, argv in rows:
            low, mid, cpu, code = wall(argv, env, args.repeat)
            if base is None:
                base = mid
            print(f"{label:45s} {low:6.3f} / {mid:6.3f} s  ({mid / base:4.1f}x click)"
                  f"  cpu {cpu:6.3f} s  exit {code}")


if __name__ == "__main__":
    main()
