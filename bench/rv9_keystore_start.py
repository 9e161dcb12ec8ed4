"""The start-up key-store check (``refuse_missing_keystore``) of a tree: its wall time per call
and the content-store LISTs it makes, for a key store with keys, an empty ``objects`` folder and
none, beside the same figures of another tree measured in the same minutes (min/median of 3).

    .venv/bin/python bench/rv9_keystore_start.py [--base /tmp/base-rv9] [--calls 2000]

Each tree runs in its own subprocess with its own code first on ``sys.path``."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, os, sys, time, tempfile
import atexit, shutil
def _scratch(**options):
    folder = tempfile.mkdtemp(**options)
    atexit.register(shutil.rmtree, folder, True)
    return folder
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from kho.config import Settings
from repository.service import refuse_missing_keystore
from repository.storage import open_store
case, calls = sys.argv[2], int(sys.argv[3])
root = Path(_scratch())
store = open_store(f"file://{root / 'store'}", fsync=False)
store.put_if_absent("records/r1/v000001", b"{}")
keys = root / "keys"
if case == "keys":
    (keys / "objects" / "keys").mkdir(parents=True)
    (keys / "objects" / "keys" / "r1").write_bytes(b"k")
elif case == "empty":
    (keys / "objects").mkdir(parents=True)
settings = Settings.from_env({"KHO_DATA_DIR": str(root), "KHO_STORE_URL": f"file://{root / 'store'}",
    "KHO_KEYSTORE_URL": f"file://{keys}", "KHO_AGENCY_ID": "000.00.18.H40", "KHO_AGENCY_NAME": "X"})
lists = 0
real_list = store.list
def counted(prefix, *a, **k):
    global lists
    lists += 1
    return real_list(prefix, *a, **k)
store.list = counted
refused = 0
start = time.perf_counter()
for _ in range(calls):
    try:
        refuse_missing_keystore(settings, store)
    except Exception:
        refused += 1
took = time.perf_counter() - start
print(json.dumps({"us": took / calls * 1e6, "lists": lists / calls, "refused": refused == calls}))
"""


def run(tree: str, case: str, calls: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, tree, case, str(calls)], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": tree})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="/tmp/base-rv9")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    for case in ("keys", "empty", "none"):
        figures: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(3):  # interleaved: before, after, before, after...
            figures["before"].append(run(args.base, case, args.calls))
            figures["after"].append(run(here, case, args.calls))
        for name, runs in figures.items():
            us = [r["us"] for r in runs]
            print(f"{case:6} {name:6} µs/call min {min(us):7.2f} median {statistics.median(us):7.2f}"
                  f"  LISTs/call {runs[0]['lists']:.0f}  refused {runs[0]['refused']}")


if __name__ == "__main__":
    main()
