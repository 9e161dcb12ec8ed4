"""CPU of a bulk import's preload (the parent's imports before its pool forks), code trees
interleaved, each run in a fresh interpreter.

    .venv/bin/python bench/m18_preload_cpu.py --tree /tmp/base-m18 --tree . [--rounds 7]

For each round and tree in turn: ``python -c`` with ``PYTHONPATH`` set to the tree imports
``ingest.bulk`` and runs ``bulk.preload(Settings.from_env())`` (local store, no Tika URL, as
``bench/bench_ingest.py`` sets them), and prints the CPU (``time.process_time``) of the preload,
the modules it imported and whether Tika's client and pyHanko are among them. Then min / median
per tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = """
import json, sys, time
from ingest import bulk
from kho.config import Settings
settings = Settings.from_env()
before = set(sys.modules)
start = time.process_time()
bulk.preload(settings)
cpu = time.process_time() - start
new = set(sys.modules) - before
print(json.dumps({"cpu": cpu, "modules": len(new),
                  "tika": "ingest.text.tika" in new, "requests": "requests" in new,
                  "pyhanko": sum(1 for m in new if m.startswith("pyhanko"))}))
"""


def run(tree: Path, data_dir: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree), KHO_DATA_DIR=data_dir, KHO_TIKA_URL="",
               KHO_BROKER_URL="", KHO_FSYNC="false")  # fmt: skip
    env.pop("KHO_STORE_URL", None)
    env.pop("KHO_KEYSTORE_URL", None)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tree, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trees = [t.resolve() for t in args.tree]
    cpu: dict[Path, list[float]] = {t: [] for t in trees}
    with tempfile.TemporaryDirectory(prefix="m18-preload-") as data_dir:
        for n in range(args.rounds):
            for tree in trees:
                got = run(tree, data_dir)
                cpu[tree].append(got["cpu"])
                print(f"round {n + 1} {tree}: preload {1000 * got['cpu']:.0f} ms CPU, "
                      f"{got['modules']} modules (Tika client {got['tika']}, requests "
                      f"{got['requests']}, pyHanko {got['pyhanko']}), load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    print("\nmin / median")
    for tree, values in cpu.items():
        print(f"{tree}: {1000 * min(values):.0f} / {1000 * statistics.median(values):.0f} ms CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
