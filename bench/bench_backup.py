"""Backup / restore benchmark: MB/s and objects/s of ``retention.backup`` against a plain copy of
the same data measured in the same run (``shutil.copytree`` of the store folder locally; a raw
put of every object into a fresh bucket, ``mc mirror``-like, on S3).

    .venv/bin/python bench/bench_backup.py [--large 48] [--large-kb 1024] [--small 2000] [--small-kb 2]
        [--lock-days 1]

The write-once rows lock every blob (COMPLIANCE) and then back up again asking a day more, so
every reused blob's lock is extended: the cost of keeping an incremental backup write-once.

The S3 run happens when KHO_TEST_S3_* are set (``eval "$(bash scripts/services.sh env)"``).
The store is written with fsync off and copies are made with fsync off, so both sides compare
like with like. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_buckets import drop_made, new_bucket

from repository import formats
from repository.audit import WITNESS_KEY
from repository.storage import open_store
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, restore, store_hashes


def fill(store: ObjectStore, large: int, large_kb: int, small: int, small_kb: int) -> tuple[int, int]:
    """Records' objects, and an audit witness: a backup must carry it and a restore put it back
    where the restored store reads it (on S3: the companion bucket, ``bench/NOTES-s2.md``)."""
    witness = formats.dumps(formats.WITNESS.name, {"seq": 0, "hash": "0" * 64})
    store.put(WITNESS_KEY, witness)
    total = len(witness)
    for i in range(large):
        data = os.urandom(large_kb * 1024)
        store.put_if_absent(f"records/{i:08x}/content/{i:064x}", data)
        total += len(data)
    for i in range(small):
        data = os.urandom(small_kb * 1024)
        store.put_if_absent(f"records/{i:08x}/v{i:06d}", data)
        total += len(data)
    return 1 + large + small, total


def timed(label: str, objects: int, size: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    rate = size / 1e6 / seconds
    print(f"  {label:<34} {seconds:7.2f} s  {rate:8.1f} MB/s  {objects / seconds:8.0f} objects/s")
    return seconds


def raw_copy(source: ObjectStore, target: ObjectStore) -> None:
    for info in source.list(""):
        target.put_if_absent(info.key, source.get(info.key))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=48)
    parser.add_argument("--large-kb", type=int, default=1024)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--small-kb", type=int, default=2)
    parser.add_argument("--lock-days", type=int, default=1,
                        help="COMPLIANCE lock of the write-once rows (the second backup asks one day more)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="kho-bench-backup-"))
    try:
        store = LocalStore(base / "store", fsync=False)
        objects, size = fill(store, args.large, args.large_kb, args.small, args.small_kb)
        print(f"{objects} objects, {size / 1e6:.1f} MB ({os.cpu_count()} cores)")
        print("local folder:")
        copy = base / "copy"
        timed("plain copy (shutil.copytree)", objects, size, lambda: shutil.copytree(base / "store", copy))
        dest = LocalStore(base / "backup", fsync=False)
        timed("kho backup (verified)", objects, size, lambda: backup(store, dest, label="store"))
        timed("kho backup again (incremental)", objects, size, lambda: backup(store, dest, label="store"))
        target = LocalStore(base / "restored", fsync=False)
        timed("kho restore", objects, size, lambda: restore(dest, target, label="store"))
        assert store_hashes(target) == store_hashes(store)
        locked = LocalStore(base / "backup-locked", fsync=False)
        timed("kho backup write-once (lock)", objects, size,
              lambda: backup(store, locked, label="store", lock_days=args.lock_days))
        timed("  again, every lock extended", objects, size,
              lambda: backup(store, locked, label="store", lock_days=args.lock_days + 1))
        endpoint = os.environ.get("KHO_TEST_S3_ENDPOINT")
        if endpoint:
            options = {
                "endpoint": endpoint,
                "access_key": os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""),
                "secret_key": os.environ.get("KHO_TEST_S3_SECRET_KEY", ""),
                "secure": False,
            }
            raw = open_store(f"s3://{new_bucket('bench-raw', options)}", **options)
            s3 = open_store(f"s3://{new_bucket('bench-backup', options)}", **options)
            print(f"S3 ({endpoint}):")
            timed("raw copy (put every object)", objects, size, lambda: raw_copy(store, raw))
            assert store_hashes(raw) == store_hashes(store)
            timed("kho backup (verified)", objects, size, lambda: backup(store, s3, label="store"))
            timed("kho backup again (incremental)", objects, size, lambda: backup(store, s3, label="store"))
            again = LocalStore(base / "restored-s3", fsync=False)
            timed("kho restore", objects, size, lambda: restore(s3, again, label="store"))
            assert store_hashes(again) == store_hashes(store)
            into_s3 = open_store(f"s3://{new_bucket('bench-restored', options)}", **options)
            timed("kho restore into S3", objects, size, lambda: restore(s3, into_s3, label="store"))
            assert store_hashes(into_s3) == store_hashes(store) and into_s3.exists(WITNESS_KEY)
            # (its COMPLIANCE-locked versions stay until --lock-days pass: kho_buckets says which)
            worm = open_store(f"s3://{new_bucket('bench-worm', options)}", **options, object_lock=True)
            timed("kho backup write-once (lock)", objects, size,
                  lambda: backup(store, worm, label="store", lock_days=args.lock_days))
            timed("  again, every lock extended", objects, size,
                  lambda: backup(store, worm, label="store", lock_days=args.lock_days + 1))
    finally:
        shutil.rmtree(base, ignore_errors=True)
        drop_made()  # the gateway keeps every object in RAM (tests/support/kho_buckets.py)


if __name__ == "__main__":
    main()
