"""rv19: what step 9b of ``kho fsck`` (the by-record audit index compared with the log) costs.

Builds one local store with RECORDS registered records, each downloaded VIEWS times (events
with a record id, the rows the index holds), with a SQLite audit index; then runs ``fsck`` on
it in fresh interpreters, alternating the trees given (``--base`` first, then this tree),
ROUNDS times each. Prints wall and CPU seconds per run, min / median.

    .venv/bin/python bench/rv19_fsck_index.py --base /tmp/base-rv19-src [--records 400]
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
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, pdf_bytes
from repository.records import Repository
from repository.storage.local import LocalStore
data = Path({data!r})
repo = Repository(LocalStore(data / "store", fsync=False), LocalStore(data / "keys", fsync=False),
                  agency_id=AGENCY, agency_name=AGENCY_NAME, audit_index=data / "audit-index.sqlite")
for n in range({records}):
    form = incoming(code_number=str(n + 1))
    made = repo.create_document("den", form, pdf_bytes(f"r{{n}}"), "cv.pdf", CLERK)
    rid = made.record_id
    for _ in range({views}):
        repo.read_content(rid, actor=CLERK, action="content:download")
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
repo = Repository(LocalStore(data / "store", fsync=False), LocalStore(data / "keys", fsync=False),
                  agency_id=AGENCY, agency_name=AGENCY_NAME, audit_index=data / "audit-index.sqlite")
repo.audit.record_events("x")  # the index caught up before the clock starts
wall, cpu = time.perf_counter(), time.process_time()
report = fsck(repo)
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                   "issues": sorted({{i.kind for i in report.issues}})}}))
"""


def _python(tree: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    support = str(HERE / "tests" / "support")
    with tempfile.TemporaryDirectory(prefix="rv19-fsck-") as tmp:
        data = Path(tmp)
        _python(HERE, BUILD.format(support=support, data=str(data), records=args.records, views=args.views))
        times: dict[str, list[dict[str, float]]] = {"main": [], "rv19": []}
        for _ in range(args.rounds):
            for name, tree in (("main", args.base), ("rv19", HERE)):
                times[name].append(json.loads(_python(tree, RUN.format(support=support, data=str(data)))))
        print(f"records {args.records}, downloads each {args.views}; load {os.getloadavg()}")
        for name, runs in times.items():
            walls, cpus = [r["wall"] for r in runs], [r["cpu"] for r in runs]
            print(
                f"{name}: wall min {min(walls):.3f} median {statistics.median(walls):.3f} s;"
                f" cpu min {min(cpus):.3f} median {statistics.median(cpus):.3f} s;"
                f" issues {runs[-1]['issues']}"
            )


if __name__ == "__main__":
    main()
