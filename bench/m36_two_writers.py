"""Two processes numbering in one series on one S3 log, with m36's event claim beside the
register entry on or off: how often a claim ahead is made and found taken, and how often and
how long a writer waits on another's claim (``get_after_conflict``).

    PYTHONPATH=<m36 tree> .venv/bin/python bench/m36_two_writers.py on|off [numbers per process]

S3 only (``KHO_TEST_S3_*``); its buckets are removed at the end; no local folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import bench_store as b

from repository.audit import AuditLog, SlotAhead
from repository.storage.base import ObjectStore


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "on"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    opts = {
        "endpoint": os.environ.get("KHO_TEST_S3_ENDPOINT", "127.0.0.1:7480").removeprefix("http://"),
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    bucket = b.new_bucket("m36two", opts)
    b.track(f"{bucket}-keys", opts)
    url = f"s3://{bucket}"
    if mode == "off":
        AuditLog.claim_slot_ahead = lambda self: None  # type: ignore[method-assign]
    stats: dict[str, float] = {"slots": 0, "taken": 0, "waits": 0, "waited_s": 0.0}
    real_claim = AuditLog._claim_slot
    real_wait = ObjectStore.get_after_conflict

    def claim(self: AuditLog, slot: SlotAhead) -> None:
        real_claim(self, slot)
        stats["slots"] += 1
        stats["taken"] += slot.outcome is False

    def wait(self: ObjectStore, key: str, timeout_s: float = 10.0) -> Any:
        t0 = time.perf_counter()
        try:
            return real_wait(self, key, timeout_s)
        finally:
            stats["waits"] += 1
            stats["waited_s"] += time.perf_counter() - t0

    AuditLog._claim_slot = claim  # type: ignore[method-assign]
    ObjectStore.get_after_conflict = wait  # type: ignore[method-assign]
    try:
        first = b._open(url, {**opts, "group_commit": True})
        first.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)
        read_end, write_end = os.pipe()
        pids = []
        t0 = time.perf_counter()
        for _ in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - a writer
                repo = b._open(url, {**opts, "group_commit": True})
                for i in range(count):
                    repo.create_document("di", b._metadata(i, "di"), None, None, b.CLERK)
                line = f"claims ahead {stats['slots']:.0f} (taken {stats['taken']:.0f}), waits on another's"
                line += f" claim {stats['waits']:.0f} ({stats['waited_s']:.3f} s)\n"
                os.write(write_end, line.encode())
                os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        wall = time.perf_counter() - t0
        os.close(write_end)
        per_process = os.read(read_end, 4096).decode().strip().replace("\n", "; ")
        print(
            f"{mode}: {2 * count} numbers in {wall:.2f} s = {2 * count / wall:.1f}/s; per process:"
            f" {per_process}; load {os.getloadavg()[0]:.1f}"
        )
    finally:
        b.drop_made()


if __name__ == "__main__":
    main()
