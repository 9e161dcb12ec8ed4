"""u7: what rebuilding the embedded ``labels`` table costs inside ``purge_deleted``.

Indexes N documents (one signer and organ name in 50, so many labels), replaces one (the
destruction's "đã hủy" row), then times, 3 times each and interleaved: the label step alone
(:meth:`_Index.drop_unused_labels`) and the whole ``purge_deleted`` (label step, VACUUM, Tantivy
rewrite). The purge without the label step is the difference (same run, same minutes).

    .venv/bin/python bench/u7_label_purge.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

import scratch

from search.documents import IndexDocument
from search.embedded import EmbeddedBackend


def doc(n: int, version: int = 1) -> IndexDocument:
    return IndexDocument(
        id=f"doc-{n:06d}", version=version, direction="den", owner_unit="UNIT-A",
        ngay_ban_hanh=date(2024, 1, 1), title=f"Công văn số {n}", so_ky_hieu=f"{n}/UBND-VP",
        nguoi_ky=f"Người Ký {n % (N // 50)}", co_quan_ban_hanh=f"Cơ Quan {n % (N // 50)}",
        text=f"Nội dung công văn thường số {n} về quy chế làm việc.",
    )


N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000


def main() -> None:
    backend = EmbeddedBackend(Path(scratch.mkdtemp(prefix="u7-labels-")) / "index")
    for start in range(0, N, 2000):
        backend.index([doc(n) for n in range(start, min(N, start + 2000))])
    labels_s: list[float] = []
    purge_s: list[float] = []
    for r in range(3):
        backend.index([doc(r, version=2 + r)])
        index = backend._live_writer()
        t = time.perf_counter()
        with index._writing():
            index.drop_unused_labels()
        labels_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        backend.purge_deleted()
        purge_s.append(time.perf_counter() - t)
    rows = index.conn.execute("SELECT count(*) FROM labels").fetchone()[0]
    print(f"N={N} label rows={rows}")
    ms = [s * 1000 for s in labels_s]
    print(f"drop_unused_labels: min {min(ms):.1f} ms, median {statistics.median(ms):.1f} ms")
    print(f"purge_deleted (with labels): min {min(purge_s):.2f} s, med {statistics.median(purge_s):.2f} s")
    backend.close()


if __name__ == "__main__":
    main()
