"""m37 (issue 14): CPU per stored record of one tree, user and system split (``os.times``),
one process, 200 KB records on a fresh local folder, group commit; the folder is removed.

    PYTHONPATH=<tree> .venv/bin/python <tree>/bench/m37_cpu.py RECORDS on|off

``on``: real fsyncs (as bench_store); ``off``: ``fsync=False`` (KHO_FSYNC=false), so the
figure is the Python (and write/link/mkdir) CPU without the fsyncs' system time. Prints one
line: tree, records, user ms, system ms, wall ms per record."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

tree = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tree), str(tree / "tests" / "support")]

from kho_testing import CLERK, incoming, new_repository  # noqa: E402

from repository.storage.local import LocalStore  # noqa: E402

n = int(sys.argv[1])
fsync = sys.argv[2] == "on"
folder = tempfile.mkdtemp(prefix="m37-cpu-", dir="/tmp")
try:
    store = LocalStore(Path(folder) / "s", fsync=fsync)
    repo = new_repository(store, LocalStore(Path(folder) / "k", fsync=fsync))
    body = os.urandom(200 * 1024)
    repo.create_document("den", incoming(code_number="10"), b"%PDF-1.7\nwarm", "w.pdf", CLERK)
    t0, w0 = os.times(), time.perf_counter()
    for i in range(1, n + 1):
        data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
        repo.create_document("den", incoming(code_number=str(i + 10)), data, f"r{i}.pdf", CLERK)
    t1, w1 = os.times(), time.perf_counter()
    user, system = (t1.user - t0.user) / n * 1e3, (t1.system - t0.system) / n * 1e3
    print(f"{tree.name:10} {n} user {user:.3f} sys {system:.3f} wall {(w1 - w0) / n * 1e3:.3f} ms/record"
          f" load {os.getloadavg()[0]:.1f}")
finally:
    shutil.rmtree(folder, ignore_errors=True)
