"""cProfile of the bulk workers' document work (``bulk._ingest_chunk``) in a real
``import_paths`` of 200 generated signed PDFs, with 1 or 2 workers: is the extra CPU of a
second worker extra work (more calls) or the same work run slower?

    .venv/bin/python bench/m12_worker_profile.py 1
    .venv/bin/python bench/m12_worker_profile.py 2
    .venv/bin/python bench/m12_worker_profile.py 2 1000 cpu   # 1,000 documents, CPU-time profiler

The wrapper is installed before the pool forks, so every worker profiles its own chunks and
writes ``/tmp/m12-prof{W}-{PID}.pstats`` after each. Prints the workers' CPU per document
(``time.process_time`` inside the chunks, profiler on), the worker processes' whole CPU
(``os.times``: start-up, pool traffic and threads between chunks included), and the 25
functions with the most own time over all workers. Compare ``ncalls`` (the work) and
``tottime`` (its cost) between the two. A second argument takes that many documents of the
cached corpus of at least that size; ``cpu`` as the third profiles CPU time
(``time.process_time``) instead of wall time, so waits on the verification worker (``select``)
drop out and what is left is what the bulk worker itself spends.
"""

from __future__ import annotations

import cProfile
import glob
import io
import logging
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CACHE = Path.home() / ".cache" / "kho-bench"
_state: dict[Any, Any] = {}


def profiled(chunk: Any) -> Any:
    """``bulk._ingest_chunk`` under this process's profiler (module level: the pool pickles
    the function it runs by name)."""
    from ingest import bulk

    stem = _state["stem"]
    if os.getpid() not in _state:
        _state[os.getpid()] = (
            cProfile.Profile(time.process_time) if _state["cpu_timer"] else cProfile.Profile()
        )
    profile = _state[os.getpid()]
    start = time.process_time()
    profile.enable()
    try:
        return _state["original"](chunk)
    finally:
        profile.disable()
        _state["cpu"] = _state.get("cpu", 0.0) + time.process_time() - start
        profile.dump_stats(f"{stem}{os.getpid()}.pstats")
        whole = os.times()
        Path(f"{stem}{os.getpid()}.cpu").write_text(f"{_state['cpu']} {whole.user + whole.system}")
        assert bulk._ingest_chunk is profiled


def main() -> int:
    workers = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    cpu_timer = len(sys.argv) > 3 and sys.argv[3] == "cpu"
    FOLDER = next(
        CACHE / f"signed-{n}x3"
        for n in (8, 100, 200, 400, 1000)
        if n >= count and (CACHE / f"signed-{n}x3").is_dir()
    )
    tmp = scratch.mkdtemp(prefix="m12-prof-")
    os.environ.update(
        KHO_DATA_DIR=tmp,
        KHO_TRUST_DIR=str(FOLDER / "trust"),
        KHO_FSYNC="false",
        KHO_BROKER_URL="",
        KHO_TIKA_URL="",
    )
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    stem = f"/tmp/m12-prof{workers}-"
    for old in glob.glob(stem + "*"):
        os.remove(old)
    from ingest import bulk
    from kho.config import Settings

    _state.update(stem=stem, original=bulk._ingest_chunk, cpu_timer=cpu_timer)
    bulk._ingest_chunk = profiled  # type: ignore[assignment]
    profiled.__module__ = bulk.__name__  # pickled as ingest.bulk._ingest_chunk, found as this
    profiled.__qualname__ = "_ingest_chunk"
    paths = sorted(FOLDER.glob("signed-*.pdf"))[:count]
    report = bulk.import_paths(
        paths, settings=Settings.from_env(), workers=workers, manifest_path=Path(tmp) / "manifest.jsonl"
    )
    files = glob.glob(stem + "*.pstats")
    figures = [Path(f.removesuffix(".pstats") + ".cpu").read_text().split() for f in files]
    cpu = sum(float(inside) for inside, _ in figures)
    whole = sum(float(total) for _, total in figures)
    print(
        f"{workers} workers, {report.done} done: chunk CPU (profiled) {1000 * cpu / len(paths):.1f}"
        f" ms/doc; the worker processes' whole CPU at their last chunk's end (all threads, from"
        f" their start; in-process run: the parent's) {1000 * whole / len(paths):.1f} ms/doc"
    )
    out = io.StringIO()
    pstats.Stats(*files, stream=out).sort_stats("tottime").print_stats(40)
    out.write("\n--- by cumulative time ---\n")
    pstats.Stats(*files, stream=out).sort_stats("cumulative").print_stats(60)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
