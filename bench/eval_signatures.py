"""Score the signature verifier against a manifest: prints a confusion table
(expected_validity x verdict) and exits 1 when the rule is broken.

    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv [--trust DIR]
    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv --compare
    .venv/bin/python bench/eval_signatures.py ../shared/corpora/pdf/MANIFEST.tsv --compare --both

``--trust`` defaults to the ``trust/`` directory beside the manifest.

``--compare`` also verifies every file the way stock pyHanko alone does: the stock reader
(no caches), pyHanko's default difference analysis, none of Kho's whole-document checks. It
lists every file whose verdict (indication/sub-indication) differs from stock pyHanko's,
marked STRICTER (Kho's indication is stricter) or ACCEPTED (Kho accepts what stock pyHanko
cannot classify, e.g. annotations that DocMDP permits, with the reason), and exits 1 when a
difference is neither; it also checks that the stock reader under Kho's own difference
analysis gives a result identical to Kho's fast reader (every reported field) unless a
whole-document check made Kho stricter (DIFFERENT otherwise, exit 1).

Reports the mean time per real multi-signature document (``vn-*`` rows signed two or more
times), verified in the worker pool as the pipeline does, and the mean CPU time the worker
spent on them (on a shared machine the wall time includes waiting for a core; the CPU time
does not). ``--both`` runs everything twice,
with the fast path on and off (``KHO_SIGNATURE_FAST_PATH``), in fresh processes.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import PdfVerification, TrustStore, verify_pdf
from ingest.signatures._pool import shared_pool
from ingest.signatures.evaluation import (
    comparable,
    confusion,
    format_confusion,
    read_manifest,
    rule_violation,
    stricter_on_purpose,
)
from ingest.signatures.model import Indication
from ingest.signatures.verify import _verify_pdf

_RANK = {
    Indication.TOTAL_FAILED: 0,
    Indication.INDETERMINATE: 1,
    Indication.TOTAL_PASSED: 2,
    Indication.NO_SIGNATURE: 2,
}


def _label(result: PdfVerification) -> str:
    v = result.verdict
    return f"{v.indication.value}/{v.sub_indication}" if v.sub_indication else v.indication.value


def _accepted_reason(kho: PdfVerification, stock: PdfVerification) -> str | None:
    """Why Kho accepts a change stock pyHanko's analysis cannot classify, if it is one Kho
    knows: annotations permitted by the DocMDP level, an unparsable XMP stream."""
    stock_levels = {s.field_name: s.modification_level for s in stock.signatures}
    reasons = set()
    for sig in kho.signatures:
        if stock_levels.get(sig.field_name) != "OTHER" or sig.modification_level == "OTHER":
            continue
        if sig.modification_level == "ANNOTATIONS":
            reasons.add("annotation-only revisions, permitted by the DocMDP level (PAdES, as DSS)")
        else:
            reasons.add("metadata stream that is not well-formed XML (never rendered)")
    return "; ".join(sorted(reasons)) or None


def _not_finished(result: PdfVerification) -> bool:
    """The worker pool stopped this verification (time or memory limit, a crash)."""
    return result.verdict.explanation.startswith("Không hoàn tất được việc kiểm tra")


def _multi_signature(manifest: Path) -> set[str]:
    import csv

    with manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = set()
    for row in rows:
        match = re.match(r"signed x(\d+)", row.get("signature_status", ""))
        if row["file"].startswith("vn-") and match and int(match.group(1)) >= 2:
            out.add(row["file"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--trust", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    parser.add_argument("--compare", action="store_true", help="compare with stock pyHanko")
    parser.add_argument("--both", action="store_true", help="fast path on, then off")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        parser.error(f"không có tệp danh sách {args.manifest} (MANIFEST.tsv of the corpus)")
    if args.both:
        return _both([a for a in (argv if argv is not None else sys.argv[1:]) if a != "--both"])
    logging.disable(logging.WARNING)
    base = args.manifest.parent
    trust = TrustStore.from_dir(args.trust or base / "trust")
    multi = _multi_signature(args.manifest)
    verify_pdf(b"%PDF-1.4\n%%EOF\n", trust)  # start the worker pool outside the timings
    pairs = []
    violations = []
    started = time.perf_counter()
    differences: list[str] = []
    stricter: list[str] = []
    verdicts_differ: list[str] = []
    unexplained: list[str] = []
    multi_ms: list[float] = []
    multi_cpu_ms: list[float] = []
    pool = shared_pool()
    not_finished: list[str] = []
    stock_seconds = 0.0
    for entry in read_manifest(args.manifest):
        data = (base / entry.file).read_bytes()
        moment = datetime.now(UTC)
        cpu_before = pool.idle_worker_cpu()
        t0 = time.perf_counter()
        result = verify_pdf(data, trust, now=moment)
        if entry.file in multi:
            multi_ms.append((time.perf_counter() - t0) * 1000)
            cpu_after = pool.idle_worker_cpu()
            if len(cpu_before) == 1 and cpu_before.keys() == cpu_after.keys():  # the same worker
                (pid,) = cpu_before
                multi_cpu_ms.append((cpu_after[pid] - cpu_before[pid]) * 1000)
        if args.compare and _not_finished(result):
            not_finished.append(f"{entry.file}: {result.verdict.explanation}")
        elif args.compare:
            t0 = time.perf_counter()
            same_analysis = _verify_pdf(data, trust, False, moment, PdfFileReader, cross_check=False)
            upstream = _verify_pdf(
                data, trust, False, moment, PdfFileReader, cross_check=False, upstream_diff=True
            )
            stock_seconds += time.perf_counter() - t0
            if stricter_on_purpose(result, same_analysis):
                stricter.append(
                    f"{entry.file}: {same_analysis.verdict.indication.value} -> "
                    f"{result.verdict.indication.value}/{result.verdict.sub_indication}"
                )
            elif comparable(same_analysis) != comparable(result):
                differences.append(entry.file)
            if _label(upstream) != _label(result):
                kho_rank = _RANK[result.verdict.indication]
                stock_rank = _RANK[upstream.verdict.indication]
                if kho_rank < stock_rank or (kho_rank == stock_rank and result.document_findings):
                    mark = "STRICTER"
                elif (reason := _accepted_reason(result, upstream)) is not None:
                    mark = f"ACCEPTED ({reason})"
                else:
                    mark = "UNEXPLAINED"
                    unexplained.append(entry.file)
                verdicts_differ.append(
                    f"{mark:9} {entry.file}: stock pyHanko {_label(upstream)} -> Kho {_label(result)}"
                )
        pairs.append((entry.expected, result.verdict))
        problem = rule_violation(entry.expected, result.verdict)
        if problem:
            violations.append(f"{entry.file}: {problem} ({result.verdict.explanation})")
        if args.verbose:
            v = result.verdict
            print(f"{entry.expected:28} {v.indication.value:14} {v.sub_indication or '':28} {entry.file}")
    elapsed = time.perf_counter() - started
    passes = sum(
        1 for expected, verdict in pairs
        if expected in ("tampered", "invalid", "mixed") and verdict.indication is Indication.TOTAL_PASSED
    )
    print(format_confusion(confusion(pairs)))
    fast = os.environ.get("KHO_SIGNATURE_FAST_PATH", "1")
    print(f"\nfast path {'off' if fast.strip().lower() in ('0', 'false', 'no', 'off') else 'on'}: "
          f"{len(pairs)} files, {elapsed:.1f} s, rule violations: {len(violations)}, "
          f"tampered/invalid/mixed passes: {passes}")
    if multi_ms:
        print(f"real multi-signature documents: {len(multi_ms)}, mean {sum(multi_ms) / len(multi_ms):.0f} ms "
              f"(min {min(multi_ms):.0f}, max {max(multi_ms):.0f}) in the worker pool, "
              f"load average {os.getloadavg()[0]:.1f}")
        if len(multi_cpu_ms) == len(multi_ms):
            print(f"  worker CPU per document: mean {sum(multi_cpu_ms) / len(multi_cpu_ms):.0f} ms "
                  f"(min {min(multi_cpu_ms):.0f}, max {max(multi_cpu_ms):.0f}; "
                  "/proc/PID/schedstat, else clock ticks)")
    for line in violations:
        print(f"  VIOLATION {line}")
    if args.compare:
        print(
            f"verdicts differing from stock pyHanko (stock reader, pyHanko's difference analysis, "
            f"no whole-document checks): {len(verdicts_differ)} of {len(pairs)} "
            f"({stock_seconds:.1f} s stock)"
        )
        for line in verdicts_differ:
            print(f"  {line}")
        print(
            f"fast reader vs stock reader (same analysis): {len(pairs) - len(differences) - len(stricter)}/"
            f"{len(pairs)} files identical, {len(stricter)} stricter on purpose"
        )
        for line in stricter:
            print(f"  STRICTER {line}")
        for name in differences:
            print(f"  DIFFERENT {name}")
        if not_finished:
            print(
                f"not compared: {len(not_finished)} files over the worker's time or memory limit "
                "(INDETERMINATE, never a pass; KHO_SIGNATURE_TIMEOUT)"
            )
            for line in not_finished:
                print(f"  NOT FINISHED {line}")
    return 1 if violations or differences or unexplained or passes else 0


def _both(argv: list[str]) -> int:
    worst = 0
    for value in ("1", "0"):
        env = {**os.environ, "KHO_SIGNATURE_FAST_PATH": value}
        print(f"=== KHO_SIGNATURE_FAST_PATH={value}", flush=True)
        done = subprocess.run([sys.executable, __file__, *argv], env=env, check=False)
        worst = max(worst, done.returncode)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
