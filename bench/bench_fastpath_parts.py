"""What each part of the signature fast path adds, measured on the real multi-signature documents.

    .venv/bin/python bench/bench_fastpath_parts.py [--repeat N] [--timeout S] [--only NAME]

Issue 9 asks to reuse what pyHanko offers publicly first, then to measure what the private-API
parts still add and keep only those that pay. The parts (``KHO_SIGNATURE_FAST_PATH``, see
:data:`kho.config.FAST_PATH_PARTS`) are the caching reader (``reader``), the name memo
(``names``), the certificate memo (``certs``) and the collector pause (``gc``). Each
configuration runs ``bench/bench_signatures.py --cpu`` in a fresh process (the memos are
process-wide), so every row is measured the same way: every part on, the product default,
every part but one (what that part adds), and none (stock pyHanko, the baseline of the same
run). Prints mean wall and CPU milliseconds per document and the factor against all-on.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kho.config import DEFAULT_FAST_PATH_PARTS, FAST_PATH_PARTS  # noqa: E402

_DOC = re.compile(r"^\s*([\d.]+) ms wall \(min\), CPU min / median\s+([\d.]+) /\s+([\d.]+) ms\s+(\S+)")


def run(parts: str, repeat: int, timeout: float, only: str | None) -> tuple[float, float, int] | None:
    """(mean wall ms, mean CPU ms, documents) of one configuration, or None past the timeout."""
    command = [sys.executable, str(ROOT / "bench" / "bench_signatures.py"), "--cpu", "--repeat", str(repeat)]
    if only:
        command += ["--only", only]
    env = {**os.environ, "KHO_SIGNATURE_FAST_PATH": parts}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    rows = [m.groups() for m in map(_DOC.match, done.stdout.splitlines()) if m]
    if not rows:
        raise SystemExit(f"no document measured with {parts!r}:\n{done.stdout}\n{done.stderr}")
    walls = [float(r[0]) for r in rows]
    cpus = [float(r[1]) for r in rows]
    return sum(walls) / len(walls), sum(cpus) / len(cpus), len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per document (min is kept)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per configuration")
    parser.add_argument("--only", default=None, help="only documents whose name contains this")
    args = parser.parse_args(argv)
    configurations = [("all parts", ",".join(FAST_PATH_PARTS))]
    configurations.append((f"default ({','.join(DEFAULT_FAST_PATH_PARTS)})", "1"))
    configurations += [
        (f"all but {part}", ",".join(p for p in FAST_PATH_PARTS if p != part)) for part in FAST_PATH_PARTS
    ]
    configurations.append(("none: stock pyHanko (baseline)", "0"))
    print(f"load average at start: {os.getloadavg()[0]:.1f}; repeat {args.repeat}")
    print(f"{'configuration':34} {'wall ms':>9} {'CPU ms':>9} {'CPU / all':>10}  docs")
    reference: float | None = None
    for label, parts in configurations:
        started = time.monotonic()
        result = run(parts, args.repeat, args.timeout, args.only)
        if result is None:
            print(f"{label:34} {'> ' + str(int(args.timeout)) + ' s for the whole run':>30}")
            continue
        wall, cpu, docs = result
        reference = reference if reference is not None else cpu
        print(f"{label:34} {wall:9.1f} {cpu:9.1f} {cpu / reference:9.2f}x  {docs}"
              f"   ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
