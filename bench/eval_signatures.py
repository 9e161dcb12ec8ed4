"""Score the signature verifier against a manifest: prints a confusion table
(expected_validity x verdict) and exits 1 when the rule is broken.

    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv [--trust DIR]

``--trust`` defaults to the ``trust/`` directory beside the manifest.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.signatures import TrustStore, verify_pdf
from ingest.signatures.evaluation import (
    confusion,
    format_confusion,
    read_manifest,
    rule_violation,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--trust", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    base = args.manifest.parent
    trust = TrustStore.from_dir(args.trust or base / "trust")
    pairs = []
    violations = []
    started = time.perf_counter()
    for entry in read_manifest(args.manifest):
        result = verify_pdf((base / entry.file).read_bytes(), trust)
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
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
