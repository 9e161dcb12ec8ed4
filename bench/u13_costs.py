"""u13 costs, main ("before", a tree given as argument) against this tree ("after"), each side in
a subprocess with its tree first on ``sys.path``, rounds interleaved in the same minutes:

* ``backup``: ``run_backup`` of a local Kho holding N extra objects to a folder and a key folder
  (u13 takes the backup lock around it: one open, flock, write and unlock per run): CPU and wall;
* ``ocr``: one OCR'd page (the corpus scan as a PNG, real Tesseract, one job), nothing killed
  (u13 adds only the ``try`` around Tesseract; the retry costs only when a page is killed): CPU of
  this process and wall.

    .venv/bin/python bench/u13_costs.py /tmp/base-u13 --rounds 3 --objects 2000
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from count_harness import HERE, open_kho, rounds, run_side


def backup(work: Path, objects: int) -> dict[str, Any]:
    os.environ["KHO_BACKUP_URLS"] = str(work / "backup-a")
    os.environ["KHO_BACKUP_KEYS_URL"] = str(work / "backup-keys")
    kho, _people = open_kho(work)
    for i in range(objects):
        kho.repo.store.put_if_absent(f"u13-load/{i:05d}", os.urandom(512))
    from kho.config import Settings
    from kho.timeutil import utcnow
    from retention.operations import SCHEDULER, run_backup

    cpu0, t0 = time.process_time(), time.perf_counter()
    done = run_backup(kho.repo, Settings.from_env(), SCHEDULER, now=utcnow())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return {"copies": len(done.copies), "cpu": cpu, "wall": wall}


def ocr(work: Path) -> dict[str, Any]:
    from textdocs import scan_png

    from ingest.text import TextSettings, extract_text

    data = scan_png(200)
    cpu0, t0 = time.process_time(), time.perf_counter()
    read = extract_text(data, "scan.png", settings=TextSettings(ocr_jobs=1, ocr_slots=0))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return {"chars": len(read.text), "cpu": cpu, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    sides = {"main": args.base.resolve(), "u13": HERE}
    for what, call in (("backup", f"m.backup(w, {args.objects})"), ("ocr", "m.ocr(w)")):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u13_costs", call, f"u13-{what}-"))
        for name in sides:
            key = "copies" if what == "backup" else "chars"
            first, same, times = rounds(rows[name], key)
            print(f"{what} {name}: {key} {first[key]}{same}")
            print(times)


if __name__ == "__main__":
    main()
