"""The longest chain of one-after-the-other S3 requests per register number (issue 14, m36).

``bench_store.py``'s ``~ request rounds`` counts a request as a new round when no other is in
flight: main's event claim and event PUT count as one round there, because the first version's
PUT (sent with the claim) is still in flight when the event PUT starts, though the event PUT
waits for its claim. This counts, per number, the longest chain of requests each of which
starts after the one before it ended (the dependent steps the number waits for), and the wall
time per number.

    PYTHONPATH=<tree> .venv/bin/python <tree>/bench/m36_chain.py [numbers] [--paired]

``--paired`` (m36's tree only): in one process, blocks of 10 numbers alternate with the
event claim beside the entry on and off (``AuditLog.claim_slot_ahead`` replaced by a no-op on
the instance: main's order), so that load changes hit both alike; the wall per number and the
chain are given for each.

S3 only (Ceph RGW of the services; ``KHO_TEST_S3_*``). Its buckets are removed at the end; it
makes no local folder.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import bench_store as b
import urllib3


def _longest_chain(spans: list[tuple[float, float]]) -> int:
    """The most requests in one chain where each starts after the one before it ended."""
    spans = sorted(spans)
    best: list[int] = []
    for i, (start, _) in enumerate(spans):
        best.append(1 + max((best[j] for j in range(i) if spans[j][1] <= start), default=0))
    return max(best, default=0)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    paired = "--paired" in sys.argv
    count = int(args[0]) if args else 100
    opts = {
        "endpoint": os.environ.get("KHO_TEST_S3_ENDPOINT", "127.0.0.1:7480").removeprefix("http://"),
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    bucket = b.new_bucket("m36chain", opts)
    b.track(f"{bucket}-keys", opts)
    try:
        repo = b._open(f"s3://{bucket}", {**opts, "group_commit": True})
        repo.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)  # first act: in place
        spans: list[tuple[float, float]] = []
        lock = threading.Lock()
        real = b._urlopen

        def timed(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return real(self, method, url, *args, **kwargs)
            finally:
                with lock:
                    spans.append((t0, time.perf_counter()))

        urllib3.PoolManager.urlopen = timed  # type: ignore[method-assign]
        chains: dict[bool, list[int]] = {True: [], False: []}
        walls: dict[bool, list[float]] = {True: [], False: []}
        requests: dict[bool, list[int]] = {True: [], False: []}
        for i in range(count):
            on = not paired or (i // 10) % 2 == 0
            if paired:
                if on:
                    repo.audit.__dict__.pop("claim_slot_ahead", None)
                else:
                    repo.audit.claim_slot_ahead = lambda: None  # type: ignore[method-assign]
            spans.clear()
            t0 = time.perf_counter()
            repo.create_document("di", b._metadata(i, "di"), None, None, b.CLERK)
            walls[on].append((time.perf_counter() - t0) * 1000)
            with lock:
                chains[on].append(_longest_chain(list(spans)))
                requests[on].append(len(spans))
        for on in (True, False) if paired else (True,):
            label = ("claim beside the entry " + ("on" if on else "off") + ", ") if paired else ""
            print(
                f"{label}{len(walls[on])} numbers: chain of dependent requests mean"
                f" {statistics.mean(chains[on]):.2f} (min {min(chains[on])}, max {max(chains[on])}),"
                f" requests {statistics.mean(requests[on]):.2f}, wall median"
                f" {statistics.median(walls[on]):.2f} ms, mean {statistics.mean(walls[on]):.2f} ms,"
                f" load {os.getloadavg()[0]:.2f}"
            )
    finally:
        b.drop_made()


if __name__ == "__main__":
    main()
