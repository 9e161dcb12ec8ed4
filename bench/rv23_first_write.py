"""rv23: what the first-write check (a store behind its anchored history) and the audit index's
timeline check cost, beside another tree.

Each round runs one fresh interpreter per tree (``--base`` first, then this tree), alternating,
on its own local store (fsync off) with a checkpoint anchor outside it (key + folder),
CHECKPOINTS checkpoints signed and a SQLite audit index. In it:

- ``first``: a fresh Repository's first audited act (the check's reads happen here), wall and
  CPU ms, and the store requests it made (gets + lists + exists);
- ``act``: CPU µs per act over ACTS more one-event acts (the check is a flag by then);
- ``read``: CPU µs per read of one record's history (``record_events``: the index caught up to
  the witness first, which is where the timeline check runs) over READS reads.

Prints min / median over ROUNDS per tree.

    .venv/bin/python bench/rv23_first_write.py --base /tmp/base-rv23 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

WORKER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {support!r})
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming
from repository.anchor import Anchor, generate_key, make_checkpoint
from repository.records import Repository
from repository.storage.local import LocalStore

class Counting(LocalStore):
    requests = 0
    def get(self, key, version_id=None):
        Counting.requests += 1
        return super().get(key) if version_id is None else super().get(key, version_id)
    def list(self, prefix, start_after=None):
        Counting.requests += 1
        return super().list(prefix, start_after=start_after)
    def exists(self, key):
        Counting.requests += 1
        return super().exists(key)

data = Path({data!r})
(data / "outside").mkdir(parents=True)
generate_key(data / "outside" / "audit.key")
anchor = Anchor(signing_key=data / "outside" / "audit.key", checkpoint_dir=data / "outside" / "cps")

def opened():
    repo = Repository(Counting(data / "store", fsync=False), LocalStore(data / "keys", fsync=False),
                      agency_id=AGENCY, agency_name=AGENCY_NAME, audit_index=data / "audit-index.sqlite")
    repo.anchor = anchor
    return repo

repo = opened()
ids = []
for n in range({checkpoints}):
    ids.append(repo.create_document("den", incoming(code_number=str(n + 1)), None, None, CLERK).record_id)
    make_checkpoint(repo.store, anchor)
fresh = opened()
Counting.requests = 0
wall, cpu = time.perf_counter(), time.process_time()
fresh.audit.append("bench", "record:view", record_id=ids[0], version=1)
first = {{"wall_ms": (time.perf_counter() - wall) * 1e3, "cpu_ms": (time.process_time() - cpu) * 1e3,
         "requests": Counting.requests}}
cpu = time.process_time()
for n in range({acts}):
    fresh.audit.append("bench", "record:view", record_id=ids[n % len(ids)], version=1)
act = (time.process_time() - cpu) / {acts} * 1e6
cpu = time.process_time()
for n in range({reads}):
    fresh.audit.record_events(ids[n % len(ids)])
read = (time.process_time() - cpu) / {reads} * 1e6
print(json.dumps({{"first": first, "act_us": act, "read_us": read}}))
"""


def run(tree: Path, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rv23-bench-") as scratch:
        code = WORKER.format(
            support=str(tree / "tests" / "support"),
            data=scratch,
            checkpoints=args.checkpoints,
            acts=args.acts,
            reads=args.reads,
        )
        done = subprocess.run(
            [str(tree / ".venv" / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            cwd=tree,
            check=True,
        )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="the other tree (with its .venv)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkpoints", type=int, default=20)
    parser.add_argument("--acts", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "this": HERE}
    seen: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            seen[name].append(run(tree, args))
    for name, runs in seen.items():
        firsts = [r["first"] for r in runs]

        def spread(values: list[float]) -> str:
            return f"{min(values):.1f} / {statistics.median(values):.1f}"

        print(
            f"{name}: first act wall ms {spread([f['wall_ms'] for f in firsts])}"  # type: ignore[index]
            f", cpu ms {spread([f['cpu_ms'] for f in firsts])}"  # type: ignore[index]
            f", requests {sorted({f['requests'] for f in firsts})}"  # type: ignore[index]
            f"; act cpu µs {spread([float(r['act_us']) for r in runs])}"  # type: ignore[arg-type]
            f"; read cpu µs {spread([float(r['read_us']) for r in runs])}"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
