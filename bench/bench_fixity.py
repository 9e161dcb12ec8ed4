"""Fixity audit benchmark: MB/s of ``retention.fixity.audit_fixity`` (read, AES-GCM decrypt,
SHA-256 of every original) against ``sha256sum`` over the same stored files in the same run.

    .venv/bin/python bench/bench_fixity.py [--records 60] [--size-kb 1024]

Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repository.records import Actor, Repository
from repository.storage.local import LocalStore
from retention.fixity import audit_fixity

CLERK = Actor(user="bench", source="bench", system=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--size-kb", type=int, default=1024)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kho-bench-fixity-"))
    try:
        repo = Repository(
            LocalStore(base / "store", fsync=False),
            LocalStore(base / "keys", fsync=False),
            agency_id="000.00.18.H40",
        )
        for i in range(args.records):
            metadata = {
                "type_name": "Công văn",
                "code_notation": "BNV-VP",
                "organ_name": "Bộ Nội vụ",
                "subject": f"Về việc thử nghiệm {i}",
                "signer_position": "Chánh Văn phòng",
                "signer_full_name": "Trần Thị Hoà",
                "issued_date": "2026-03-02",
                "code_number": str(i + 1),
            }
            content = b"%PDF-1.4\n" + os.urandom(args.size_kb * 1024)
            repo.create_document("den", metadata, content, f"{i}.pdf", CLERK)
        files = [str(p) for p in (base / "store").rglob("*") if p.is_file() and "/content/" in str(p)]
        size = sum(os.path.getsize(f) for f in files)
        print(f"{len(files)} originals, {size / 1e6:.1f} MB ({os.cpu_count()} cores)")
        started = time.perf_counter()
        subprocess.run(["sha256sum", *files], check=True, stdout=subprocess.DEVNULL)
        plain = time.perf_counter() - started
        started = time.perf_counter()
        report = audit_fixity(repo, actor=CLERK, period=1)
        fixity = time.perf_counter() - started
        assert report.checked == len(files) and not report.damaged
        print(f"  sha256sum                 {plain:6.2f} s  {size / 1e6 / plain:7.1f} MB/s")
        print(f"  kho fixity (decrypt+hash) {fixity:6.2f} s  {size / 1e6 / fixity:7.1f} MB/s")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
