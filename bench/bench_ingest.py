"""End-to-end ingest throughput in embedded mode, per-step times and peak memory.

    .venv/bin/python bench/bench_ingest.py [--count 1000] [--workers 2] [--only a|b] [--fsync]

(a) N born-digital signed PDFs (3 pages, personal + agency signature, time-stamped), made by
    ``bench/make_signed_corpus.py`` into a cache folder the first time
    (``~/.cache/kho-bench/signed-<N>x3``); trust anchor: the test PKI's root.
(b) the real scanned signed documents of the corpus (``vn-*`` rows of MANIFEST.tsv with
    ``signed xN``), trust anchors: ``corpora/pdf/trust``.

``--fsync`` sets ``KHO_FSYNC=true`` (the embedded default: every store write is fsynced, 16
writes per document, and the run is bound by the disk's fsync latency); without it the writes
stay in the page cache and the figure is the pipeline's own processing throughput.

Each part runs in a fresh process against an empty embedded Kho (store, key store and index in
a temporary folder) through ``ingest.bulk.import_paths`` — the code ``kho ingest`` runs — with a
pool of ``--workers`` processes. Prints documents/s (wall clock, pool start included), the
mean / p50 / p95 of each step, and the peak resident memory of the pool workers (largest one,
Tesseract child processes counted separately by the kernel) and of the parent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
CORPUS_PDF = SHARED / "corpora" / "pdf"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kho-bench"
STEPS = ("store", "text", "signatures", "metadata", "index")


def generated_corpus(count: int, workers: int) -> Path:
    folder = CACHE / f"signed-{count}x3"
    have = len(list(folder.glob("signed-*.pdf"))) if folder.is_dir() else 0
    if have < count or not (folder / "trust").is_dir():
        print(f"generating {count} signed PDFs into {folder} ...", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "make_signed_corpus.py"), str(folder),
             "--count", str(count), "--pages", "3", "--workers", str(workers)],
            check=True,
        )
    return folder


def scanned_documents() -> list[Path]:
    with (CORPUS_PDF / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        CORPUS_PDF / row["file"]
        for row in rows
        if row["file"].startswith("vn-") and re.match(r"signed x\d+", row["signature_status"])
    ]


def run_part(part: str, count: int, workers: int, fsync: bool) -> dict[str, object]:
    """Runs in a fresh process (so peak-memory figures belong to this part only)."""
    import logging

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    if part == "a":
        folder = generated_corpus(count, workers)
        paths = sorted(folder.glob("signed-*.pdf"))[:count]
        trust = folder / "trust"
    else:
        paths = scanned_documents()
        trust = CORPUS_PDF / "trust"
    pages = 0
    import pypdfium2 as pdfium

    for p in paths:
        doc = pdfium.PdfDocument(str(p))
        pages += len(doc)
        doc.close()

    with tempfile.TemporaryDirectory(prefix="kho-bench-ingest-") as tmp:
        os.environ.update(
            KHO_DATA_DIR=tmp, KHO_TRUST_DIR=str(trust), KHO_FSYNC="true" if fsync else "false",
            KHO_BROKER_URL="", KHO_TIKA_URL="",
        )
        from ingest.bulk import import_paths
        from kho.config import Settings

        settings = Settings.from_env()
        last = [time.monotonic()]

        def progress(n: int, total: int, rate: float, item: object) -> None:
            if time.monotonic() - last[0] >= 5 or n == total:
                last[0] = time.monotonic()
                print(f"  {n}/{total} ({rate:.1f} docs/s)", file=sys.stderr, flush=True)

        report = import_paths(
            paths, settings=settings, workers=workers, progress=progress,
            manifest_path=Path(tmp) / "manifest.jsonl",
        )
    per_step: dict[str, dict[str, float]] = {}
    for step in STEPS:
        values = sorted(i.steps[step] for i in report.items if step in i.steps)
        if values:
            per_step[step] = {
                "mean_ms": 1000 * statistics.fmean(values),
                "p50_ms": 1000 * values[len(values) // 2],
                "p95_ms": 1000 * values[min(len(values) - 1, int(len(values) * 0.95))],
            }
    return {
        "part": part,
        "documents": report.total,
        "pages": pages,
        "done": report.done,
        "failed": report.failed,
        "failures": [(Path(i.path).name, i.reason_code) for i in report.items if i.state == "lỗi"],
        "seconds": report.seconds,
        "docs_per_s": report.total / report.seconds,
        "pages_per_s": pages / report.seconds,
        "workers": workers,
        "fsync": fsync,
        "per_step": per_step,
        "peak_rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "peak_rss_parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def show(result: dict[str, object]) -> None:
    title = {
        "a": "(a) generated born-digital signed PDFs (3 pages, 2 signatures)",
        "b": "(b) real scanned signed documents of the corpus",
    }[str(result["part"])]
    print(f"\n{title}")
    print(
        f"  documents: {result['documents']} ({result['pages']} pages), done {result['done']},"
        f" failed {result['failed']} {result['failures'] or ''}"
    )
    print(f"  workers: {result['workers']}, fsync: {result['fsync']}")
    print(f"  wall time: {result['seconds']:.1f} s")
    print(f"  throughput: {result['docs_per_s']:.2f} docs/s, {result['pages_per_s']:.2f} pages/s")
    print("  per step (ms)      mean      p50      p95")
    for step, figures in result["per_step"].items():  # type: ignore[union-attr]
        print(
            f"    {step:<12} {figures['mean_ms']:>9.1f} {figures['p50_ms']:>8.1f}"
            f" {figures['p95_ms']:>8.1f}"
        )
    print(
        f"  peak memory: worker {result['peak_rss_worker_mb']:.0f} MB,"
        f" parent {result['peak_rss_parent_mb']:.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", choices=["a", "b"])
    parser.add_argument("--fsync", action="store_true", help="fsync every store write (KHO_FSYNC)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.json:  # a child run of one part
        print(json.dumps(run_part(args.only, args.count, args.workers, args.fsync)))
        return 0
    for part in [args.only] if args.only else ["a", "b"]:
        command = [sys.executable, __file__, "--json", "--only", part, "--count", str(args.count),
                   "--workers", str(args.workers)] + (["--fsync"] if args.fsync else [])
        out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        show(json.loads(out.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
