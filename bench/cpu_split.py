"""User and system CPU per stored record on the local store (issue 14, m32): the user part is
the Python the store's callers spend; the system part the kernel's writes, fsyncs and folders.

    .venv/bin/python bench/cpu_split.py [records] [rounds]

Drives ``bench_store._open`` and ``repo.create_document`` (200 KB originals, group commit) as
``bench_store`` does; prints ms per record (user, system, wall) per round and the medians."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_store as b


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    body = os.urandom(200 * 1024)
    rows = []
    for r in range(rounds):
        root = tempfile.mkdtemp(prefix="kho-cpu-split-")
        try:
            repo = b._open(f"file://{root}/store", {"group_commit": True})
            if r == 0:
                print(f"repository code: {os.path.dirname(sys.modules['repository'].__file__)}")
            repo.create_document("den", b._metadata(0, "den"), b"%PDF-1.7\nwarm", "warm.pdf", b.CLERK)
            u0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            for i in range(1, n + 1):
                data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
                repo.create_document("den", b._metadata(i, "den"), data, f"vb{i}.pdf", b.CLERK)
            wall = time.perf_counter() - t0
            u1 = resource.getrusage(resource.RUSAGE_SELF)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        row = (
            (u1.ru_utime - u0.ru_utime) * 1000 / n,
            (u1.ru_stime - u0.ru_stime) * 1000 / n,
            wall * 1000 / n,
        )
        rows.append(row)
        print(f"round {r + 1}: user {row[0]:.2f} ms  system {row[1]:.2f} ms  wall {row[2]:.2f} ms per record")
    med = [statistics.median(x[i] for x in rows) for i in range(3)]
    print(f"median of {rounds}: user {med[0]:.2f} ms  system {med[1]:.2f} ms  wall {med[2]:.2f} ms a record")


if __name__ == "__main__":
    main()
