"""CPU of the combined read's pdfium part (``combined.read_once``: the final document's view and
text layer) per 3-page bench document, min and median of 7 passes over 40 documents.

    python bench/m67_read_once_ab.py TREE

Run from a folder outside ``/work/wt-*`` (the venv's ``.pth`` puts the worktree first there),
the trees interleaved (base, this, base, this...).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def main() -> int:
    tree = str(Path(sys.argv[1]).resolve())
    sys.path.insert(0, tree)
    from ingest.signatures import combined
    from ingest.text.settings import TextSettings

    assert combined.__file__ is not None and combined.__file__.startswith(tree), combined.__file__
    settings = TextSettings.from_env({})
    folder = Path.home() / ".cache" / "kho-bench" / "signed-200x3"
    datas = [p.read_bytes() for p in sorted(folder.glob("signed-*.pdf"))[:40]]
    for data in datas[:5]:
        combined.read_once(data, settings)
    passes = []
    for _ in range(7):
        began = time.process_time()
        for data in datas:
            combined.read_once(data, settings)
        passes.append((time.process_time() - began) / len(datas) * 1000)
    print(f"{tree}: read_once min {min(passes):.3f} median {statistics.median(passes):.3f} ms/doc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
