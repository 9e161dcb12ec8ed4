"""Steady-state CPU per document of one bulk worker and of the verification and text workers it
drives, after 8 warm-up documents (one process, chunks of 16 as ``kho ingest files`` runs them).

    .venv/bin/python bench/m12_steady_cpu.py TREE [N] [--prof]

TREE: the code tree first on ``sys.path`` (``.`` or ``/tmp/base-m12``); N documents (default 80,
at most 192) of ``~/.cache/kho-bench/signed-200x3`` (``bench/bench_ingest.py --count 200`` makes
them). Prints the pipeline process's CPU per step (``time.process_time`` around each step's
``run`` and the index flush) and each worker process's CPU per document (``/proc/PID/stat``, read
1 s after the last document so the worker's after-reply housekeeping is counted); ``--prof``: a
cProfile of the pipeline process (sorted by ``SORT``, default cumulative).
"""

from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import scratch

TREE = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(TREE))
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 80
FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-200x3"


def _workers() -> dict[str, float]:
    """CPU seconds of each child of this process, by its command (``-m`` module and kind)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        if int(fields[1]) == os.getpid():
            ticks = int(fields[11]) + int(fields[12])
            out[command.split(" -m ")[-1][:30]] = ticks / os.sysconf("SC_CLK_TCK")
    return out


def main() -> int:
    paths = sorted(FOLDER.glob("signed-*.pdf"))[: COUNT + 8]
    os.environ.update(
        KHO_DATA_DIR=scratch.mkdtemp(prefix="m12-steady-"), KHO_TRUST_DIR=str(FOLDER / "trust"),
        KHO_FSYNC="false", KHO_BROKER_URL="", KHO_TIKA_URL="",
    )
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    from ingest import bulk
    from ingest import pipeline as pl
    from ingest.source_files import identity

    bulk._init_worker("den")
    spent: dict[str, float] = {}

    def timed(name: str, run: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            start = time.process_time()
            try:
                return run(*args)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - start
        return wrapper

    for cls in (pl.StoreOriginal, pl.ExtractText, pl.VerifySignatures, pl.ExtractMetadata, pl.IndexRecord):
        cls.run = timed(cls.__name__, cls.run)  # type: ignore[method-assign]
    pl.Pipeline.flush_index = timed("flush", pl.Pipeline.flush_index)  # type: ignore[method-assign]

    def chunk(part: list[Path]) -> list[tuple[str, str, Any]]:
        return [(str(p), str(p), identity(p)) for p in part]

    for i in range(0, 8, 4):
        bulk._ingest_chunk(chunk(paths[i:i + 4]))
    time.sleep(1)
    workers_before = _workers()
    spent.clear()
    cpu_before = time.process_time()
    profile = cProfile.Profile() if "--prof" in sys.argv else None
    if profile:
        profile.enable()
    for i in range(8, 8 + COUNT, 16):
        bulk._ingest_chunk(chunk(paths[i:i + 16]))
    if profile:
        profile.disable()
    cpu = time.process_time() - cpu_before
    time.sleep(1)
    workers_after = _workers()
    print("pipeline steps ms/doc", {k: round(1000 * v / COUNT, 1) for k, v in spent.items()})
    print(f"pipeline {1000 * cpu / COUNT:.1f} ms/doc;", {
        k: round(1000 * (v - workers_before.get(k, 0.0)) / COUNT, 1) for k, v in workers_after.items()
    })
    if profile:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)
        print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
