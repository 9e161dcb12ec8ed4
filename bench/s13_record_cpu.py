"""The Python CPU of one local record with fsync off (s13): per 200 KB record, ``KHO_FSYNC=false``
(NoDurability), audit group commit, one process, in this tree's code (run it from another tree,
with that tree first on ``sys.path``, for a before/after in the same minutes):

* CPU (user + system, ``getrusage``) and wall per record, min / median of ``--repeat`` runs;
* Python function calls per record (``cProfile``'s count, one more run): a count that the
  machine's load does not move, where CPU times on a shared machine do.

    .venv/bin/python bench/s13_record_cpu.py [--records 200] [--repeat 5]

Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import s12_record_time as s  # (puts this tree first on sys.path)

from repository.storage.durability import NoDurability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    body = os.urandom(200 * 1024)
    base = Path(scratch.mkdtemp(prefix="kho-s13-", dir=os.environ.get("TMPDIR")))
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(args.repeat):
        repo = s._repo(base, NoDurability())
        for i in range(3):
            s._one(repo, i, body)
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for i in range(3, 3 + args.records):
            s._one(repo, i, body)
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        cpu.append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / args.records * 1e3)
        wall.append((t1 - t0) / args.records * 1e3)
    repo = s._repo(base, NoDurability())
    for i in range(3):
        s._one(repo, i, body)
    profile = cProfile.Profile()
    profile.enable()
    for i in range(3, 103):
        s._one(repo, i, body)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = stats.total_calls / 100  # type: ignore[attr-defined]
    tree = Path(s.__file__).resolve().parents[1]
    print(f"code: {tree}; {args.records} records of 200 KB per run, fsync off")
    print(
        f"cpu ms {min(cpu):.3f} / {statistics.median(cpu):.3f}; wall ms {min(wall):.3f} / "
        f"{statistics.median(wall):.3f}; python calls per record {calls:.0f}"
    )


if __name__ == "__main__":
    main()
