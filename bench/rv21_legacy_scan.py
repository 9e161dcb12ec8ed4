"""The upgrade path of event seals (review rv21): a local store with N legacy (unsealed) events,
then one sealed event; a fresh process with the seal key judges the last legacy event
(``AuditLog.trusted``, as the hold check does for a record with a legacy hold event). Prints the
CPU and wall ms of that first judgement and of a second one (cached). Not a test.

    .venv/bin/python bench/rv21_legacy_scan.py [--events 20000] [--rounds 3] [--src /tmp/base-rv21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

MAKE = r"""
import sys
from pathlib import Path
from repository.audit import AuditLog
from repository.seals import Sealer
from repository.storage.local import LocalStore
root, events = Path(sys.argv[1]), int(sys.argv[2])
log = AuditLog(LocalStore(root, fsync=False))
for n in range(events // 3):
    with log.batch():
        for action in ("record:create", "register:assign", "hold:place"):
            log.append("bench.ubnd", action, record_id=f"r{n}", version=1, source="bench")
AuditLog(LocalStore(root, fsync=False), sealer=Sealer.from_master_key(bytes(range(32)))).append(
    "bench.ubnd", "record:view", record_id="r0")
"""

JUDGE = r"""
import sys, time
from pathlib import Path
from repository.audit import AuditLog
from repository.seals import Sealer
from repository.storage.local import LocalStore
root, events = Path(sys.argv[1]), int(sys.argv[2])
log = AuditLog(LocalStore(root, fsync=False), sealer=Sealer.from_master_key(bytes(range(32))))
last = log.hold_events([f"r{events // 3 - 1}"])  # warm: the index catches up, judged once
log = AuditLog(LocalStore(root, fsync=False), sealer=Sealer.from_master_key(bytes(range(32))))
(event,) = [e for e in log.record_events(f"r{events // 3 - 1}") if e.action == "hold:place"]
out = []
for _ in range(2):
    cpu0, wall0 = time.process_time(), time.perf_counter()
    assert log.trusted(event)
    out.append(f"{(time.process_time() - cpu0) * 1e3:.2f} {(time.perf_counter() - wall0) * 1e3:.2f}")
print(" ".join(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", type=Path, default=HERE, help="the tree to measure (a base: git worktree)")
    args = parser.parse_args()
    env = {"PYTHONPATH": str(args.src)}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", MAKE, tmp, str(args.events)], check=True, env=env)
        rows = []
        for _ in range(args.rounds):
            out = subprocess.run(
                [sys.executable, "-c", JUDGE, tmp, str(args.events)],
                check=True,
                env=env,
                capture_output=True,
                text=True,
            ).stdout.split()
            rows.append([float(x) for x in out])
    for i, name in enumerate(("first cpu ms", "first wall ms", "second cpu ms", "second wall ms")):
        values = [r[i] for r in rows]
        print(f"{name}: min {min(values):.2f} median {statistics.median(values):.2f}")


if __name__ == "__main__":
    main()
