"""CPU of an audit append with the witness check (task f1): one process, a local store.

    python bench/bench_audit_append_check.py prepare DIR [ACTS]   # a log of ACTS acts (default 200)
    python bench/bench_audit_append_check.py run DIR FRESH STEADY  # copy DIR, then append

``run`` copies the prepared store (so every run starts from the same log), then FRESH times opens
a new :class:`~repository.audit.AuditLog` on it and appends once (the first append of a process:
it finds the head and, since f1, checks the witness), then makes STEADY more appends with the last
log (the head known). Run it under ``valgrind --tool=callgrind`` and take differences of the
instruction counts between runs (``run 0 0``, ``run 20 0``, ``run 1 200``): load does not change
them. See bench/NOTES-f1.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from repository.audit import AuditLog, EventDraft
from repository.storage.local import LocalStore


def prepare(target: Path, acts: int) -> None:
    log = AuditLog(LocalStore(target, fsync=False))
    for n in range(acts):
        log.append_many(
            [EventDraft("clerk", "record:create", record_id=f"r{n}"), EventDraft("clerk", "register:assign")]
        )


def run(source: Path, fresh: int, steady: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "s"
        shutil.copytree(source, copy)
        store = LocalStore(copy, fsync=False)
        log = None
        for n in range(fresh):
            log = AuditLog(store)
            log.append("clerk", "content:read", record_id=f"f{n}")
        for n in range(steady):
            assert log is not None
            log.append("clerk", "content:read", record_id=f"r{n}")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        run(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
