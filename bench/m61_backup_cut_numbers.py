"""m61 probe: a backup taken while records are written, restored, then written to again.

Not a test: it shows what today's code does (``tests/repository/test_group_commit.py``'s
backup-under-a-writer scenario, carried one step further). A writer process registers văn bản
đến without pause; a backup of the store and key store is taken meanwhile, then restored into
a new store. Prints how many records and entries the copy holds, which ``register:assign``
numbers its log holds beyond its register's newest entry, what ``kho fsck`` says of the
restored copy, then registers one document on it and prints its number and what fsck says.

    nice -n 10 .venv/bin/python bench/m61_backup_cut_numbers.py [--runs 5]

m64: the restore moves a register past the numbers its copy's log gives (a register floor); each
run also prints the floors the restore wrote, and the last line counts the runs in which the
first number after the restore was one the log had given (reused) and those fsck then named
``register-number-reused``.

m68: each run also prints the records the copy's log names (a creation or ``register:assign``
event) that the restored store does not hold ("lost"), the records committed in the source when
the backup returned that the copy does not hold, the backup's seconds and its requests to the
source (GET, LIST, other), and the last lines sum them over the runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "tests" / "support"))

from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming  # noqa: E402

from repository.fsck import fsck  # noqa: E402
from repository.records import Repository  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from retention.backup import backup, restore  # noqa: E402

WRITER = """
import sys
from pathlib import Path
sys.path[:0] = [sys.argv[3], sys.argv[4]]
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming
from repository.records import Repository
from repository.storage.local import LocalStore
repo = Repository(LocalStore(sys.argv[1] + "/store"), LocalStore(sys.argv[1] + "/keys"), agency_id=AGENCY,
                  agency_name=AGENCY_NAME)
stop, n = Path(sys.argv[2]), 0
while not stop.exists():
    n += 1
    repo.create_document("den", incoming(code_number=str(1000 + n)), b"%PDF-1.4\\n" + str(n).encode() * 300,
                         f"cv{n}.pdf", CLERK)
print(n)
"""


class _Counted:
    """The source store, its requests counted by method (the backup's cost, m68)."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "list" and args and str(args[0]).startswith("audit/"):
                self.calls["list of the log"] += 1  # one a settle round, once more at the end
            return attr(*args, **kwargs)

        return counted


def _repo(base: Path, store: str, keys: str) -> Repository:
    stores = LocalStore(base / store), LocalStore(base / keys)
    return Repository(*stores, agency_id=AGENCY, agency_name=AGENCY_NAME)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    runs = parser.parse_args().runs
    reused = named = beyond_any = 0
    lost_runs: list[int] = []
    behind_runs: list[int] = []
    costs: list[tuple[float, Counter[str]]] = []
    for run in range(1, runs + 1):
        print(f"--- run {run} of {runs}")
        took, was_given, said, beyond, lost, behind, cost = once()
        reused += took in was_given
        named += said
        beyond_any += bool(beyond)
        lost_runs.append(lost)
        behind_runs.append(behind)
        costs.append(cost)
    print(f"records the copy's log names, not restored, per run: {lost_runs} (sum {sum(lost_runs)})")
    print(f"records committed when the backup returned, not in the copy, per run: {behind_runs}")
    for seconds, calls in costs:
        requests = sum(n for k, n in calls.items() if k != "list of the log")
        print(f"backup: {seconds:.3f} s, source requests {requests} {dict(sorted(calls.items()))}")
    print(
        f"runs: {runs}; copies whose log gave numbers past the register: {beyond_any}; first number"
        f" after the restore one the log had given: {reused} of {runs}; fsck register-number-reused:"
        f" {named} of {runs}"
    )


def once() -> tuple[int, set[int], bool, list[int], int, int, tuple[float, Counter[str]]]:
    with tempfile.TemporaryDirectory(prefix="m61-cut-") as tmp:
        base = Path(tmp)
        first = _repo(base, "store", "keys")
        first.create_document("den", incoming(code_number="1"), b"%PDF-1.4\nfirst", "a.pdf", CLERK)
        stop = base / "stop"
        support = str(HERE / "tests" / "support")
        args = [sys.executable, "-c", WRITER, str(base), str(stop), support, str(HERE)]
        writer = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            while sum(1 for _ in first.store.list("registers/")) < 15:
                assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
                time.sleep(0.05)
            copy, key_copy = LocalStore(base / "b-store"), LocalStore(base / "b-keys")
            counted = _Counted(first.store)
            began = time.perf_counter()
            made = backup(counted, copy, label="store")  # type: ignore[arg-type]
            seconds = time.perf_counter() - began
            committed = {e.record_id for e in first.registers.all_entries()}
            backup(first.keys.store, key_copy, label="keys", records=made.records)
            time.sleep(0.3)
        finally:
            stop.touch()
            writer.communicate(timeout=60)
        restored = _repo(base, "again", "again-keys")
        done = restore(copy, restored.store)
        restore(key_copy, restored.keys.store)
        floors = getattr(done, "floors", ())  # (none before m64)
        held = set(restored.record_ids())
        named_in_log = {
            e.record_id for e in restored.audit.events()
            if e.record_id and e.action in ("record:create", "register:assign")
        }
        lost = len(named_in_log - held)
        behind = len(committed - held)
        print(f"records the copy's log names, not restored: {lost}; committed when the backup returned,"
              f" not in the copy: {behind}; backup {seconds:.3f} s,"
              f" settle rounds that listed the log {counted.calls['list of the log']}")
        print("register floors the restore wrote:", [(f.series, f.numbers(), f.number) for f in floors])
        entries = [e.number for e in restored.registers.all_entries()]
        newest = max(entries)
        beyond = sorted(
            {
                e.details["number"]
                for e in restored.audit.events()
                if e.action == "register:assign" and e.details.get("number", 0) > newest
            }
        )
        print(f"copy: {len(entries)} register entries (newest {newest}); assigns beyond it in its log:")
        print("   ", beyond)
        report = fsck(restored, grace_seconds=0)
        said = "clean" if report.clean else [(i.kind, i.subject) for i in report.issues]
        print("fsck of the restored copy:", said)
        again = _repo(base, "again", "again-keys")
        form = incoming(code_number="99999")
        made_now = again.create_document("den", form, b"%PDF-1.4\nafter", "b.pdf", CLERK)
        assert made_now.registration is not None
        print(f"first document registered after the restore: number {made_now.registration.number}")
        after = fsck(_repo(base, "again", "again-keys"), grace_seconds=0)
        found = [(i.kind, i.subject, i.details.get("records")) for i in after.issues]
        said = "clean" if after.clean else found
        print("fsck then:", said)
        notes = [(n.kind, n.details.get("numbers")) for n in getattr(after, "notes", ())]
        if notes:
            print("fsck notes:", notes)
        given = {
            e.details["number"]
            for e in restored.audit.events()
            if e.action == "register:assign" and e.record_id != made_now.record_id
        }
        twice = any(i.kind == "register-number-reused" for i in after.issues)
        return made_now.registration.number, given, twice, beyond, lost, behind, (seconds, counted.calls)


if __name__ == "__main__":
    main()
