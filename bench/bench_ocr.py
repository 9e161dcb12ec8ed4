"""OCR throughput of ingest.text on the real scanned pages of ../shared/corpora/pdf/vn-*.

Prints pages/s of
  baseline  `tesseract <page>.png stdout` run directly, 2 processes at once, on page images
            pre-rendered by the same renderer at the same dpi (rendering not timed);
  workers   extract_text() in 2 worker processes (the Celery shape), each document's pages
            spread over the cores (the default: ocr_jobs = ocr_slots = cores; machine-wide slots);
  scan      the same with ocr_scan_images=True (a page that is only a scan is OCR'd from the
            scan at its own resolution, not rendered at --dpi; off by default; only asked with
            --rows ...,scan);
  whole-doc the same with ocr_jobs=1 and no slots (before: a worker takes a whole document);
  in-doc    extract_text() in 1 process with the default settings (one document at a time);
the ratio of each to the baseline, CPU seconds per page (Tesseract's, and the Python
worker's own: rendering, encoding, waiting), and peak RSS of the Python workers and of one
Tesseract. Each figure is min / median of ``--repeat`` runs (pages/s: the median's).

    .venv/bin/python bench/bench_ocr.py [--max-pages N] [--dpi 300] [--lang vie] [--repeat 3]
                                        [--rows baseline,workers,whole-doc,in-doc]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
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


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def baseline(files: list[Path], lang: str, dpi: int) -> tuple[float, float]:
    """Wall seconds, and Tesseract CPU seconds, of OCR'ing ``files``."""
    def run(file: Path) -> None:
        subprocess.run(tesseract_command(lang, dpi, source=str(file)), env=tesseract_env(),
                       capture_output=True, check=True)

    cpu = _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, files))
    return time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu


def _worker(path: str, settings: TextSettings) -> tuple[int, int, int, float, float]:
    own_cpu, child_cpu = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    result = extract_text(Path(path).read_bytes(), Path(path).name, settings=settings)
    assert result.sources == {TextSource.OCR}, result.sources
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (result.page_count or 0, own, children, _cpu(resource.RUSAGE_SELF) - own_cpu,
            _cpu(resource.RUSAGE_CHILDREN) - child_cpu)


def _warm() -> int:
    time.sleep(0.5)  # keeps the first worker busy so that the second one starts too
    return os.getpid()


def pipeline_workers(docs: list[tuple[Path, int]], settings: TextSettings
                     ) -> tuple[float, int, int, float, float]:
    """Wall seconds, peak RSS (worker, Tesseract), CPU seconds (workers, Tesseracts)."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        # Long-lived workers as under Celery: process start and imports are not timed.
        assert len({f.result() for f in [pool.submit(_warm) for _ in range(2)]}) == 2
        start = time.perf_counter()
        out = list(pool.map(_worker, [str(p) for p, _ in docs], [settings] * len(docs)))
        elapsed = time.perf_counter() - start
    return (elapsed, max(o[1] for o in out), max(o[2] for o in out), sum(o[3] for o in out),
            sum(o[4] for o in out))


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
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", default="baseline,workers,whole-doc,in-doc",
                        help="which rows to run (the baseline always runs)")
    args = parser.parse_args()
    rows = set(args.rows.split(","))
    if args.skip_in_doc:
        rows.discard("in-doc")

    spread = TextSettings(ocr_lang=args.lang, ocr_dpi=args.dpi)
    whole = TextSettings(ocr_lang=args.lang, ocr_dpi=args.dpi, ocr_jobs=1, ocr_slots=0)
    docs = scanned_documents(args.max_pages)
    pages = sum(n for _, n in docs)
    print(f"{len(docs)} scanned documents, {pages} pages, {args.dpi} dpi, lang={args.lang}, "
          f"{os.cpu_count()} cores, ocr_jobs={spread.ocr_jobs}, ocr_slots={spread.ocr_slots}; "
          f"seconds min / median of {args.repeat}")

    def show(label: str, runs: list[float], base: float | None) -> float:
        mid = statistics.median(runs)
        ratio = f"  ratio {base / mid:.1%}" if base else ""
        print(f"{label}: {pages / mid:6.3f} pages/s ({min(runs):.1f} / {mid:.1f} s){ratio}")
        return mid

    def cpu(label: str, tesseract: list[float], python: list[float] | None = None) -> None:
        line = f"cpu/page  {label}: tesseract {statistics.median(tesseract) / pages:.3f} s"
        if python is not None:
            line += f", python workers {statistics.median(python) / pages:.3f} s"
        print(line)

    with tempfile.TemporaryDirectory(prefix="kho-bench-ocr-") as tmp:
        files = prerender(docs, whole, Path(tmp))
        timed = [baseline(files, args.lang, args.dpi) for _ in range(args.repeat)]
        base = show("baseline  tesseract direct x2 ", [t[0] for t in timed], None)
        cpu("baseline", [t[1] for t in timed])
    if "workers" in rows:
        own_kb = child_kb = 0
        runs = []
        for _ in range(args.repeat):
            runs.append(pipeline_workers(docs, spread))
            own_kb, child_kb = runs[-1][1], runs[-1][2]
        show("workers   pages spread, 2 procs", [r[0] for r in runs], base)
        cpu("workers ", [r[4] for r in runs], [r[3] for r in runs])
        print(f"peak RSS  python worker {own_kb / 1024:.0f} MB, one tesseract "
              f"{child_kb / 1024:.0f} MB, worker + its tesseract "
              f"{(own_kb + child_kb) / 1024:.0f} MB")
    if "scan" in rows:
        scan = TextSettings(ocr_lang=args.lang, ocr_dpi=args.dpi, ocr_scan_images=True)
        runs = [pipeline_workers(docs, scan) for _ in range(args.repeat)]
        show("scan      own-resolution scans ", [r[0] for r in runs], base)
        cpu("scan    ", [r[4] for r in runs], [r[3] for r in runs])
    if "whole-doc" in rows:
        show("whole-doc jobs=1, 2 procs      ",
             [pipeline_workers(docs, whole)[0] for _ in range(args.repeat)], base)
    if "in-doc" in rows:
        show("in-doc    1 process, default   ",
             [pipeline_in_doc(docs, spread) for _ in range(args.repeat)], base)
        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak RSS  this process (in-doc run, includes pre-rendering) {me / 1024:.0f} MB")


if __name__ == "__main__":
    main()
