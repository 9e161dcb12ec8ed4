"""What the removal of a job's older versions that name its file costs per ingested document
(m63), A/B against a base tree, interleaved, in processes of their own (not a test).

    eval "$(bash /work/main/scripts/services.sh env)"
    nice -n 10 .venv/bin/python bench/m63_job_versions.py <base tree> <this tree> \\
        [--rounds 3] [--count 30] [--s3-count 20]

Per round, for A (base) then B (this tree):

* local folder: ``--count`` born-digital signed PDFs (test PKI, 1 page, no time-stamp)
  ingested one by one through the pipeline (``read_once``, the index deferred to a batch
  commit per document, as the bulk import), ``KHO_FSYNC=false``; prints ms per document, and
  the files left under ``versions/ingest/jobs`` and under the whole store per document, and
  the job versions that still name the file;
* S3 (``KHO_TEST_S3_*`` set): ``bench/m52_ingest_requests.py`` run with that tree's code, its
  requests per document and its ``job`` step's lines (the job writes and this removal).

The first document of each local run is a warm-up (not counted)."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child_local(tree: str, count: int) -> None:
    for sub in ("bench", "tests/support", ""):
        sys.path.insert(0, os.path.join(os.path.abspath(tree), sub))
    import logging

    from ingest.pipeline import Pipeline
    from ingest.status import JobState, job_key
    from ingest.testpki import TestPKI, Variant, make_variant
    from kho.config import Settings

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    pki = TestPKI.build()
    documents = [
        make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=6300 + n, pages=1) for n in range(count + 1)
    ]
    with tempfile.TemporaryDirectory(prefix="m63-bench-") as tmp:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        pki.write_trust_dir(trust)
        data = Path(tmp) / "kho"
        os.environ.update(
            KHO_DATA_DIR=str(data), KHO_TRUST_DIR=str(trust), KHO_FSYNC="false", KHO_BROKER_URL="",
            KHO_TIKA_URL="", KHO_AGENCY_ID="000.00.18.H40",
        )
        for name in ("KHO_STORE_URL", "KHO_KEYSTORE_URL"):
            os.environ.pop(name, None)
        pipeline = Pipeline.from_settings(Settings.from_env(), read_once=True)
        pipeline.defer_index = True

        def files() -> int:
            return sum(len(names) for _, _, names in os.walk(data))

        wall, before, keys = 0.0, 0, []
        for n, doc in enumerate(documents):
            if n == 1:
                before = files()
            began = time.perf_counter()
            status = pipeline.ingest(doc, f"QD-ky-luat-Nguyen-Van-{n}.pdf")
            (status,) = pipeline.flush_index() or [status]
            assert status.state is JobState.DONE, status.reason
            if n:
                wall += time.perf_counter() - began
                keys.append(job_key(status.job_id))
        pipeline.close()
        store = pipeline.repo.store
        versions = sum(len(store.list_versions(k)) - 1 for k in keys)
        naming = sum(
            1 for k in keys for v in store.list_versions(k) if b"Nguyen-Van" in store.get(k, v.version_id)
        )
        print(json.dumps({
            "ms_per_doc": 1000 * wall / count,
            "files_per_doc": (files() - before) / count,
            "older_job_versions_per_doc": versions / count,
            "versions_naming": naming,
        }))


def run_local(tree: str, count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-local", tree, "--count", str(count)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_s3(tree: str, count: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(HERE / "m52_ingest_requests.py"), tree, "--count", str(count)],
        capture_output=True, text=True, check=True, cwd=tree,
    ).stdout
    head = re.search(r"([\d.]+) requests and ([\d.]+) rounds per document; ([\d.]+) docs/s", out)
    job = re.search(r"^\s+flush\s+([\d.]+)\s+([\d.]+)", out, re.M)
    assert head and job, out
    kinds = {
        " ".join(m.group(1).split()): float(m.group(2))
        for m in re.finditer(r"^\s{4}(\w+\s+.+?)\s+([\d.]+)$", out, re.M)
    }
    return {
        "requests": float(head.group(1)), "rounds": float(head.group(2)), "docs_s": float(head.group(3)),
        "job_requests": float(job.group(1)), "job_rounds": float(job.group(2)), "kinds": kinds,  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--s3-count", type=int, default=20)
    parser.add_argument("--child-local")
    args = parser.parse_args()
    if args.child_local:
        child_local(args.child_local, args.count)
        return
    base, mine = args.trees
    print(f"load average at start: {os.getloadavg()}")
    local: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    s3: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for n in range(args.rounds):
        for name, tree in (("A", base), ("B", mine)):
            local[name].append(run_local(tree, args.count))
            print(f"round {n + 1} {name} local: {local[name][-1]}  load {os.getloadavg()[0]:.2f}", flush=True)
            if os.environ.get("KHO_TEST_S3_ENDPOINT"):
                s3[name].append(run_s3(tree, args.s3_count))
                print(f"round {n + 1} {name} s3: {s3[name][-1]}  load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    for name, tree in (("A", base), ("B", mine)):
        ms = [r["ms_per_doc"] for r in local[name]]
        print(
            f"{name} {tree} local: ms/doc min {min(ms):.1f} median {statistics.median(ms):.1f}; files/doc "
            f"{local[name][-1]['files_per_doc']:.2f}; older job versions/doc "
            f"{local[name][-1]['older_job_versions_per_doc']:.2f}; versions naming the file "
            f"{local[name][-1]['versions_naming']}"
        )
        if s3[name]:
            req = [r["requests"] for r in s3[name]]
            rate = [r["docs_s"] for r in s3[name]]
            print(
                f"{name} {tree} s3: requests/doc {min(req):.2f}..{max(req):.2f}; flush step requests/doc "
                f"{s3[name][-1]['job_requests']:.2f} rounds {s3[name][-1]['job_rounds']:.2f}; docs/s min "
                f"{min(rate):.2f} median {statistics.median(rate):.2f}"
            )
    if s3["A"] and s3["B"]:
        a, b = s3["A"][-1]["kinds"], s3["B"][-1]["kinds"]  # type: ignore[index]
        print("S3 requests per document that differ, A -> B (last round):")
        for kind in sorted(set(a) | set(b)):  # type: ignore[arg-type]
            if a.get(kind) != b.get(kind):  # type: ignore[union-attr]
                print(f"  {kind:70s} {a.get(kind, 0):5.2f} -> {b.get(kind, 0):5.2f}")  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
