"""Issue 14 (m40): where the extra requests of a stored record go when 2 processes store into
one repository on S3 (bench_store: 14.09 requests a record at 1 process, 18.79 at 2). Each
process stores ``--records`` 200 KB records (group commit on); every request is counted by
method, bucket (data / claims / keys), key family (the key's first two path parts, numbers cut)
and HTTP status.

    PYTHONPATH=. .venv/bin/python bench/m40_collisions.py [--records 100] [--processes 2]

Needs ``scripts/services.sh env``. Prints figures; not a test. Removes its buckets.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_store as b  # installs bench_store's counter; wrapped again below

_inner = b.urllib3.PoolManager.urlopen
FAMILY: collections.Counter[str] = collections.Counter()


def _family(url: str) -> str:
    path = url.split("://", 1)[-1].split("?", 1)[0].split("/")[1:]
    bucket = path[0] if path else ""
    where = "claims" if bucket.endswith("-claims") else ("keys" if bucket.endswith("-keys") else "data")
    key = "/".join(path[1:])
    if where == "claims" and key.startswith("claims/"):
        key = key.removeprefix("claims/")
        where = "claim"
    parts = key.split("/")
    head = "/".join(parts[:2]) if parts and parts[0] in ("claims", "pointers") else parts[0]
    head = re.sub(r"[0-9a-f]{16,}", "<h>", head)
    return f"{where}:{head or '(bucket)'}{' ?query' if '?' in url else ''}"


def _counting(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    response = _inner(self, method, url, *args, **kwargs)
    FAMILY[f"{method} {_family(url)} {response.status}"] += 1
    return response


b.urllib3.PoolManager.urlopen = _counting  # type: ignore[method-assign]


def _worker(job: tuple[str, dict[str, Any], int, int]) -> tuple[int, float, dict[str, int]]:
    url, options, worker, count = job
    repo = b._open(url, options)
    body = os.urandom(200 * 1024)
    FAMILY.clear()
    started = time.perf_counter()
    for i in range(count):
        n = (worker + 1) * 1_000_000 + i
        data = b"%PDF-1.7\n" + n.to_bytes(8, "big") + body
        repo.create_document("den", b._metadata(n, "den"), data, f"vb{n}.pdf", b.CLERK)
    return count, time.perf_counter() - started, dict(FAMILY)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    opts = {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    try:
        bucket = b.new_bucket("m40col", opts)
        b.track(f"{bucket}-keys", opts)
        url = f"s3://{bucket}"
        options = {**opts, "group_commit": True}
        warm = b._open(url, options)
        warm.create_document("den", b._metadata(999_999, "den"), b"%PDF-1.7\nwarm", "w.pdf", b.CLERK)
        jobs = [(url, options, w, args.records) for w in range(args.processes)]
        with mp.get_context("fork").Pool(args.processes) as pool:
            results = pool.map(_worker, jobs)
        done = sum(r[0] for r in results)
        wall = max(r[1] for r in results)
        total: collections.Counter[str] = collections.Counter()
        for r in results:
            total.update(r[2])
        per = sum(total.values()) / done
        print(f"{args.processes} proc: {done / wall:.1f} records/s, {per:.2f} requests a record")
        for kind, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n / done:6.3f}  {kind}")
    finally:
        b.drop_made()


if __name__ == "__main__":
    main()
