"""Instructions executed by a cold ``kho verify`` (no agent) of source trees, under callgrind.

    .venv/bin/python bench/ir_verify_cold.py --tree /tmp/base-tree --tree . [--pdf FILE]

On a shared 2-core machine wall and CPU times of one process vary by more than a change of a
few per cent (round 7 of issue 14 measured at load 8-19); the number of instructions does not
(the same tree twice: within 0.05 %). Each tree's ``python -m web.cli verify PDF``
(``KHO_VERIFY_AGENT=0``, this interpreter, the tree chosen by ``PYTHONPATH`` and the working
folder, both trees byte-compiled first) runs under ``valgrind --tool=callgrind`` (40-60 s each);
printed: the program's instructions (import, settings, trust list, waiting, output, exit) and
its forked verification child's (callgrind counts the child from the start of the program, so
the child's figure is the critical path up to the verdict: everything before the fork plus the
verification), and the first line of the output. Needs valgrind. A script, not a test.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
PDF = SHARED / "corpora" / "pdf" / "vn-gov__194-ttg.signed.pdf"


def counts(tree: Path, pdf: Path, data_dir: Path | None = None) -> tuple[list[int], str]:
    """Instructions of each process (by process id: the program first), first output line."""
    with tempfile.TemporaryDirectory(prefix="kho-ir-") as folder:
        env = {**os.environ, "KHO_VERIFY_AGENT": "0", "PYTHONPATH": str(tree),
               "KHO_DATA_DIR": str(data_dir or Path(folder) / "data")}
        env.pop("KHO_TRUST_DIR", None)
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/cg.%p.out",
             sys.executable, "-m", "web.cli", "verify", str(pdf)],
            env=env, cwd=tree, capture_output=True, text=True, check=False)
        found = []
        for path in Path(folder).glob("cg.*.out"):
            total = re.search(r"^totals: (\d+)", path.read_text(), re.M)
            found.append((int(path.name.split(".")[1]), int(total.group(1)) if total else 0))
    first = proc.stdout.splitlines()[0] if proc.stdout else proc.stderr[-200:]
    return [n for _, n in sorted(found)], first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", required=True)
    parser.add_argument("--pdf", type=Path, default=PDF)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="KHO_DATA_DIR (e.g. one whose trust/ holds CRLs: bench/m47_managed_list.py)")
    args = parser.parse_args()
    for tree in args.tree:
        for package in ("kho", "repository", "ingest", "search", "web", "retention"):
            compileall.compile_dir(tree.resolve() / package, quiet=1)
    for tree in args.tree:
        numbers, first = counts(tree.resolve(), args.pdf, args.data_dir.resolve() if args.data_dir else None)
        shown = "  ".join(f"{n / 1e6:,.1f} M" for n in numbers)
        print(f"{tree!s:40s} program, child: {shown}   {first}")


if __name__ == "__main__":
    main()
