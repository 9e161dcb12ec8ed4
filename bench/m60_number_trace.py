"""Where a register number's time goes on S3 (issue 14, m60): every HTTP request of one number,
its start and end in ms from the start of ``create_document``, median over ``--numbers``.

    PYTHONPATH=. .venv/bin/python bench/m60_number_trace.py [--numbers 150]

One process, văn bản đi with no file, group commit, one series (as ``bench_store.py --parts
numbers``), after 5 numbers that warm the caches. Requests are named by bucket (``claims``: the
companion bucket, ``keys``: the key store) and key, record ids and numbers folded, so the lines
are the rounds of the critical path in order. The gaps between them are this process's own
work between rounds. Needs ``scripts/services.sh env``. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import collections
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_store as b  # installs the request counter (wrapped again below)
import urllib3
from kho_testing import s3_options  # (tests/support: on the path through bench_store)

_LOG: list[tuple[str, float, float]] = []
_T0 = [0.0]
_counted = urllib3.PoolManager.urlopen


def _name(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 2)
    bucket = path[1] if len(path) > 1 else ""
    where = "claims " if bucket.endswith("-claims") else "keys " if bucket.endswith("-keys") else ""
    key = path[2].split("?")[0] if len(path) > 2 else ""
    key = re.sub(r"\d{6,}", "<n>", re.sub(r"[0-9a-f]{24,32}", "<id>", key))
    return f"{method} {where}{key}"


def _timed(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return _counted(self, method, url, *args, **kwargs)
    finally:
        ended = time.perf_counter()
        _LOG.append((_name(method, url), (started - _T0[0]) * 1000, (ended - _T0[0]) * 1000))


urllib3.PoolManager.urlopen = _timed  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=150)
    args = parser.parse_args()
    options = s3_options()
    if options is None:
        raise SystemExit("KHO_TEST_S3_ENDPOINT is not set (scripts/services.sh env)")
    try:
        bucket = b.new_bucket("m60trace", options)
        b.track(f"{bucket}-keys", options)
        repo = b._open(f"s3://{bucket}", {**options, "group_commit": True})
        for _ in range(5):
            repo.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)
        rows: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        totals: list[float] = []
        for _ in range(args.numbers):
            _LOG.clear()
            _T0[0] = time.perf_counter()
            repo.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)
            totals.append((time.perf_counter() - _T0[0]) * 1000)
            for name, start, end in _LOG:
                rows[name].append((start, end))
    finally:
        b.drop_made()
    print(f"{args.numbers} numbers: median {statistics.median(totals):.2f} ms a number")
    for name, spans in sorted(rows.items(), key=lambda kv: statistics.median(s for s, _ in kv[1])):
        start = statistics.median(s for s, _ in spans)
        end = statistics.median(e for _, e in spans)
        print(f"  {start:6.2f} - {end:6.2f}  x{len(spans) / args.numbers:.2f}  {name}")


if __name__ == "__main__":
    main()
