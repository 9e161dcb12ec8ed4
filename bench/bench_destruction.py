"""Retention benchmarks, each beside a baseline measured in the same run:

* eligibility (``retention.eligibility.eligible``) over 100k records vs a bare loop comparing
  pre-computed expiry dates (target ≤ 2 s);
* destruction throughput (records/s) of ``Destructions.execute`` — re-check, crypto-shred, derived
  data removed, index row replaced and purged — vs bare ``Repository.destroy`` on the same store,
  local folder and (with ``KHO_TEST_S3_ENDPOINT``) the S3 gateway;
* SIP build MB/s (``Transfers.build``: read + decrypt + SHA-256 each original, METS/EAD/PREMIS)
  vs copying the same bytes with ``hashlib.sha256`` into a folder; the E-ARK validator time too.

    .venv/bin/python bench/bench_destruction.py [--records 100000] [--destroy 40]
        [--sip-docs 20] [--sip-kb 1024]

Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_buckets import drop_made, new_bucket

from repository.records import Actor, Repository
from repository.storage import open_store
from repository.storage.local import LocalStore
from retention.destruction import Destructions
from retention.eligibility import RetentionFacts, eligible, expiry
from retention.service import RetentionService
from retention.sip import Transfers, validate_with_eark
from search import open_backend

SYSTEM = Actor(user="bench", source="bench", system=True)
AGENCY = "000.00.18.H40"


def bench_eligibility(n: int) -> None:
    today = date(2027, 3, 1)
    periods = ["05 năm", "10 năm", "20 năm", "Vĩnh viễn", "70 năm"]
    facts = [RetentionFacts(f"r{i}", periods[i % 5], date(2000 + i % 26, 1 + i % 12, 1)) for i in range(n)]
    ends = [expiry(f) for f in facts]
    started = time.perf_counter()
    base = [f.record_id for f, e in zip(facts, ends, strict=True) if e is not None and e <= today]
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    found = eligible(facts, today)
    took = time.perf_counter() - started
    assert len(found) == len(base)
    print(
        f"eligibility: {n} records, {len(found)} eligible in {took:.3f} s "
        f"(baseline bare comparison of precomputed dates {baseline:.3f} s; target ≤ 2 s)"
    )


def _document(i: int) -> dict[str, str]:
    return {
        "type_name": "Công văn",
        "code_notation": "BNV-VP",
        "organ_name": "Bộ Nội vụ",
        "subject": f"Thử nghiệm hủy {i}",
        "signer_position": "Chánh Văn phòng",
        "signer_full_name": "Trần Thị Hoà",
        "issued_date": "2015-03-02",
        "code_number": str(i + 1),
    }


def _filled(repo: Repository, n: int, tag: str, maintenance: str = "05 năm", kb: int = 64) -> list[str]:
    files = []
    for i in range(n):
        doc = repo.create_document(
            "den",
            _document(len(files) + i * 7 + hash(tag) % 1000 * 100),
            b"%PDF-1.4\n" + os.urandom(kb * 1024),
            f"{i}.pdf",
            SYSTEM,
        )
        file = repo.create_file(
            {
                "file_notation": f"{i + 1:02d}.{tag}",
                "title": f"Hồ sơ {i}",
                "maintenance": maintenance,
                "creator": "bench",
                "start_date": "2015-01-02",
                "end_date": "2015-12-31",
            },
            SYSTEM,
        )
        file = repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=SYSTEM)
        # Closed through part A's closing: only a closed hồ sơ is ever eligible for destruction.
        RetentionService(repo).close_file(
            file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=SYSTEM
        )
        files.append(file.record_id)
    return files


def bench_destruction(label: str, store_of: callable, n: int, base: Path) -> None:  # type: ignore[valid-type]
    repo = Repository(store_of("s"), store_of("k"), agency_id=AGENCY)
    backend = open_backend(base / f"index-{label}")
    from ingest.indexing import follow

    follow(repo, backend)
    bare = _filled(repo, n, "BARE")
    docs = [d for f in bare for d in repo._load(f).documents] + bare
    started = time.perf_counter()
    for rid in docs:
        repo.destroy(rid, decision="QĐ", actor=SYSTEM)
    baseline = time.perf_counter() - started
    files = _filled(repo, n, "HUY")
    d = Destructions(repo, None, backend)
    case = d.propose(files, "bench", actor=SYSTEM)
    case = d.establish_council(case["case_id"], ["a", "b", "c"], "QĐ 1", actor=SYSTEM)
    for member in ("a", "b", "c"):
        case = d.review(case["case_id"], "agree", actor=Actor(user=member, system=True))
    case = d.record_minutes(case["case_id"], "bb", actor=Actor(user="a", system=True))
    case = d.attach_appraisal(case["case_id"], "td", actor=SYSTEM)
    case = d.decide(case["case_id"], "QĐ 2", approve=True, actor=Actor(user="head", system=True))
    started = time.perf_counter()
    d.execute(case["case_id"], "", actor=SYSTEM)
    took = time.perf_counter() - started
    records = 2 * n
    print(
        f"destruction ({label}): {records} records in {took:.2f} s = {records / took:.1f} records/s "
        f"(baseline bare Repository.destroy: {len(docs) / baseline:.1f} records/s)"
    )
    backend.close()


def bench_sip(docs: int, kb: int, base: Path) -> None:
    repo = Repository(
        LocalStore(base / "sip-s", fsync=False),
        LocalStore(base / "sip-k", fsync=False),
        agency_id=AGENCY,
        agency_name="UBND tỉnh Ninh Bình",
    )
    file = repo.create_file(
        {
            "file_notation": "01.VP",
            "title": "Hồ sơ vĩnh viễn",
            "maintenance": "Vĩnh viễn",
            "creator": "bench",
            "start_date": "2015-01-02",
            "end_date": "2015-12-31",
        },
        SYSTEM,
    )
    payloads = []
    for i in range(docs):
        data = b"%PDF-1.4\n" + os.urandom(kb * 1024)
        payloads.append(data)
        doc = repo.create_document("den", _document(5000 + i), data, f"{i}.pdf", SYSTEM)
        file = repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=SYSTEM)
    file = RetentionService(repo).close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=SYSTEM
    )
    total = sum(len(p) for p in payloads) / 1e6
    started = time.perf_counter()
    out = base / "copy"
    out.mkdir()
    for i, data in enumerate(payloads):
        hashlib.sha256(data).hexdigest()
        (out / f"{i}.pdf").write_bytes(data)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    package = Transfers(repo).build(file.record_id, base / "sip", actor=SYSTEM)
    took = time.perf_counter() - started
    started = time.perf_counter()
    verdict = validate_with_eark(package.root)
    validated = time.perf_counter() - started
    print(
        f"SIP build: {docs} originals, {total:.1f} MB in {took:.2f} s = {total / took:.1f} MB/s "
        f"(baseline hash+copy of the same bytes: {total / baseline:.1f} MB/s); "
        f"E-ARK validator {validated:.1f} s, valid={verdict.valid}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--destroy", type=int, default=40)
    parser.add_argument("--sip-docs", type=int, default=20)
    parser.add_argument("--sip-kb", type=int, default=1024)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kho-bench-destruction-"))
    try:
        print(f"({os.cpu_count()} cores)")
        bench_eligibility(args.records)
        bench_destruction("local", lambda name: LocalStore(base / name, fsync=False), args.destroy, base)
        endpoint = os.environ.get("KHO_TEST_S3_ENDPOINT")
        if endpoint:
            options = {
                "endpoint": endpoint,
                "access_key": os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""),
                "secret_key": os.environ.get("KHO_TEST_S3_SECRET_KEY", ""),
                "secure": False,
            }
            bench_destruction(
                "S3",
                lambda name: open_store(f"s3://{new_bucket(f'bench-{name}', options)}", **options),
                args.destroy,
                base,
            )
        else:
            print("destruction (S3): skipped, KHO_TEST_S3_ENDPOINT is not set")
        bench_sip(args.sip_docs, args.sip_kb, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        drop_made()  # the gateway keeps every object in RAM (tests/support/kho_buckets.py)


if __name__ == "__main__":
    main()
