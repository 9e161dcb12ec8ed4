"""The cost of ``kho ingest scrub`` per old job (task m57, issue 14): the scrub now reads a job
with ``get_tagged`` and removes it with ``delete_if_current`` (compare, then remove) where it
read it with ``get`` and removed it with ``delete``. Interleaved A/B of two trees (A, B, A, B,
...), each run a fresh store holding ``--jobs`` jobs of format 1 (file name and import path in
plaintext, 3 versions each), scrubbed once; prints each run's milliseconds and (S3) HTTP
requests per job, and the min/median per tree.

    source /work/runs/svc46/env.sh && eval "$(bash /work/main/scripts/services.sh env)"
    git worktree add --detach /tmp/m57base main
    nice -n 10 .venv/bin/python bench/m57_scrub.py /tmp/m57base . [--s3] [--jobs 40] [--rounds 3]

A run is this script with ``--run <tree>``: that tree's code first on ``sys.path`` (this
interpreter). The local folder syncs (``fsync`` on), as a real store.

    nice -n 10 .venv/bin/python bench/m57_scrub.py --ops [--s3] [--jobs 150]

The removal alone, in this tree: for each pair of keys (3 versions each), one read and
removed as main's scrub did (``get`` + ``delete``), the other as m57's does (``get_tagged`` +
``delete_if_current``), alternately in one process: min/median/p90 of each. Not a test."""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def one_run(tree: Path, s3: bool, jobs: int) -> tuple[float, float, str]:
    command = [sys.executable, os.path.abspath(__file__), "--run", str(tree), "--jobs", str(jobs)]
    command += ["--s3"] if s3 else []
    out = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                         capture_output=True, text=True, timeout=1800).stdout
    found = re.search(r"^scrubbed (\d+) ms/job ([\d.]+) requests/job ([\d.]+) (.*)$", out, re.M)
    assert found and int(found[1]) == jobs, out
    return float(found[2]), float(found[3]), found[4]


def drive(args: argparse.Namespace) -> None:
    trees = {"A": Path(args.a).resolve(), "B": Path(args.b).resolve()}
    figures: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
    where = "S3 gateway (claims mode)" if args.s3 else "local folder (fsync)"
    print(f"{args.jobs} jobs of format 1 (3 versions each), scrubbed once; {where}")
    print(f"A = {trees['A']}\nB = {trees['B']}")
    for n in range(args.rounds):
        for name, tree in trees.items():
            ms, requests, kinds = one_run(tree, args.s3, args.jobs)
            figures[name].append((ms, requests))
            print(f"round {n + 1} {name}: {ms:7.2f} ms/job  {requests:5.2f} requests/job  {kinds}",
                  flush=True)
    for name, runs in figures.items():
        ms = [m for m, _ in runs]
        requests = [r for _, r in runs]
        print(f"{name}: ms/job min {min(ms):.2f} median {statistics.median(ms):.2f}; requests/job"
              f" min {min(requests):.2f} median {statistics.median(requests):.2f}")


def run(tree: str, s3: bool, jobs: int) -> None:
    for sub in ("tests/support", ""):
        sys.path.insert(0, os.path.join(os.path.abspath(tree), sub))
    counts: collections.Counter[str] = collections.Counter()
    counting = [False]
    if s3:
        import urllib3

        real = urllib3.PoolManager.urlopen
        lock = threading.Lock()

        def urlopen(self: Any, method: str, url: str, *a: Any, **k: Any) -> Any:
            if counting[0]:
                kind = "LIST" if "versions" in url or "list-type" in url else method
                with lock:
                    counts[kind] += 1
            return real(self, method, url, *a, **k)

        urllib3.PoolManager.urlopen = urlopen  # type: ignore[method-assign]
    import repository
    from repository.ingest_jobs import JOBS_PREFIX, scrub_jobs
    from repository.storage import open_store

    assert repository.__file__.startswith(os.path.abspath(tree)), repository.__file__

    with tempfile.TemporaryDirectory(prefix="m57-scrub-") as tmp:
        if s3:
            from kho_buckets import drop_made, new_bucket

            options = {"endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
                       "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
                       "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"], "secure": False}
            store = open_store(f"s3://{new_bucket('m57b', options)}", **options)
        else:
            store = open_store(f"file://{tmp}/store")
        try:
            for n in range(jobs):
                job_id = f"{n:064x}"
                body = {"format_version": 1, "job_id": job_id, "filename": "QD-ky-luat-Nguyen-Van-Binh.pdf",
                        "direction": "den", "state": "xong", "created_at": "2026-12-07T00:00:00Z",
                        "updated_at": "2026-12-07T00:00:00Z", "step": None, "record_id": f"r{n}",
                        "reason_code": None, "reason": None, "source": "/srv/import/x.pdf",
                        "attempts": 1, "steps": {}, "summary": {}}
                for attempt in range(3):
                    body["attempts"] = attempt + 1
                    store.put(f"{JOBS_PREFIX}{job_id}.json", json.dumps(body).encode())
            counting[0] = True
            began = time.perf_counter()
            report = scrub_jobs(store)
            took = time.perf_counter() - began
            counting[0] = False
        finally:
            if s3:
                drop_made()
    kinds = " ".join(f"{k}={v / jobs:.2f}" for k, v in sorted(counts.items()))
    print(f"scrubbed {len(report.scrubbed)} ms/job {took * 1000 / jobs:.3f}"
          f" requests/job {sum(counts.values()) / jobs:.3f} {kinds}")


def ops(s3: bool, jobs: int) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support"))
    from repository.storage import open_store

    with tempfile.TemporaryDirectory(prefix="m57-ops-") as tmp:
        if s3:
            from kho_buckets import drop_made, new_bucket

            options = {"endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
                       "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
                       "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"], "secure": False}
            store = open_store(f"s3://{new_bucket('m57o', options)}", **options)
        else:
            store = open_store(f"file://{tmp}/store")
        try:
            keys = [f"ingest/jobs/{n:064x}.json" for n in range(2 * jobs)]
            for key in keys:
                for version in range(3):
                    store.put(key, b'{"attempts": %d}' % version)
            plain: list[float] = []
            conditional: list[float] = []
            for n in range(jobs):
                began = time.perf_counter()
                store.get(keys[2 * n])
                store.delete(keys[2 * n])
                plain.append(time.perf_counter() - began)
                began = time.perf_counter()
                _, tag = store.get_tagged(keys[2 * n + 1])
                assert store.delete_if_current(keys[2 * n + 1], tag)
                conditional.append(time.perf_counter() - began)
        finally:
            if s3:
                drop_made()
    print(f"{jobs} pairs, {'S3 gateway (claims mode)' if s3 else 'local folder (fsync)'}")
    pairs = (("get + delete (main)", plain), ("get_tagged + delete_if_current (m57)", conditional))
    for name, times in pairs:
        times.sort()
        print(f"{name:38s} ms: min {times[0] * 1e3:.3f} median {statistics.median(times) * 1e3:.3f}"
              f" p90 {times[int(len(times) * 0.9)] * 1e3:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", nargs="?")
    parser.add_argument("b", nargs="?")
    parser.add_argument("--run")
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ops", action="store_true")
    args = parser.parse_args()
    if args.ops:
        ops(args.s3, args.jobs)
    elif args.run:
        run(args.run, args.s3, args.jobs)
    else:
        drive(args)


if __name__ == "__main__":
    main()
