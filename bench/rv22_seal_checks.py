"""Cost of rv22's seal checks, beside a baseline tree, in fresh interpreters alternating:

- ``act``: a process opens a sealed log of ``--events`` events (local store, fsync off, group
  commit) and makes ``--acts`` acts of 3 events: CPU ms of its first act (the head read and
  the keyless check ride on it), CPU µs per event of the later acts, and GETs of event objects
  per later act (the check must add none);
- ``checkpoint``: ``make_checkpoint`` of that log (rv22 checks every event's seal once more and
  reads the newest signed checkpoint for ``sealed_since``): CPU ms.

    .venv/bin/python bench/rv22_seal_checks.py --base /tmp/base-rv22 [--events 3000] [--rounds 3]

Prints figures (min / median of the rounds); it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import inspect, json, sys, tempfile, time
from pathlib import Path
from repository.anchor import Anchor, generate_key, make_checkpoint
from repository.audit import EVENTS_PREFIX, AuditLog
from repository.seals import Sealer
from repository.storage.local import LocalStore

class Counting(LocalStore):
    gets = 0
    def get(self, key):
        if key.startswith(EVENTS_PREFIX):
            Counting.gets += 1
        return super().get(key)

events, acts = int(sys.argv[1]), int(sys.argv[2])
sealer = Sealer.from_master_key(bytes(range(32)))
def act(log, n):
    with log.batch():
        for action in ("record:create", "register:assign", "content:store"):
            log.append("bench.ubnd", action, record_id=f"r{n}", version=1, source="bench",
                       details={"file": "van-ban.pdf", "size": 204800})
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp) / "store"
    writer = AuditLog(LocalStore(root, fsync=False), sealer=sealer)
    for n in range(events // 3):
        act(writer, n)
    key = Path(tmp) / "audit.key"
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=Path(tmp) / "cps")
    kwargs = {"sealer": sealer} if "sealer" in inspect.signature(make_checkpoint).parameters else {}
    make_checkpoint(LocalStore(root, fsync=False), anchor, **kwargs)  # one signed before
    store = Counting(root, fsync=False)
    log = AuditLog(store, sealer=sealer)  # a fresh process
    cpu0 = time.process_time()
    act(log, 0)
    first = (time.process_time() - cpu0) * 1e3
    Counting.gets = 0
    cpu0 = time.process_time()
    for n in range(acts):
        act(log, n)
    later = (time.process_time() - cpu0) * 1e6 / (acts * 3)
    gets = Counting.gets / acts
    cpu0 = time.process_time()
    make_checkpoint(LocalStore(root, fsync=False), anchor, **kwargs)
    checkpoint = (time.process_time() - cpu0) * 1e3
    print(json.dumps({"first_ms": first, "later_us_per_event": later, "gets_per_act": gets,
                      "checkpoint_ms": checkpoint}))
"""


def run(tree: Path, events: int, acts: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(events), str(acts)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--acts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"base": args.base, "rv22": HERE}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            result = run(tree, args.events, args.acts)
            rows[name].append(result)
            load = os.getloadavg()[0]
            print(f"round {round_ + 1} {name}: {json.dumps(result)} load {load:.1f}", flush=True)
    for name, results in rows.items():
        for field in results[0]:
            values = [r[field] for r in results]
            print(f"{name} {field}: min {min(values):.3f} median {statistics.median(values):.3f}")


if __name__ == "__main__":
    main()
