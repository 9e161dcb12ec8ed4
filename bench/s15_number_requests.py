"""Requests of a register number on S3, by kind and key (task s15): N numbers per process after
one warm-up act, P processes in one series (hành chính), against the running gateway.

    eval "$(bash scripts/services.sh env)"
    .venv/bin/python bench/s15_number_requests.py <tree> [--numbers 150] [--processes 2]

``<tree>`` is the checkout whose code runs (its own folder first on ``sys.path``): run main's
(``git archive main`` extracted) and this one's in turn, in the same minutes, to compare. Prints
numbers/s (noisy on the shared machine), requests per number and, per request kind and key
prefix, how many each number costs, with the median time of one (1 process: where the wall
time goes). Not a test."""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import statistics
import sys
import time
from typing import Any

TREE = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "."
for sub in ("bench", "tests/support", ""):
    sys.path.insert(0, os.path.join(os.path.abspath(TREE), sub))

import urllib3  # noqa: E402

TIMES: dict[str, list[float]] = collections.defaultdict(list)
_urlopen = urllib3.PoolManager.urlopen


def _kind(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 2)
    bucket = path[1].split("?")[0] if len(path) > 1 else ""
    key = path[2].split("?")[0] if len(path) > 2 else ""
    where = "claims" if bucket.endswith("-claims") else "keys" if bucket.endswith("-keys") else "data"
    parts = key.split("/")
    prefix = parts[0] if parts[0] in ("keys", "records") else "/".join(parts[:2])
    if "?" in url:
        prefix += " ?" + url.split("?", 1)[1].split("=")[0]
    return f"{method} {where} {prefix}"


def _timed_urlopen(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return _urlopen(self, method, url, *args, **kwargs)
    finally:
        TIMES[_kind(method, url)].append(time.perf_counter() - started)


urllib3.PoolManager.urlopen = _timed_urlopen  # type: ignore[method-assign]


def _work(args: tuple[str, dict[str, Any], int, Any]) -> tuple[float, float, dict[str, list[float]]]:
    import bench_store as bs

    url, options, numbers, barrier = args
    repo = bs._open(url, dict(options, group_commit=True))
    repo.create_document("di", bs._metadata(0, "di"), None, None, bs.CLERK)  # caches warm
    barrier.wait()
    TIMES.clear()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(numbers):
        repo.create_document("di", bs._metadata(0, "di"), None, None, bs.CLERK)
    return time.perf_counter() - started, time.process_time() - cpu, dict(TIMES)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree")
    parser.add_argument("--numbers", type=int, default=150)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    from kho_buckets import drop_made, new_bucket, track

    options = {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    bucket = new_bucket("s15n", options)
    track(f"{bucket}-keys", options)
    try:
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            barrier = manager.Barrier(args.processes)
            with ctx.Pool(args.processes) as pool:
                work = [(f"s3://{bucket}", options, args.numbers, barrier)] * args.processes
                results = pool.map(_work, work)
    finally:
        drop_made()
    total = args.numbers * args.processes
    wall = max(r[0] for r in results)
    merged: dict[str, list[float]] = collections.defaultdict(list)
    for _, _, times in results:
        for kind, values in times.items():
            merged[kind].extend(values)
    requests = sum(len(v) for v in merged.values())
    cpu = sum(r[1] for r in results) / total
    print(f"{args.tree}, {args.processes} process(es): {total / wall:.1f} numbers/s,"
          f" {requests / total:.2f} requests and {1000 * cpu:.2f} ms client CPU per number")
    for kind, values in sorted(merged.items()):
        print(f"  {kind:48s} {len(values) / total:5.2f} per number,"
              f" median {1000 * statistics.median(values):6.2f} ms")


if __name__ == "__main__":
    main()
