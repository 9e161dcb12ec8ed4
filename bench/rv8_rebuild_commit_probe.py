"""Review rv8 (found, not fixed): a ``kho reindex`` commit while another process keeps the
staging index open (it indexed a document during the rebuild: ``SearchBackend.index`` writes the
staging index too). Prints whether the commit went through. Run with a tree first on the path:

    .venv/bin/python bench/rv8_rebuild_commit_probe.py                      # this tree
    cd /tmp && PYTHONPATH=/tmp/base-main-rv8 /work/wt-rv8/.venv/bin/python \\
        /work/wt-rv8/bench/rv8_rebuild_commit_probe.py                      # main
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import scratch

import search
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend


def doc(n: int) -> IndexDocument:
    return IndexDocument(
        id=f"doc-{n:06d}", version=1, direction="den", owner_unit="UNIT-A",
        ngay_ban_hanh=date(2024, 1, 1), title=f"Công văn số {n}", so_ky_hieu=f"{n}/UBND-VP",
        text=f"quyết định số {n}",
    )


def main() -> None:
    print("search from", search.__file__)
    where = Path(scratch.mkdtemp(prefix="rv8-rebuild-")) / "index"
    web, reindex = EmbeddedBackend(where), EmbeddedBackend(where)
    docs = [doc(n) for n in range(20)]
    web.index(docs)
    rebuild = reindex.begin_rebuild()
    rebuild.index(docs)
    web.index([doc(100)])  # a web worker indexes during the rebuild: it opens the staging index
    try:
        rebuild.commit()
        print("commit: ok")
    except Exception as error:
        print(f"commit: refused, {type(error).__name__}: {error}")
    print("staging index left:", reindex.staging_path.exists())
    web.close()
    reindex.close()


if __name__ == "__main__":
    main()
