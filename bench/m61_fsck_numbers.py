"""m61: what step 9d of ``kho fsck`` (numbers given twice, assigns of nothing) costs.

Builds one local store (no fsync) with RECORDS registered records, văn bản đến and đi in turn
(each act two events, ``record:create`` and ``register:assign``), then runs ``fsck`` on it in
fresh interpreters, alternating the trees given (``--base`` first, then this tree), ROUNDS times
each. Prints wall and CPU seconds per run (min / median) and the store reads (GET) fsck made.

    git -C /work/wt-m61 archive main | tar -x -C /tmp/m61-base
    nice -n 10 .venv/bin/python bench/m61_fsck_numbers.py --base /tmp/m61-base [--records 3000]
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

BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, {support!r})
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, outgoing
from repository.records import Repository
from repository.storage.local import LocalStore
data = Path({data!r})
repo = Repository(LocalStore(data / "store", fsync=False), LocalStore(data / "keys", fsync=False),
                  agency_id=AGENCY, agency_name=AGENCY_NAME)
for n in range({records}):
    if n % 2:
        repo.create_document("di", outgoing(), None, None, CLERK)
    else:
        repo.create_document("den", incoming(code_number=str(n + 1)), None, None, CLERK)
"""

RUN = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {support!r})
from kho_testing import AGENCY, AGENCY_NAME
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore
data = Path({data!r})
gets = [0]
class Counting(LocalStore):
    def get(self, key, version_id=None):
        gets[0] += 1
        return super().get(key, version_id)
repo = Repository(Counting(data / "store", fsync=False), LocalStore(data / "keys", fsync=False),
                  agency_id=AGENCY, agency_name=AGENCY_NAME)
wall, cpu = time.perf_counter(), time.process_time()
report = fsck(repo, grace_seconds=0)
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "gets": gets[0],
                   "issues": sorted({{i.kind for i in report.issues}})}}))
"""


def _python(tree: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    support = str(HERE / "tests" / "support")
    with tempfile.TemporaryDirectory(prefix="m61-fsck-") as tmp:
        data = Path(tmp)
        _python(HERE, BUILD.format(support=support, data=str(data), records=args.records))
        runs: dict[str, list[dict[str, object]]] = {"main": [], "m61": []}
        for _ in range(args.rounds):
            for name, tree in (("main", args.base), ("m61", HERE)):
                runs[name].append(json.loads(_python(tree, RUN.format(support=support, data=str(data)))))
        load = os.getloadavg()
        print(f"records {args.records} (events {2 * args.records}); rounds {args.rounds}; load {load}")
        for name, done in runs.items():
            walls = [float(str(r["wall"])) for r in done]
            cpus = [float(str(r["cpu"])) for r in done]
            print(
                f"{name}: wall min {min(walls):.3f} median {statistics.median(walls):.3f} s;"
                f" cpu min {min(cpus):.3f} median {statistics.median(cpus):.3f} s;"
                f" gets {done[-1]['gets']}; issues {done[-1]['issues']}"
            )
        paired = zip(runs["main"], runs["m61"], strict=True)
        pairs = [float(str(b["cpu"])) - float(str(a["cpu"])) for a, b in paired]
        print(f"m61 - main cpu per round: {', '.join(f'{d:+.3f}' for d in pairs)} s")
    _rule_alone(args.records)


def _rule_alone(records: int) -> None:
    """The rule of step 9d alone on as many events and entries (this tree, in process)."""
    import time

    sys.path.insert(0, str(HERE))
    from repository.registers import NumberGiven, numbers_given_twice

    organ = "000.00.18.H40"
    events = [NumberGiven(None, 2026, "den", n, f"r{n}", 2 * n) for n in range(1, records + 1)]
    entries = [NumberGiven(organ, 2026, "den", n, f"r{n}") for n in range(1, records + 1)]
    took = []
    for _ in range(5):
        start = time.process_time()
        twice, unplaced = numbers_given_twice(events, entries)
        took.append(time.process_time() - start)
        assert not twice and not unplaced
    print(f"the rule alone, {records} events + {records} entries: cpu min {min(took) * 1000:.1f}"
          f" median {statistics.median(took) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
