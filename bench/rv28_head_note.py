"""rv28: what noting the written head outside the store costs per audited act, beside another tree.

Each round runs one fresh interpreter per tree (``--base`` first, then this tree), alternating,
with a checkpoint anchor outside the store (key + folder, one checkpoint signed) and ACTS
one-event acts (``record:view``) after a warm-up act; prints CPU and wall µs per act, min /
median over ROUNDS per tree and store kind (``local``: a folder, fsync on as in production;
``s3``: the Ceph gateway of ``scripts/services.sh env``).

    .venv/bin/python bench/rv28_head_note.py --base /tmp/base-rv28 [--rounds 3] [--acts 300]
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

HERE = Path(__file__).resolve().parents[1]

WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {support!r})
from kho_testing import AGENCY, AGENCY_NAME, make_store, outside_anchor
from repository.anchor import make_checkpoint
from repository.records import Repository
from repository.storage.local import LocalStore

data = Path({data!r})
store = make_store({kind!r}, data, "bench-store")
anchor = outside_anchor(data)
repo = Repository(store, LocalStore(data / "keys"), agency_id=AGENCY, agency_name=AGENCY_NAME)
repo.anchor = anchor
repo.audit.append("clerk", "record:view", record_id="warm")
make_checkpoint(store, anchor)
repo.audit.append("clerk", "record:view", record_id="warm")
cpu, wall = time.process_time(), time.perf_counter()
for i in range({acts}):
    repo.audit.append("clerk", "record:view", record_id=f"r{{i}}")
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
noted = (anchor.checkpoint_dir / "written-head.state").exists()
print(json.dumps({{"cpu_us": cpu / {acts} * 1e6, "wall_us": wall / {acts} * 1e6, "noted": noted}}))
"""


def run(tree: Path, kind: str, acts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="rv28-bench-") as data:
        script = WORKER.format(support=str(tree / "tests" / "support"), data=data, kind=kind, acts=acts)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=tree, env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--acts", type=int, default=300)
    parser.add_argument("--kinds", default="local,s3")
    args = parser.parse_args()
    for kind in args.kinds.split(","):
        results: dict[str, list[dict[str, float]]] = {"main": [], "this": []}
        print(f"{kind}: load {os.getloadavg()[0]:.1f}", flush=True)
        for _ in range(args.rounds):
            results["main"].append(run(args.base, kind, args.acts))
            results["this"].append(run(HERE, kind, args.acts))
        for tree, rows in results.items():
            cpu = [r["cpu_us"] for r in rows]
            wall = [r["wall_us"] for r in rows]
            noted = {bool(r["noted"]) for r in rows}
            print(
                f"  {tree:5s} CPU µs/act {min(cpu):8.1f} / {statistics.median(cpu):8.1f}"
                f"   wall µs/act {min(wall):8.1f} / {statistics.median(wall):8.1f}   note written: {noted}",
                flush=True,
            )
        print(f"{kind}: load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
