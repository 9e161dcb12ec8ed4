"""m37 (issue 14): cProfile of one process storing N 200 KB records on the local folder,
syncs pinned inline (``overlap.NEVER``: every call in the profiled thread, whatever the load).

    PYTHONPATH=<tree> .venv/bin/python bench/m37_prof.py N [own|cum] [lines]

Prints the Python function calls per record (deterministic) and the top functions. The
store's temp folder is removed at the end."""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path[:0] = [str(here), str(here.parent / "tests" / "support")]

import bench_store as b  # noqa: E402

from repository.storage import local  # noqa: E402
from repository.storage.overlap import NEVER  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
order = sys.argv[2] if len(sys.argv) > 2 else "tottime"
lines = int(sys.argv[3]) if len(sys.argv) > 3 else 40
local.DEFAULT_OVERLAP = NEVER
folder = tempfile.mkdtemp(prefix="m37-prof-", dir="/tmp")
try:
    repo = b._open(f"file://{folder}/store", {"group_commit": True})
    body = os.urandom(200 * 1024)
    repo.create_document("den", b._metadata(0, "den"), b"%PDF-1.7\nwarm", "warm.pdf", b.CLERK)
    repo.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(1, n + 1):
        data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
        repo.create_document("den", b._metadata(i, "den"), data, f"vb{i}.pdf", b.CLERK)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if os.environ.get("M37_DUMP"):
        stats.dump_stats(os.environ["M37_DUMP"])
    print(f"repository from {local.__file__}")
    print(f"function calls per record: {stats.total_calls / n:.1f}")  # type: ignore[attr-defined]
    stats.sort_stats(order).print_stats(lines)
finally:
    shutil.rmtree(folder, ignore_errors=True)
