"""CPU per document of named parts of one bulk worker, and of the bomb guard and the language
guess alone, for a code tree (run it for main's tree and this one in turn, in the same minutes).

    .venv/bin/python bench/m16_bulk_parts.py TREE [N]

TREE: the code tree first on ``sys.path`` (``.`` or ``/tmp/base-m16``); N documents (default 96,
at most 192) of ``~/.cache/kho-bench/signed-200x3``. One bulk worker runs in this process
(``bulk._init_worker``, then ``bulk._ingest_chunk`` in chunks of 16, after 8 warm-up documents);
``time.process_time`` is taken around each part named below (inclusive: a part inside another
counts in both; the verification worker's own CPU is not in any). No profiler, so pure-Python
parts are not inflated. Then ``check_pdf_streams`` and ``detect_language`` alone on the same
documents (5 passes; min and median).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch

TREE = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(TREE))
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 96
FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-200x3"


def _timed(spent: dict[str, float], name: str, run: Callable[..., Any]) -> Callable[..., Any]:
    active: list[bool] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if active:  # a recursive call is inside the outer one's time
            return run(*args, **kwargs)
        active.append(True)
        start = time.process_time()
        try:
            return run(*args, **kwargs)
        finally:
            active.pop()
            spent[name] = spent.get(name, 0.0) + time.process_time() - start

    return wrapper


def _wrap_parts(spent: dict[str, float]) -> None:
    from ingest import pipeline, status
    from ingest.text import extractor, pdf
    from repository import audit, records
    from repository.storage import local
    from search import embedded

    wrapped: list[tuple[Any, str, str]] = [
        (pipeline.StoreOriginal, "run", "step store"),
        (pipeline.ExtractText, "run", "step text"),
        (pipeline.VerifySignatures, "run", "step signatures"),
        (pipeline.ExtractMetadata, "run", "step metadata"),
        (pipeline.IndexRecord, "run", "step index"),
        (pipeline.Pipeline, "flush_index", "index flush"),
        (extractor, "check_pdf_streams", "  bomb guard"),
        (pdf, "extract_pdf", "  extract_pdf"),
        (pdf, "detect_language", "  detect_language"),
        (records.Repository, "create_intake", "  create_intake"),
        (records.Repository, "put_derived", "  put_derived"),
        (records.Repository, "set_extra", "  set_extra"),
        (records.Repository, "get", "  repository get"),
        (status.JobStore, "put", "  job writes"),
        (audit.AuditLog, "append", "  audit append"),
        (embedded.EmbeddedBackend, "index", "  index write (SQLite + Tantivy)"),
        (local.LocalStore, "put", "  store put"),
        (local.LocalStore, "put_if_absent", "  store put_if_absent"),
        (local.LocalStore, "get", "  store get"),
    ]
    for owner, attribute, name in wrapped:
        setattr(owner, attribute, _timed(spent, name, getattr(owner, attribute)))


def _alone(datas: list[bytes]) -> None:
    from ingest.text import TextSettings
    from ingest.text.guards import check_pdf_streams
    from ingest.text.model import detect_language
    from ingest.text.pdf import extract_pdf

    settings = TextSettings()
    texts = [extract_pdf(d, settings, extractor="native").text for d in datas[:60]]
    for name, run, items in (
        ("check_pdf_streams", lambda d: check_pdf_streams(d, settings), datas),
        ("detect_language", detect_language, texts),
    ):
        passes = []
        for _ in range(5):
            start = time.process_time()
            for item in items:
                run(item)
            passes.append(1000 * (time.process_time() - start) / len(items))
        print(f"{name} alone: ms/doc min {min(passes):.3f} median {statistics.median(passes):.3f}")


def main() -> int:
    paths = sorted(FOLDER.glob("signed-*.pdf"))[: COUNT + 8]
    os.environ.update(
        KHO_DATA_DIR=scratch.mkdtemp(prefix="m16-parts-"), KHO_TRUST_DIR=str(FOLDER / "trust"),
        KHO_FSYNC="false", KHO_BROKER_URL="", KHO_TIKA_URL="",
    )  # fmt: skip
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    from ingest import bulk
    from ingest.source_files import identity

    bulk._init_worker("den")
    spent: dict[str, float] = {}
    _wrap_parts(spent)

    def chunk(part: list[Path]) -> list[tuple[str, str, Any]]:
        return [(str(p), str(p), identity(p)) for p in part]

    for i in range(0, 8, 4):
        bulk._ingest_chunk(chunk(paths[i : i + 4]))
    spent.clear()
    start = time.process_time()
    for i in range(8, 8 + COUNT, 16):
        bulk._ingest_chunk(chunk(paths[i : i + 16]))
    cpu = time.process_time() - start
    print(f"{TREE}: bulk worker {1000 * cpu / COUNT:.2f} ms/doc (load {os.getloadavg()[0]:.1f})")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {name:36s} {1000 * seconds / COUNT:6.2f}")
    _alone([p.read_bytes() for p in paths[:100]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
