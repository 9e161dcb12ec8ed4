"""The cost of looking at every version of an ingest job (task m62): ``kho ingest scrub`` and
``kho fsck``'s ``job-plaintext`` step now list each job's versions (S3: one LIST) and read each
older one (:func:`repository.ingest_jobs.older_plaintext`), where they read the current version
only.

One store is filled once with ``--jobs`` jobs as the pipeline leaves them (two versions each:
the job while it runs, with its file name and import path, then done, with its record and the
neutral name: format 2, nothing the rule forbids), so neither tree writes anything and every run
reads the same store. Then, interleaved per round, A's and B's scrub, then A's and B's fsck, each
in its own process with that tree's code first on ``sys.path``; prints each run's milliseconds
per job and (S3) HTTP requests per job, and the min/median per tree.

    source /work/runs/svc46/env.sh && eval "$(bash /work/main/scripts/services.sh env)"
    git worktree add --detach /tmp/m62base main
    nice -n 10 .venv/bin/python bench/m62_scrub_versions.py /tmp/m62base . [--s3] [--jobs 2000] [--rounds 3]

The local folder is opened with fsync on (nothing is written by the runs anyway). Not a test."""

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def _s3_options() -> dict[str, Any]:
    env = os.environ
    return {"endpoint": env["KHO_TEST_S3_ENDPOINT"], "access_key": env["KHO_TEST_S3_ACCESS_KEY"],
            "secret_key": env["KHO_TEST_S3_SECRET_KEY"], "secure": False}


def populate(url: str, jobs: int) -> None:
    """``jobs`` jobs, two versions each, as the pipeline writes them (``JobStore.put``)."""
    from repository.ingest_jobs import JOBS_PREFIX, neutral_filename
    from repository.storage import open_store

    store = open_store(url, **(_s3_options() if url.startswith("s3://") else {"fsync": False}))

    def one(n: int) -> None:
        job_id = f"{n:064x}"
        body: dict[str, Any] = {
            "format_version": 2, "job_id": job_id, "filename": f"QD-{n}-ky-luat-Nguyen-Van-Binh.pdf",
            "direction": "den", "state": "đang xử lý", "created_at": "2026-12-07T00:00:00Z",
            "updated_at": "2026-12-07T00:00:00Z", "step": "store", "record_id": None, "reason_code": None,
            "reason": None, "source": f"/srv/import/QD-{n}.pdf", "attempts": 1, "steps": {}, "summary": {},
        }
        store.put(f"{JOBS_PREFIX}{job_id}.json", json.dumps(body, ensure_ascii=False).encode())
        body.update(state="xong", step=None, record_id=f"r{n:023d}", source=None,
                    filename=neutral_filename(job_id, str(body["filename"])))
        store.put(f"{JOBS_PREFIX}{job_id}.json", json.dumps(body, ensure_ascii=False).encode())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(jobs)))


def one_run(tree: Path, what: str, url: str, data_dir: str, jobs: int) -> tuple[float, float, str]:
    command = [sys.executable, os.path.abspath(__file__), "--run", str(tree), "--what", what, "--url", url,
               "--data-dir", data_dir, "--jobs", str(jobs)]
    out = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                         capture_output=True, text=True, timeout=3600).stdout
    found = re.search(r"^done (\S+) ms/job ([\d.]+) requests/job ([\d.]+) (.*)$", out, re.M)
    assert found, out
    return float(found[2]), float(found[3]), f"{found[1]} {found[4]}"


