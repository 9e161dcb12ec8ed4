"""NOTES-m51: does a fork child's first record go through the pools, and what does it import?

    nice -n 10 .venv/bin/python bench/m51_fork_child_overlap.py [RUNS] [ROOT]

Runs the situation of ``test_fork_locks.py``'s import test with the store's own overlap
decision (the old test's ``[repository.anchor-none]``) RUNS times (default 20) under ROOT
(default: a temporary folder; give one on tmpfs, e.g. ``/dev/shm/x``, for fast fsyncs). Another
thread is importing ``repository.anchor`` when the process forks, and the parent has no pool
modules. For each run it prints three things: which ``concurrent*`` modules the parent had at
the fork, how often ``LocalStore.overlaps_syncs`` said yes in the child together with the
highest fsync average it saw, and what the child imported. At the end it counts the runs by
(imported any, overlapped any): the two are the same in every run.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, os, sys, threading, time
from pathlib import Path
from kho_testing import CLERK, incoming, new_repository
from repository.storage.local import LocalStore

root = Path(sys.argv[1])
repo = new_repository(LocalStore(root / "s"), LocalStore(root / "k"))
inside = threading.Event()


class SlowFinder:
    def find_spec(self, name, path=None, target=None):
        if name == "repository.anchor" and threading.current_thread().name == "importer":
            inside.set()
            time.sleep(2)
        return None


sys.meta_path.insert(0, SlowFinder())
threading.Thread(target=__import__, args=("repository.anchor",), name="importer").start()
assert inside.wait(30)
at_fork = sorted(m for m in sys.modules if m.startswith("concurrent"))
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    answers = []
    plain = LocalStore.overlaps_syncs

    def recorded(self):
        answer = plain(self)
        answers.append((answer, self._sync_seconds))
        return answer

    LocalStore.overlaps_syncs = recorded
    before = set(sys.modules)
    repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4 x", "a.pdf", CLERK)
    report = {"imported": sorted(set(sys.modules) - before), "answers": answers}
    os.write(write_end, json.dumps(report).encode())
    os._exit(0)
os.close(write_end)
os.waitpid(pid, 0)
child = json.loads(os.read(read_end, 1 << 20).decode())
after = sorted(m for m in sys.modules if m.startswith("concurrent"))
print(json.dumps({"at_fork": at_fork, "parent_after": after, **child}))
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    base = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="m51-"))
    project = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(project / "tests" / "support")])}
    counts: collections.Counter[tuple[bool, bool]] = collections.Counter()
    for run in range(1, runs + 1):
        root = base / f"run{run}"
        root.mkdir(parents=True)
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root)], env=env, capture_output=True, text=True, check=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        yes = sum(1 for answer, _ in result["answers"] if answer)
        highest_ms = max((seconds for _, seconds in result["answers"]), default=0.0) * 1e3
        imported = [m for m in result["imported"] if m.startswith("concurrent")]
        counts[bool(imported), yes > 0] += 1
        print(
            f"{run:3d} parent at fork {result['at_fork']} after {result['parent_after']}"
            f" | overlap {yes}/{len(result['answers'])} max avg {highest_ms:.3f} ms"
            f" | child imported {len(result['imported'])}: {imported}"
        )
    for (imported_any, overlapped_any), n in sorted(counts.items()):
        print(f"imported concurrent: {imported_any!s:5}  overlapped: {overlapped_any!s:5}  runs: {n}")


if __name__ == "__main__":
    main()
