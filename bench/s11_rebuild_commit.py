"""s11: the cost of a rebuild's last step (``_EmbeddedRebuild.commit``) and whether it goes through
while another backend (a web worker) holds the staging index. Builds a live index and a full
staging index of ``N`` documents (~2 KB of text each), then times the commit alone (wall and
this process's CPU seconds: SQLite and Tantivy run in it). Run with a tree first on the path,
before and after interleaved:

    for i in 1 2 3; do
      (cd /tmp && PYTHONPATH=/tmp/base-s11 /work/wt-s11/.venv/bin/python \\
          /work/wt-s11/bench/s11_rebuild_commit.py 20000)
      .venv/bin/python bench/s11_rebuild_commit.py 20000
    done
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import search
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend

_PHRASE = ("quyết định ban hành quy chế công văn hồ sơ lưu trữ cơ quan nhà nước ủy ban nhân dân "
           "tỉnh thành phố kế hoạch báo cáo thông tư nghị định")
WORDS = _PHRASE.split(" ")


def doc(n: int) -> IndexDocument:
    text = " ".join(WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(400))
    return IndexDocument(
        id=f"doc-{n:06d}", version=1, direction="den", owner_unit="UNIT-A",
        ngay_ban_hanh=date(2024, 1, 1), title=f"Công văn số {n}", so_ky_hieu=f"{n}/UBND-VP",
        text=f"{text} số {n}",
    )


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(n: int, *, other: bool) -> str:
    where = Path(tempfile.mkdtemp(prefix="s11-commit-")) / "index"
    try:
        reindex = EmbeddedBackend(where)
        docs = [doc(i) for i in range(n)]
        for start in range(0, n, 1000):
            reindex.index(docs[start : start + 1000])
        rebuild = reindex.begin_rebuild()
        for start in range(0, n, 1000):
            rebuild.index(docs[start : start + 1000])
        rebuild.staging.flush()  # type: ignore[attr-defined]
        web = EmbeddedBackend(where)
        if other:
            web.index([doc(n)])  # a web worker writes (and holds) the staging index
        size = os.path.getsize(reindex.staging_path)
        wal = Path(str(reindex.staging_path) + "-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        wall, used = time.perf_counter(), cpu()
        try:
            rebuild.commit()
            outcome = "ok"
        except Exception as error:
            outcome = f"refused ({type(error).__name__}: {str(error)[:40]})"
        wall, used = time.perf_counter() - wall, cpu() - used
        web.close()
        reindex.close()
        return (f"commit {'with' if other else 'alone'}: {outcome}, {wall:.3f} s wall, "
                f"{used:.3f} s CPU, staging {size / 1e6:.1f} MB + WAL {wal_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(where.parent, ignore_errors=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print("search from", Path(search.__file__).parent, "N =", n)
    print(" ", run(n, other=False))
    print(" ", run(n, other=True))


if __name__ == "__main__":
    main()
