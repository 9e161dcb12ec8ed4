"""m42: process CPU per document of the bomb guard (``check_pdf_streams``) and of
``extract_metadata`` on the bench's 400 signed PDFs (``signed-400x3``), in one process, the
tree on ``PYTHONPATH``; seven passes after a warm one, min and median printed:

    PYTHONPATH=/tmp/base .venv/bin/python bench/m42_guard_meta_cpu.py
    PYTHONPATH=. .venv/bin/python bench/m42_guard_meta_cpu.py [profile]

With ``profile``, a cProfile of one pass of each, by own time. Nothing is written to disk."""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

os.environ["KHO_TIKA_URL"] = ""

import ingest
from ingest.metadata import extract_metadata
from ingest.text.extractor import extract_text
from ingest.text.guards import check_pdf_streams
from ingest.text.settings import TextSettings

paths = sorted((Path.home() / ".cache/kho-bench/signed-400x3").glob("signed-*.pdf"))
datas = [p.read_bytes() for p in paths]
settings = TextSettings.from_env()
texts = [extract_text(d, p.name, settings=settings).text for d, p in zip(datas, paths, strict=True)]


def guard() -> None:
    for data in datas:
        check_pdf_streams(data, settings)


def metadata() -> None:
    for text in texts:
        extract_metadata(text)


print("tree", Path(ingest.__file__).parents[1], "documents", len(datas))
for name, run in (("guard", guard), ("metadata", metadata)):
    run()
    spent = []
    for _ in range(7):
        start = time.process_time()
        run()
        spent.append(time.process_time() - start)
    spent.sort()
    low, middle = (spent[i] * 1000 / len(datas) for i in (0, 3))
    print(f"{name}: CPU ms/doc min {low:.3f} median {middle:.3f}")
    if sys.argv[1:] == ["profile"]:
        profile = cProfile.Profile()
        profile.runcall(run)
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
