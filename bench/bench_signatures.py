"""Time signature verification on the real multi-signature Vietnamese documents.

    .venv/bin/python bench/bench_signatures.py [MANIFEST] [--trust DIR] [--repeat N] [--plain]
    .venv/bin/python bench/bench_signatures.py --profile [--only NAME]
    .venv/bin/python bench/bench_signatures.py --cpu [--only NAME] [--repeat N]

Documents: every ``vn-*`` manifest row with two or more signatures (``signed xN``, N >= 2).
Prints per-document times (best of ``--repeat``) and the mean. ``--plain`` times plain pyHanko
use (stock reader, one ``validate_pdf_signature`` call per signature) for comparison.
``--profile`` runs each document once more under cProfile and prints where the
time goes: the functions with the most own time and the cumulative time of the main stages.
``--cpu`` verifies in this process with the fast path on (as a pool worker does) and prints
the CPU time beside the wall time: on a machine shared with other work the wall time is
mostly the wait for a core, the CPU time is what the verification costs. The worst document
is the one with the highest time (today ``vn-gov__03-vbhn-bkhcn.pdf``, 5 signatures; the DSS
file ``pades-5-signatures-and-1-document-timestamp.pdf`` is a parse error for pyHanko and
stops after a few milliseconds).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import logging
import os
import pstats
import re
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.signatures import TrustStore, verify_pdf

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared")) / (
    "corpora/pdf/MANIFEST.tsv"
)


def multi_signature_documents(manifest: Path) -> list[Path]:
    with manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        match = re.match(r"signed x(\d+)", row["signature_status"])
        if row["file"].startswith("vn-") and match and int(match.group(1)) >= 2:
            out.append(manifest.parent / row["file"])
    return out


def plain_pyhanko(data: bytes, trust: TrustStore) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(BytesIO(data), strict=False)
    for sig in reader.embedded_signatures:
        validate_pdf_signature(sig, ValidationContext(trust_roots=list(trust.anchors)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path, nargs="?", default=DEFAULT_MANIFEST)
    parser.add_argument("--trust", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a CPU profile too")
    parser.add_argument("--only", default=None, help="only documents whose name contains this")
    parser.add_argument("--cpu", action="store_true", help="in this process, CPU time too")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    trust = TrustStore.from_dir(args.trust or args.manifest.parent / "trust")
    docs = multi_signature_documents(args.manifest)
    if args.only:
        docs = [d for d in docs if args.only in d.name]
    times = []
    verify = verify_pdf
    if args.cpu:
        from ingest.signatures import _fastpath
        from ingest.signatures.verify import verify_in_process

        _fastpath.activate()
        verify = verify_in_process
    for path in docs:
        data = path.read_bytes()
        best = float("inf")
        cpus = []
        walls = []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            if args.plain:
                plain_pyhanko(data, trust)
            else:
                verify(data, trust)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        best = min(walls)
        times.append(best)
        if args.cpu:
            print(f"{best * 1000:9.1f} ms wall (min), CPU min / median "
                  f"{min(cpus) * 1000:7.1f} / {statistics.median(cpus) * 1000:7.1f} ms  {path.name}")
        else:
            print(f"{best * 1000:9.1f} ms  {path.name}")
    mean = sum(times) / len(times)
    label = "plain pyHanko" if args.plain else "verify_pdf"
    print(f"{label}: mean {mean * 1000:.1f} ms per document over {len(times)} documents")
    if args.profile:
        profile(docs, trust, args.plain)
    return 0


# cumulative CPU time of these stages is printed by --profile: (file name, function name)
_STAGES = {
    "whole verification": ("verify.py", "verify_pdf"),
    "difference analysis (pyHanko review_file)": ("policies.py", "review_file"),
    "  reference-path maps": ("_reader.py", "_load_reverse_xref_cache"),
    "object parsing, fast parser": ("_objparse.py", "parse_object_at"),
    "object parsing, pyHanko parser": ("generic.py", "read_object"),
    "CMS integrity, signature, certificates": ("generic_cms.py", "cms_basic_validation"),
    "timestamps": ("generic_cms.py", "collect_timing_info"),
}


def profile(docs: list[Path], trust: TrustStore, plain: bool) -> None:
    profiler = cProfile.Profile()
    for path in docs:
        data = path.read_bytes()
        profiler.enable()
        if plain:
            plain_pyhanko(data, trust)
        else:
            verify_pdf(data, trust)
        profiler.disable()
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    print("\ncumulative time by stage (profiled, so slower than above):")
    for label, needle in _STAGES.items():
        total = sum(
            cumulative
            for (file, _, name), (_, _, _, cumulative, _) in entries.items()
            if (Path(file).name, name) == needle
        )
        print(f"  {total * 1000:9.1f} ms  {label}")
    stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    raise SystemExit(main())
