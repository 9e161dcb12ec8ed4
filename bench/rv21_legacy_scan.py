"""The upgrade path of event seals (review rv21): a local store with N legacy (unsealed) events in
batches of 3, then one sealed event; a process with the seal key judges the last legacy
``hold:place`` three times (``AuditLog.trusted``, as the hold check does before each change of a
record with a legacy hold event). Prints, per judgement, the store listings and the CPU ms. Run it
with ``PYTHONPATH`` set to the tree to measure (a base worktree, or this one). Not a test.

    PYTHONPATH=. .venv/bin/python bench/rv21_legacy_scan.py [objects]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from repository.audit import AuditLog
from repository.seals import Sealer
from repository.storage.local import LocalStore


class CountingStore(LocalStore):
    listings = 0

    def list(self, *args: Any, **kwargs: Any) -> Any:
        CountingStore.listings += 1
        return super().list(*args, **kwargs)


def main() -> None:
    objects = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    sealer = Sealer.from_master_key(bytes(range(32)))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        legacy = AuditLog(LocalStore(root, fsync=False))
        for n in range(objects):
            with legacy.batch():
                for action in ("record:create", "register:assign", "hold:place"):
                    legacy.append("bench", action, record_id=f"r{n}", version=1, source="bench")
        AuditLog(LocalStore(root, fsync=False), sealer=sealer).append("bench", "record:view", record_id="r0")
        log = AuditLog(CountingStore(root, fsync=False), sealer=sealer)
        (event,) = [e for e in log.record_events(f"r{objects - 1}") if e.action == "hold:place"]
        for n in range(3):
            CountingStore.listings = 0
            cpu0 = time.process_time()
            assert log.trusted(event)
            cpu = (time.process_time() - cpu0) * 1e3
            print(f"judgement {n + 1}: {CountingStore.listings} listing(s), {cpu:.3f} CPU ms")


if __name__ == "__main__":
    main()
