"""Score the signature verifier against a manifest: prints a confusion table
(expected_validity x verdict) and exits 1 when the rule is broken.

    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv [--trust DIR]
    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv --compare

``--trust`` defaults to the ``trust/`` directory beside the manifest. ``--compare`` also
verifies every file with the stock pyHanko reader (no caches, upstream difference analysis)
(without Kho's whole-document checks) and exits 1 unless every result (verdicts,
modification levels, every reported field) is identical to Kho's, or Kho's verdict is stricter
because a whole-document check withheld it (those files are listed as STRICTER).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import TrustStore, verify_pdf
from ingest.signatures.evaluation import (
    comparable,
    confusion,
    format_confusion,
    read_manifest,
    rule_violation,
    stricter_on_purpose,
)
from ingest.signatures.verify import _verify_pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--trust", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    parser.add_argument("--compare", action="store_true", help="compare with stock pyHanko")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    base = args.manifest.parent
    trust = TrustStore.from_dir(args.trust or base / "trust")
    pairs = []
    violations = []
    started = time.perf_counter()
    differences = []
    stricter = []
    stock_seconds = 0.0
    for entry in read_manifest(args.manifest):
        data = (base / entry.file).read_bytes()
        moment = datetime.now(UTC)
        result = verify_pdf(data, trust, now=moment)
        if args.compare:
            t0 = time.perf_counter()
            stock = _verify_pdf(data, trust, False, moment, PdfFileReader, cross_check=False)
            stock_seconds += time.perf_counter() - t0
            if stricter_on_purpose(result, stock):
                stricter.append(
                    f"{entry.file}: {stock.verdict.indication.value} -> "
                    f"{result.verdict.indication.value}/{result.verdict.sub_indication}"
                )
            elif comparable(stock) != comparable(result):
                differences.append(entry.file)
        pairs.append((entry.expected, result.verdict))
        problem = rule_violation(entry.expected, result.verdict)
        if problem:
            violations.append(f"{entry.file}: {problem} ({result.verdict.explanation})")
        if args.verbose:
            v = result.verdict
            print(f"{entry.expected:28} {v.indication.value:14} {v.sub_indication or '':28} {entry.file}")
    elapsed = time.perf_counter() - started
    print(format_confusion(confusion(pairs)))
    print(f"\n{len(pairs)} files, {elapsed:.1f} s, rule violations: {len(violations)}")
    for line in violations:
        print(f"  VIOLATION {line}")
    if args.compare:
        print(
            f"stock pyHanko comparison: {len(pairs) - len(differences) - len(stricter)}/"
            f"{len(pairs)} files "
            f"identical, {len(stricter)} stricter on purpose ({stock_seconds:.1f} s stock)"
        )
        for line in stricter:
            print(f"  STRICTER {line}")
        for name in differences:
            print(f"  DIFFERENT {name}")
    return 1 if violations or differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
