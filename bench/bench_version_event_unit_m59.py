"""What stating a version's unit in its event (``record_unit``, m59) costs a version write, A/B.

    .venv/bin/python bench/bench_version_event_unit_m59.py --before /tmp/base-tree [--after .] [--rounds 5]

Each round runs, for the "before" and the "after" tree in an order reversed every round, a child
process (this interpreter, the tree chosen by ``PYTHONPATH`` and the working folder) that makes
a repository on a local folder (``KHO_FSYNC`` off), registers one document and writes ``--updates``
corrections of its trích yếu (``Repository.update_metadata``: one sealed version and one
``record:update`` event each, the path m59 changed). Printed per tree: wall and CPU milliseconds
per correction (min / median over the rounds) and the audit log's bytes per correction (its
event objects' sizes after the run over the number of corrections). A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, shutil, sys, tempfile, time
from pathlib import Path
from kho_testing import CLERK, incoming, new_repository, pdf_bytes
from repository.audit import EVENTS_PREFIX
from repository.storage.local import LocalStore

updates = int(sys.argv[1])
home = Path(tempfile.mkdtemp(prefix="kho-m59-"))
store, keys = LocalStore(home / "s"), LocalStore(home / "k")
repo = new_repository(store, keys)
record = repo.create_document("den", incoming(code_number="59"), pdf_bytes("m59"), "cv.pdf", CLERK)
before = sum(i.size for i in store.list(EVENTS_PREFIX))
wall, cpu = time.perf_counter(), time.process_time()
for n in range(updates):
    record = repo.update_metadata(
        record.record_id, {"subject": f"Về việc thử số {n}"}, expected_version=record.version, actor=CLERK
    )
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
after = sum(i.size for i in store.list(EVENTS_PREFIX))
shutil.rmtree(home)
print(json.dumps({"wall": wall, "cpu": cpu, "bytes": after - before}))
"""


def child(tree: Path, updates: int) -> dict[str, float]:
    path = f"{tree}{os.pathsep}{tree / 'tests' / 'support'}"
    env = {**os.environ, "PYTHONPATH": path, "KHO_FSYNC": "false"}
    argv = [sys.executable, "-c", CHILD, str(updates)]
    out = subprocess.run(argv, cwd=tree, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=200)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    started = time.strftime("%H:%M", time.gmtime())
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name in order:
            runs[name].append(child(trees[name], args.updates))
    load = os.getloadavg()[0]
    ended = time.strftime("%H:%M", time.gmtime())
    print(f"{args.rounds} rounds × {args.updates} corrections, {started}–{ended} UTC, load {load:.2f}")
    for name, results in runs.items():
        wall = [1000 * r["wall"] / args.updates for r in results]
        cpu = [1000 * r["cpu"] / args.updates for r in results]
        size = [r["bytes"] / args.updates for r in results]
        print(
            f"{name:>6}: wall ms/correction min {min(wall):.2f} median {statistics.median(wall):.2f};"
            f" cpu min {min(cpu):.2f} median {statistics.median(cpu):.2f};"
            f" audit bytes/correction {statistics.median(size):.0f}"
        )


if __name__ == "__main__":
    main()
