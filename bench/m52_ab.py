"""Interleaved A/B of the bulk import (task m52, issue 14): ``bench/bench_bulk.py`` of two trees
in turn (A, B, A, B, ...) over the same corpus, each run a fresh installation, on the S3 gateway
or the local store, 2 workers; prints each run's docs/s and the min/median per tree.

    eval "$(bash /work/main/scripts/services.sh env)"
    git worktree add --detach /tmp/m52-main main
    nice -n 10 .venv/bin/python bench/m52_ab.py /tmp/m52-legacy/pdfs /tmp/m52-legacy/trust \
        /tmp/m52-main . [--s3] [--rounds 3]

Each tree's code runs (its folder on ``PYTHONPATH`` and as the working directory); the
interpreter is this one's. Not a test."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def one_run(tree: Path, corpus: Path, trust: Path, s3: bool, workers: int) -> tuple[float, str]:
    data = Path(tempfile.mkdtemp(prefix="m52-ab-"))
    try:
        command = [sys.executable, str(tree / "bench" / "bench_bulk.py"), str(corpus), "--data",
                   str(data / "kho"), "--trust", str(trust), "--workers", str(workers)]
        command += ["--s3"] if s3 else []
        env = {**os.environ, "PYTHONPATH": str(tree)}
        out = subprocess.run(command, cwd=tree, env=env, check=True, capture_output=True, text=True,
                             timeout=1800).stdout
    finally:
        shutil.rmtree(data, ignore_errors=True)
    rate = re.search(r"^run .*?files finished\s+([\d.]+) docs/s", out, re.M)
    manifest = re.search(r"^manifest: .*$", out, re.M)
    assert rate and manifest and "'xong'" in manifest[0] and "lỗi" not in manifest[0], out
    return float(rate[1]), manifest[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("trust", type=Path)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    trees = {"A": args.a.resolve(), "B": args.b.resolve()}
    rates: dict[str, list[float]] = {"A": [], "B": []}
    store = "S3" if args.s3 else "local"
    for n in range(args.rounds):
        for side, tree in trees.items():
            rate, manifest = one_run(tree, args.corpus, args.trust, args.s3, args.workers)
            rates[side].append(rate)
            print(f"round {n + 1} {side} ({tree}), {store}: {rate:.2f} docs/s; {manifest}", flush=True)
    for side, tree in trees.items():
        print(f"{side} {tree} {store}, {args.workers} workers: docs/s min {min(rates[side]):.2f},"
              f" median {statistics.median(rates[side]):.2f} (runs: {rates[side]})")


if __name__ == "__main__":
    main()
