"""A register number's marker and key beside its entry's claim, on and off in one process (issue 14, m50).

Blocks of 10 numbers alternate between m50's order (the catalog marker and key PUTs sent beside
the register entry's claim, the entry's data waiting for them) and the order before it
(``Repository._in_flight_ahead`` replaced by ``None`` on the instance: the marker and key in a
round of their own, then the claim), so that the load of a shared machine hits both alike. Per
number: the longest chain of requests each starting after the one before it ended
(``m36_chain._longest_chain``), the requests, and the wall time; numbers/s from the medians.

    .venv/bin/python bench/m50_paired.py [numbers]

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
from m36_chain import _longest_chain


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    opts = {
        "endpoint": os.environ.get("KHO_TEST_S3_ENDPOINT", "127.0.0.1:7480").removeprefix("http://"),
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    bucket = b.new_bucket("m50pair", opts)
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
        loads: list[float] = []
        for i in range(count):
            on = (i // 10) % 2 == 0
            if on:
                repo.__dict__.pop("_in_flight_ahead", None)
            else:
                repo._in_flight_ahead = lambda *a, **k: None  # type: ignore[method-assign]
            spans.clear()
            t0 = time.perf_counter()
            repo.create_document("di", b._metadata(i, "di"), None, None, b.CLERK)
            walls[on].append((time.perf_counter() - t0) * 1000)
            with lock:
                chains[on].append(_longest_chain(list(spans)))
                requests[on].append(len(spans))
            if i % 50 == 0:
                loads.append(os.getloadavg()[0])
        for on in (True, False):
            label = "m50 (marker beside the claim)" if on else "before (marker, then the claim)"
            median = statistics.median(walls[on])
            print(
                f"{label}: {len(walls[on])} numbers, chain {statistics.mean(chains[on]):.2f}"
                f" (min {min(chains[on])}, max {max(chains[on])}), requests"
                f" {statistics.mean(requests[on]):.2f}, wall median {median:.2f} ms"
                f" (= {1000 / median:.1f} numbers/s), mean {statistics.mean(walls[on]):.2f} ms"
            )
        print(f"load during the run: {min(loads):.2f}-{max(loads):.2f}")
    finally:
        b.drop_made()


if __name__ == "__main__":
    main()
