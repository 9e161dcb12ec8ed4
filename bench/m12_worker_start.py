"""CPU of starting one pdfium text worker and one verification worker (until it returns on a
closed request pipe: imports, warm-up, memory limit), two code trees interleaved.

    .venv/bin/python bench/m12_worker_start.py /tmp/base-m12 . [N]

Each start is the real command (``python -m ingest.text._worker text 256``, ``python -m
ingest.signatures._worker 2048``) with that tree first on ``PYTHONPATH`` and as working folder;
its user + system CPU is read from ``RUSAGE_CHILDREN``. Prints min / median of N (default 7).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys

COMMANDS = {
    "text": ["-m", "ingest.text._worker", "text", "256"],
    "verify": ["-m", "ingest.signatures._worker", "2048"],
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    trees = [os.path.abspath(t) for t in sys.argv[1:3]]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    found: dict[tuple[str, str], list[float]] = {(t, k): [] for t in trees for k in COMMANDS}
    for _ in range(rounds):
        for kind, args in COMMANDS.items():
            for tree in trees:
                before = _cpu()
                subprocess.run([sys.executable, *args], cwd=tree, env=dict(os.environ, PYTHONPATH=tree),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
                found[(tree, kind)].append(_cpu() - before)
    for (tree, kind), values in found.items():
        listed = ", ".join(f"{v:.2f}" for v in values)
        print(f"{kind:6} {tree:18} CPU s min {min(values):.3f} median {statistics.median(values):.3f}"
              f" ({listed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
