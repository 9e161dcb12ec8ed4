"""Store benchmark: records/s and MB/s for 200 KB PDFs (hashing, encryption, audit included),
and register-number allocation rate under concurrency, for each backend.

    .venv/bin/python bench/bench_store.py [--records 500] [--size-kb 200] [--processes 1,2,4]
                                          [--s3-endpoint 127.0.0.1:7480 --s3-access-key ... ]

The S3 run happens when an endpoint is given (or KHO_TEST_S3_* are set: scripts/services.sh env).
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repository.records import Actor, Repository
from repository.storage import open_store

CLERK = Actor(user="bench", source="bench", system=True)
AGENCY = "000.00.18.H40"


def _metadata(i: int, direction: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type_name": "Công văn" if direction == "den" else "Quyết định",
        "code_notation": "BNV-VP" if direction == "den" else "QĐ-UBND",
        "organ_name": "Bộ Nội vụ",
        "subject": f"Về việc thử nghiệm hiệu năng kho lưu trữ số {i}",
        "signer_position": "Chánh Văn phòng",
        "signer_full_name": "Trần Thị Hoà",
        "issued_date": "2026-03-02",
    }
    if direction == "den":
        data["code_number"] = str(10 + i)
    else:
        data["recipients"] = ["Sở Nội vụ"]
    return data


def _open(url: str, options: dict[str, Any]) -> Repository:
    key_url = url + "-keys" if url.startswith("s3://") else url + "/../keys"
    return Repository(open_store(url, **options), open_store(key_url, **options), agency_id=AGENCY)


def _store_worker(args: tuple[str, dict[str, Any], int, int, int]) -> tuple[int, float]:
    url, options, worker, count, size = args
    repo = _open(url, options)
    body = os.urandom(size)
    started = time.perf_counter()
    for i in range(count):
        n = worker * 1_000_000 + i
        data = b"%PDF-1.7\n" + n.to_bytes(8, "big") + body
        repo.create_document("den", _metadata(n, "den"), data, f"vb{n}.pdf", CLERK)
    return count, time.perf_counter() - started


def _number_worker(args: tuple[str, dict[str, Any], int, int, int]) -> tuple[int, float]:
    url, options, worker, count, _ = args
    repo = _open(url, options)
    started = time.perf_counter()
    for _ in range(count):
        repo.create_document("di", _metadata(worker, "di"), None, None, CLERK)
    return count, time.perf_counter() - started


def run(
    label: str, url_factory: Any, options: dict[str, Any], records: int, size: int, procs: list[int]
) -> None:
    print(f"\n== {label} ==")
    ctx = mp.get_context("fork")
    for p in procs:
        url = url_factory()
        per = max(1, records // p)
        _open(url, options)  # create buckets / folders once
        started = time.perf_counter()
        with ctx.Pool(p) as pool:
            results = pool.map(_store_worker, [(url, options, w, per, size) for w in range(p)])
        wall = time.perf_counter() - started
        done = sum(r[0] for r in results)
        print(
            f"store  {p} process(es): {done} records of {size // 1024} KB in {wall:.2f} s ="
            f" {done / wall:.1f} records/s, {done * size / wall / 1048576:.1f} MB/s"
        )
    for p in procs:
        url = url_factory()
        per = max(1, records // p)
        _open(url, options)
        started = time.perf_counter()
        with ctx.Pool(p) as pool:
            results = pool.map(_number_worker, [(url, options, w, per, 0) for w in range(p)])
        wall = time.perf_counter() - started
        done = sum(r[0] for r in results)
        repo = _open(url, options)
        year = time.gmtime().tm_year
        numbers = [
            r.registration.number for r in repo.register("hanh-chinh", year, actor=CLERK) if r.registration
        ]
        exact = sorted(numbers) == list(range(1, done + 1))
        print(
            f"number {p} process(es): {done} registrations in {wall:.2f} s = {done / wall:.1f} numbers/s"
            f" (exact, no gap/duplicate: {exact})"
        )
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--size-kb", type=int, default=200)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--s3-endpoint", default=os.environ.get("KHO_TEST_S3_ENDPOINT", ""))
    parser.add_argument("--s3-access-key", default=os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""))
    parser.add_argument("--s3-secret-key", default=os.environ.get("KHO_TEST_S3_SECRET_KEY", ""))
    args = parser.parse_args()
    procs = [int(p) for p in args.processes.split(",")]
    size = args.size_kb * 1024
    base = Path(tempfile.mkdtemp(prefix="kho-bench-", dir=os.environ.get("TMPDIR")))
    run("local folder", lambda: f"file://{base / uuid.uuid4().hex / 'store'}", {}, args.records, size, procs)
    if args.s3_endpoint:
        options = {
            "endpoint": args.s3_endpoint,
            "access_key": args.s3_access_key,
            "secret_key": args.s3_secret_key,
            "secure": False,
        }
        run(
            f"S3 at {args.s3_endpoint}",
            lambda: f"s3://kho-bench-{uuid.uuid4().hex[:12]}",
            options,
            max(50, args.records // 5),
            size,
            procs,
        )
    else:
        print("\nS3: skipped (no --s3-endpoint and KHO_TEST_S3_ENDPOINT unset)")


if __name__ == "__main__":
    main()
