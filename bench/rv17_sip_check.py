"""rv17: the cost of the import check's own steps (safe extraction, XML check, METS and PREMIS
checksums; not the E-ARK validator, a separate process) on one package, beside another tree.

    .venv/bin/python bench/rv17_sip_check.py PACKAGE.zip --tree /tmp/rv17/base --tree . --rounds 3

Each (tree, round) runs in its own interpreter with that tree first on sys.path, trees
alternating; prints wall and CPU ms per run, then min / median per tree."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, tempfile, time, resource
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from retention import sip_import
archive = Path(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    wall, cpu = time.perf_counter(), time.process_time()
    root = sip_import.safe_extract(archive, Path(tmp))
    sip_import.check_xml_files(root)
    files = sip_import.check_checksums(root)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"files": files, "wall_ms": wall * 1000, "cpu_ms": cpu * 1000,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "module": sip_import.__file__}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("package", type=Path)
    parser.add_argument("--tree", action="append", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {tree: [] for tree in args.tree}
    for n in range(args.rounds):
        for tree in args.tree:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(tree).resolve()), str(args.package)],
                capture_output=True,
                text=True,
                check=True,
            )
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs[tree].append(run)
            print(
                f"round {n + 1} {tree}: {run['files']} files, wall {run['wall_ms']:.0f} ms,"
                f" cpu {run['cpu_ms']:.0f} ms, maxrss {run['maxrss_mb']} MB ({run['module']})"
            )
    for tree, done in runs.items():
        wall = [r["wall_ms"] for r in done]
        cpu = [r["cpu_ms"] for r in done]
        print(
            f"{tree}: wall min {min(wall):.0f} / median {statistics.median(wall):.0f} ms;"
            f" cpu min {min(cpu):.0f} / median {statistics.median(cpu):.0f} ms"
        )


if __name__ == "__main__":
    main()
