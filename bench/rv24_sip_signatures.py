"""rv24: the cost of verifying every PDF of an imported package, beside another tree.

    # a package of 100 real signed PDFs of the corpus (a closed hồ sơ whose documents are replaced)
    .venv/bin/python bench/rv24_sip_signatures.py build /tmp/rv24-bench/p100.zip --docs 100
    # check_package on each tree, in its own interpreter, trees alternating
    .venv/bin/python bench/rv24_sip_signatures.py run /tmp/rv24-bench/p100.zip \
        --tree /tmp/base-rv24 --tree . --rounds 3

Each run prints the whole check's wall time (extraction, Kho's checks, the E-ARK validator and,
on a tree that has it, the signature step), the signature step's own wall time, and the CPU of
the run's whole process tree (the interpreter, the validator, the verification worker: all are
waited for before the run ends). Then min / median per tree and the cost per 100 PDFs."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path("/work/shared/corpora/pdf")
SIGNED = (
    "vn-gov__143-qd.signed.pdf",
    "vn-gov__15557btc.signed.pdf",
    "vn-gov__186-cd.signed.pdf",
    "vn-gov__187-ttg.signed.pdf",
    "vn-gov__190-ttg.signed.pdf",
    "vn-gov__191-ttg.signed.pdf",
    "vn-gov__194-ttg.signed.pdf",
    "vn-gov__196cd.signed.pdf",
    "dss__pades-bes.pdf",
    "dss__doc-firmado-T.pdf",
    "pyhanko__sig-with-ski-sid.pdf",
    "dss__Test.signed_Certipost-2048-SHA512.extended-LTA.pdf",
)
"""Real signed PDFs, 20 KB to 330 KB: passed (VGCA G2) and undetermined (CA not trusted)."""

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from retention import sip_import
archive = Path(sys.argv[2])
step = {"ms": 0.0}
if hasattr(sip_import, "check_signatures"):
    real = sip_import.check_signatures
    def timed(root, verify):
        start = time.perf_counter()
        try:
            return real(root, verify)
        finally:
            step["ms"] = (time.perf_counter() - start) * 1000
    sip_import.check_signatures = timed
wall = time.perf_counter()
report = sip_import.check_package(archive)
wall = time.perf_counter() - wall
try:
    from ingest.signatures import _pool
    _pool.shared_pool().close()  # its worker waited for: its CPU is counted
except Exception:
    pass
print(json.dumps({"files": report.files, "pdfs": len(getattr(report, "documents", ())),
                  "wall_ms": wall * 1000, "signatures_ms": step["ms"], "module": sip_import.__file__}))
"""


def build(out: Path, docs: int) -> None:
    """A good package of ``docs`` documents, each replaced by a corpus PDF (cycled)."""
    here = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(here), str(here / "tests" / "support")]
    from kho_people import make_people
    from kho_retention import Clock, kho_env, open_kho
    from kho_sip import good_package, replace_document, zipped

    from kho.config import Settings  # noqa: F401 - the tree's own

    with tempfile.TemporaryDirectory() as tmp:
        kho = open_kho(kho_env(Path(tmp)), Clock())
        people = make_people(kho)
        root = good_package(kho, people, Path(tmp), docs=docs)
        data = sorted((root / "representations" / "rep1" / "data").iterdir())
        for n, path in enumerate(data):
            content = (CORPUS / SIGNED[n % len(SIGNED)]).read_bytes()
            replace_document(root, path.relative_to(root).as_posix(), content)
        out.parent.mkdir(parents=True, exist_ok=True)
        zipped(root, out)
        kho.close()
    print(f"{out}: {docs} PDFs, {out.stat().st_size} bytes")


def run(package: Path, trees: list[str], rounds: int) -> None:
    results: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
    for n in range(rounds):
        for tree in trees:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(tree).resolve()), str(package)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(Path(tree).resolve())},
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["cpu_ms"] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
            results[tree].append(result)
            load = os.getloadavg()[0]
            print(
                f"round {n + 1} {tree}: {result['files']} files, {result['pdfs']} PDFs verified,"
                f" wall {result['wall_ms']:.0f} ms (signatures {result['signatures_ms']:.0f} ms),"
                f" cpu {result['cpu_ms']:.0f} ms, load {load:.1f} ({result['module']})"
            )
    for tree, done in results.items():
        wall = [r["wall_ms"] for r in done]
        cpu = [r["cpu_ms"] for r in done]
        sig = [r["signatures_ms"] for r in done]
        pdfs = max(r["pdfs"] for r in done) or 0
        per = f"; signatures per 100 PDFs min {min(sig) / pdfs * 100:.0f} ms" if pdfs else ""
        print(
            f"{tree}: wall min {min(wall):.0f} / median {statistics.median(wall):.0f} ms;"
            f" cpu min {min(cpu):.0f} / median {statistics.median(cpu):.0f} ms;"
            f" signature step min {min(sig):.0f} / median {statistics.median(sig):.0f} ms{per}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out", type=Path)
    b.add_argument("--docs", type=int, default=100)
    r = sub.add_parser("run")
    r.add_argument("package", type=Path)
    r.add_argument("--tree", action="append", required=True)
    r.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.command == "build":
        build(args.out, args.docs)
    else:
        run(args.package, args.tree, args.rounds)


if __name__ == "__main__":
    main()
