"""OCR throughput of ingest.text on the real scanned pages of ../shared/corpora/pdf/vn-*.

Prints pages/s of
  baseline  `tesseract <page>.png stdout` run directly, 2 processes at once, on page images
            pre-rendered by the same renderer at the same dpi (rendering not timed);
  workers   extract_text() in 2 worker processes (one per core, ocr_jobs=1), the Celery shape;
  in-doc    extract_text() in 1 process with ocr_jobs=2 (both cores on one document at a time);
the ratio of each to the baseline, and peak RSS of the Python workers and of one Tesseract.

    .venv/bin/python bench/bench_ocr.py [--max-pages N] [--dpi 300] [--lang vie]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from ingest.text import TextSettings, TextSource, extract_text  # noqa: E402
from ingest.text.ocr import tesseract_command, tesseract_env  # noqa: E402
from ingest.text.pdf import PDFIUM_LOCK, open_pdf, render_page  # noqa: E402

SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))


def scanned_documents(max_pages: int | None) -> list[tuple[Path, int]]:
    """Documents whose pages are all image-only, largest first, up to ``max_pages`` pages."""
    probe = TextSettings(ocr_enabled=False)
    docs: list[tuple[Path, int]] = []
    for path in sorted((SHARED / "corpora" / "pdf").glob("vn-*.pdf")):
        result = extract_text(path.read_bytes(), path.name, settings=probe)
        if result.sources == {TextSource.NONE}:
            docs.append((path, result.page_count or 0))
    docs.sort(key=lambda d: -d[1])
    if max_pages:
        chosen, total = [], 0
        for path, pages in docs:
            if total + pages <= max_pages:
                chosen.append((path, pages))
                total += pages
        docs = chosen
    return docs


def prerender(docs: list[tuple[Path, int]], settings: TextSettings, out: Path) -> list[Path]:
    files = []
    for path, _ in docs:
        pdf = open_pdf(path.read_bytes())
        with PDFIUM_LOCK:
            for i in range(len(pdf)):
                page = pdf[i]
                image, _ = render_page(page, i + 1, settings)
                page.close()
                target = out / f"{path.stem}-{i + 1:03d}.png"
                with Image.open(io.BytesIO(image.data)) as im:
                    im.save(target, "PNG", dpi=(image.dpi, image.dpi))
                files.append(target)
        pdf.close()
    return files


def baseline(files: list[Path], lang: str, dpi: int) -> float:
    def run(file: Path) -> None:
        subprocess.run(tesseract_command(lang, dpi, source=str(file)), env=tesseract_env(),
                       capture_output=True, check=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, files))
    return time.perf_counter() - start


def _worker(path: str, settings: TextSettings) -> tuple[int, int, int]:
    result = extract_text(Path(path).read_bytes(), Path(path).name, settings=settings)
    assert result.sources == {TextSource.OCR}, result.sources
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result.page_count or 0, own, children


def _warm() -> int:
    time.sleep(0.5)  # keeps the first worker busy so that the second one starts too
    return os.getpid()


def pipeline_workers(docs: list[tuple[Path, int]], settings: TextSettings
                     ) -> tuple[float, int, int]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        # Long-lived workers as under Celery: process start and imports are not timed.
        assert len({f.result() for f in [pool.submit(_warm) for _ in range(2)]}) == 2
        start = time.perf_counter()
        out = list(pool.map(_worker, [str(p) for p, _ in docs], [settings] * len(docs)))
        elapsed = time.perf_counter() - start
    return elapsed, max(o[1] for o in out), max(o[2] for o in out)


def pipeline_in_doc(docs: list[tuple[Path, int]], settings: TextSettings) -> float:
    start = time.perf_counter()
    for path, _ in docs:
        result = extract_text(path.read_bytes(), path.name, settings=settings)
        assert result.sources == {TextSource.OCR}
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-pages", type=int, default=None)
    parser.add_argument("--dpi", type=int, default=TextSettings().ocr_dpi)
    parser.add_argument("--lang", default="vie")
    parser.add_argument("--skip-in-doc", action="store_true")
    args = parser.parse_args()

    settings = TextSettings(ocr_lang=args.lang, ocr_dpi=args.dpi, ocr_jobs=1)
    docs = scanned_documents(args.max_pages)
    pages = sum(n for _, n in docs)
    print(f"{len(docs)} scanned documents, {pages} pages, {args.dpi} dpi, lang={args.lang}, "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="kho-bench-ocr-") as tmp:
        files = prerender(docs, settings, Path(tmp))
        base = baseline(files, args.lang, args.dpi)
    print(f"baseline  tesseract direct x2 : {pages / base:6.3f} pages/s ({base:.1f} s)")
    elapsed, own_kb, child_kb = pipeline_workers(docs, settings)
    print(f"workers   extract_text, 2 procs: {pages / elapsed:6.3f} pages/s ({elapsed:.1f} s)"
          f"  ratio {base / elapsed:.1%}")
    print(f"peak RSS  python worker {own_kb / 1024:.0f} MB, one tesseract {child_kb / 1024:.0f} MB,"
          f" worker + its tesseract {(own_kb + child_kb) / 1024:.0f} MB")
    if not args.skip_in_doc:
        in_doc = pipeline_in_doc(docs, TextSettings(ocr_lang=args.lang, ocr_dpi=args.dpi,
                                                    ocr_jobs=2))
        print(f"in-doc    extract_text, jobs=2 : {pages / in_doc:6.3f} pages/s ({in_doc:.1f} s)"
              f"  ratio {base / in_doc:.1%}")
        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak RSS  this process (in-doc run, includes pre-rendering) {me / 1024:.0f} MB")


if __name__ == "__main__":
    main()
