"""rv4: what ``kho search``'s index opening and ``Settings.from_env`` cost, before (main) and
after rv4, interleaved.

rv4 made ``search.open_backend()`` (no argument: ``kho search``) take the index's place from
``Settings.from_env()`` instead of the raw environment, and made ``Settings.from_env`` stat
``KHO_DATA_DIR`` when the value has surrounding spaces. Printed per side: wall seconds of one
``open_backend()`` + close on an embedded index (min / median over 3 rounds of 20), modules the
first call imports (count; after one ``Settings.from_env()``, which ``kho search`` makes for
its identity before it opens the index), wall seconds of ``Settings.from_env()`` (min / median of 3 rounds of
200) with a plain value and with a trailing space.

Each side runs in its own interpreter with its code first on ``sys.path``; sides alternate.

    eval "$(bash scripts/services.sh env)"
    git archive main | tar -x -C /tmp/base-rv4
    .venv/bin/python bench/rv4_search_open.py --base /tmp/base-rv4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
data_dir = sys.argv[1]
os.environ["KHO_DATA_DIR"] = data_dir
os.environ.pop("KHO_ELASTICSEARCH_URL", None)
import search
from kho.config import Settings
Settings.from_env()  # kho search has, for its identity (the repository) before it opens the index
before = set(sys.modules)
t = time.perf_counter()
search.open_backend().close()
first = time.perf_counter() - t
new_modules = len(set(sys.modules) - before)
t = time.perf_counter()
for _ in range(20):
    search.open_backend().close()
opened = (time.perf_counter() - t) / 20
t = time.perf_counter()
for _ in range(200):
    Settings.from_env()
plain = (time.perf_counter() - t) / 200
os.environ["KHO_DATA_DIR"] = data_dir + " "
t = time.perf_counter()
for _ in range(200):
    Settings.from_env()
spaced = (time.perf_counter() - t) / 200
print(sorted(set(sys.modules) - before), file=sys.stderr)
print(json.dumps({"first_open": first, "open": opened, "imports": new_modules,
                  "settings": plain, "settings_spaced": spaced}))
"""


def run(code_root: Path, data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code_root), "KHO_AGENCY_ID": "000.00.18.H40"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], env=env, cwd=code_root,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "kho-data"
        sys.path.insert(0, str(ROOT))
        from search.embedded import EmbeddedBackend

        EmbeddedBackend(data_dir / "index").close()
        sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for n in range(args.rounds):
            order = [("before", args.base), ("after", ROOT)]
            for name, root in order if n % 2 == 0 else reversed(order):
                sides[name].append(run(root, data_dir))
    print(f"{'':<26}{'before min / median':>26}{'after min / median':>26}")
    for key in ("first_open", "open", "settings", "settings_spaced", "imports"):
        cells = []
        for name in ("before", "after"):
            values = [r[key] for r in sides[name]]
            cells.append(f"{min(values):.6f} / {statistics.median(values):.6f}")
        print(f"{key:<26}{cells[0]:>26}{cells[1]:>26}")


if __name__ == "__main__":
    main()