def drive(args: argparse.Namespace) -> None:
    trees = {"A": Path(args.a).resolve(), "B": Path(args.b).resolve()}
    with tempfile.TemporaryDirectory(prefix="m62-bench-") as tmp:
        if args.s3:
            sys.path.insert(0, str(HERE / "tests" / "support"))
            from kho_buckets import drop_made, new_bucket

            url = f"s3://{new_bucket('m62b', _s3_options())}"
        else:
            url = f"file://{tmp}/store"
        try:
            began = time.perf_counter()
            populate(url, args.jobs)
            where = "S3 gateway (claims mode)" if args.s3 else "local folder"
            print(f"{args.jobs} jobs, 2 versions each (format 2, clean), {where}; filled in"
                  f" {time.perf_counter() - began:.0f} s", flush=True)
            print(f"A = {trees['A']}\nB = {trees['B']}")
            figures: dict[tuple[str, str], list[tuple[float, float]]] = collections.defaultdict(list)
            for n in range(args.rounds):
                for what in ("scrub", "fsck"):
                    for name, tree in trees.items():
                        data_dir = os.path.join(tmp, f"kho-{name}-{what}-{n}")
                        ms, requests, said = one_run(tree, what, url, data_dir, args.jobs)
                        figures[(what, name)].append((ms, requests))
                        print(f"round {n + 1} {what:5s} {name}: {ms:7.3f} ms/job {requests:6.2f} requests/job"
                              f"  {said}", flush=True)
            for (what, name), runs in sorted(figures.items()):
                ms = [m for m, _ in runs]
                requests = [r for _, r in runs]
                print(f"{what:5s} {name}: ms/job min {min(ms):.3f} median {statistics.median(ms):.3f};"
                      f" requests/job min {min(requests):.2f} median {statistics.median(requests):.2f}")
        finally:
            if args.s3:
                drop_made()


def run(tree: str, what: str, url: str, data_dir: str, jobs: int) -> None:
    for sub in ("tests/support", ""):
        sys.path.insert(0, os.path.join(os.path.abspath(tree), sub))
    counts: collections.Counter[str] = collections.Counter()
    counting = [False]
    if url.startswith("s3://"):
        import urllib3

        real = urllib3.PoolManager.urlopen
        lock = threading.Lock()

        def urlopen(self: Any, method: str, request_url: str, *a: Any, **k: Any) -> Any:
            if counting[0]:
                kind = "LIST" if "versions" in request_url or "list-type" in request_url else method
                with lock:
                    counts[kind] += 1
            return real(self, method, request_url, *a, **k)

        urllib3.PoolManager.urlopen = urlopen  # type: ignore[method-assign]
        options = _s3_options()
        os.environ.update({"KHO_S3_ENDPOINT": options["endpoint"], "KHO_S3_ACCESS_KEY": options["access_key"],
                           "KHO_S3_SECRET_KEY": options["secret_key"]})
    import repository

    assert repository.__file__.startswith(os.path.abspath(tree)), repository.__file__
    os.environ.update({"KHO_DATA_DIR": data_dir, "KHO_STORE_URL": url,
                       "KHO_KEYSTORE_URL": f"file://{data_dir}/keys", "KHO_FSYNC": "true"})
    if what == "scrub":
        from repository.ingest_jobs import scrub_jobs
        from repository.storage import open_store

        store = open_store(url, **(_s3_options() if url.startswith("s3://") else {}))
        counting[0] = True
        began = time.perf_counter()
        report = scrub_jobs(store)
        took = time.perf_counter() - began
        counting[0] = False
        said = f"checked={report.checked} scrubbed={len(report.scrubbed)}"
    else:
        from kho.config import Settings
        from repository.fsck import fsck
        from repository.service import open_repository

        repo = open_repository(Settings.from_env())
        counting[0] = True
        began = time.perf_counter()
        found = fsck(repo, grace_seconds=0)
        took = time.perf_counter() - began
        counting[0] = False
        said = f"issues={len(found.issues)}"
    kinds = " ".join(f"{k}={v / jobs:.2f}" for k, v in sorted(counts.items()))
    print(f"done {said.replace(' ', ',')} ms/job {took * 1000 / jobs:.3f}"
          f" requests/job {sum(counts.values()) / jobs:.3f} {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", nargs="?")
    parser.add_argument("b", nargs="?")
    parser.add_argument("--run")
    parser.add_argument("--what", choices=("scrub", "fsck"))
    parser.add_argument("--url")
    parser.add_argument("--data-dir")
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.run:
        run(args.run, args.what, args.url, args.data_dir, args.jobs)
    else:
        drive(args)


if __name__ == "__main__":
    main()
