"""Cost of bounding Tesseract's memory (review a21): one A4 page at 300 dpi (rendered from page 1
of the corpus's scanned Công điện 194/CĐ-TTg), OCR'd by ``ocr_image`` unbounded (main's exact
command) and bounded (``sh -c 'ulimit -v …; exec tesseract …'``), interleaved, N rounds.
Prints wall ms and children's CPU ms per page, min/median, and the children's peak RSS.

    .venv/bin/python bench/a21_ocr_bound.py [rounds]
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests" / "support")]

from textdocs import scan_png  # noqa: E402

from ingest.text.ocr import PageImage, ocr_image  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
page = PageImage(1, scan_png(300), 300)


def children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


figures: dict[str, tuple[list[float], list[float]]] = {"unbounded": ([], []), "bounded 2048": ([], [])}
texts: dict[str, str] = {}
for _ in range(ROUNDS):
    for name, memory in (("unbounded", None), ("bounded 2048", 2048)):
        cpu, wall = children_cpu_ms(), time.perf_counter()
        result = ocr_image(page, lang="vie", timeout=300, memory_mb=memory)
        figures[name][0].append((time.perf_counter() - wall) * 1000)
        figures[name][1].append(children_cpu_ms() - cpu)
        texts[name] = result.text
for name, (walls, cpus) in figures.items():
    print(
        f"{name:13} wall ms min {min(walls):7.0f} median {statistics.median(walls):7.0f} | "
        f"CPU ms min {min(cpus):7.0f} median {statistics.median(cpus):7.0f}"
    )
print("same text:", texts["unbounded"] == texts["bounded 2048"], "| chars:", len(texts["unbounded"]))
print("children's peak RSS MB:", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
