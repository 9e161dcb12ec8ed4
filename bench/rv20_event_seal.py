"""CPU cost of sealing audit events (review rv20): µs of CPU per event appended to a local store
(fsync off, group commit, acts of 3 events), for main and this tree in fresh interpreters
alternating, this tree with and without a seal key; and the CPU of building the events alone
(chain, seal, hash: no I/O) in this tree, with and without a seal key.

    .venv/bin/python bench/rv20_event_seal.py --base /tmp/base-main-src [--events 3000] [--rounds 3]

Prints figures (min / median of the rounds); it is not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, tempfile, time
from pathlib import Path
from repository.audit import AuditLog
from repository.storage.local import LocalStore
events, keyed = int(sys.argv[1]), sys.argv[2] == "1"
kwargs = {}
if keyed:
    from repository.seals import Sealer
    kwargs["sealer"] = Sealer.from_master_key(bytes(range(32)))
with tempfile.TemporaryDirectory() as tmp:
    log = AuditLog(LocalStore(Path(tmp), fsync=False), **kwargs)
    log.append("warm", "record:view", record_id="r0")
    cpu0 = time.process_time()
    for n in range(events // 3):
        with log.batch():
            for action in ("record:create", "register:assign", "content:store"):
                log.append("bench.ubnd", action, record_id=f"r{n}", version=1, source="bench",
                           details={"file": "van-ban.pdf", "size": 204800})
    print((time.process_time() - cpu0) * 1e6 / (events // 3 * 3))
"""


BUILD = r"""
import sys, time
from repository.audit import AuditLog, EventDraft
from repository.seals import Sealer
sealer = Sealer.from_master_key(bytes(range(32))) if sys.argv[2] == "1" else Sealer()
drafts = [EventDraft("bench.ubnd", a, record_id="r1", version=1, source="bench",
                     details={"file": "van-ban.pdf", "size": 204800})
          for a in ("record:create", "register:assign", "content:store")]
n = int(sys.argv[1]) // 3
cpu0 = time.process_time()
for i in range(n):
    AuditLog._chain(i * 3, "0" * 64, "2026-12-05T00:00:00.000000Z", drafts, sealer)
print((time.process_time() - cpu0) * 1e6 / (n * 3))
"""


def build(events: int, keyed: bool) -> float:
    """CPU µs per event of building (chaining, sealing, hashing) alone, no I/O, this tree."""
    out = subprocess.run(
        [sys.executable, "-c", BUILD, str(events), "1" if keyed else "0"],
        env={**os.environ, "PYTHONPATH": str(HERE)},
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    return float(out.stdout.strip())


def run(tree: Path, events: int, keyed: bool) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(events), "1" if keyed else "0"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"main": [], "rv20, no seal key": [], "rv20, sealed": []}
    for _ in range(args.rounds):
        runs["main"].append(run(args.base, args.events, False))
        runs["rv20, no seal key"].append(run(HERE, args.events, False))
        runs["rv20, sealed"].append(run(HERE, args.events, True))
        runs.setdefault("build only, no seal key", []).append(build(args.events * 10, False))
        runs.setdefault("build only, sealed", []).append(build(args.events * 10, True))
    print(f"load: {os.getloadavg()[0]:.1f}; {args.events} events per run, {args.rounds} rounds")
    for name, values in runs.items():
        print(f"{name:<20} CPU µs per event: min {min(values):.1f} / median {statistics.median(values):.1f}")


if __name__ == "__main__":
    main()
