"""Scoring a verifier against a manifest of signed PDFs with expected verdicts.

The manifest is the TSV format of ``corpora/pdf/MANIFEST.tsv``: columns ``file`` and
``expected_validity`` (free text whose first word is the class: ``valid``,
``valid-but-untrusted-offline``, ``tampered``, ``invalid``, ``mixed``, ``unknown``,
``mixed/unknown``, ``unsigned``, ``trust-anchor``).

The rule (issue 3): no tampered, invalid or mixed file may pass; a valid file passes or is
INDETERMINATE with a named reason (a sub-indication and an explanation), never failed; an
unsigned file is reported as having no signature; unknown files only need a verdict.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.signatures.model import Indication, PdfVerification, Verdict

# pyHanko quotes object reprs in some messages ("<... object at 0x7f...>"): run-dependent
_OBJECT_ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+>")
# "Chi tiết: …" quotes pyHanko's exception text, which can print a set of objects whose order
# follows their id()-based hashes: it differs from one run to the next for the same file.
_LIBRARY_DETAIL = re.compile(r" Chi tiết: [^\"]*")

MUST_NOT_PASS = frozenset({"tampered", "invalid", "mixed"})
MUST_PASS_OR_EXPLAIN = frozenset({"valid", "valid-but-untrusted-offline"})
ANY_VERDICT = frozenset({"unknown", "mixed/unknown"})


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    expected: str  # the class (first word of expected_validity)
    expected_text: str


def expected_class(expected_validity: str) -> str:
    words = expected_validity.strip().split()
    return words[0].lower() if words else "unknown"


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    """PDF rows of the manifest (trust-anchor rows are skipped)."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    entries = []
    for row in rows:
        cls = expected_class(row["expected_validity"])
        if cls == "trust-anchor":
            continue
        entries.append(ManifestEntry(row["file"], cls, row["expected_validity"]))
    return entries


def rule_violation(expected: str, verdict: Verdict) -> str | None:
    """Why ``verdict`` breaks the rule for a file of class ``expected``; None when it holds."""
    ind = verdict.indication
    if expected in MUST_NOT_PASS:
        if ind is Indication.TOTAL_PASSED:
            return f"tệp {expected} lại được kết luận hợp lệ"
        return None
    if expected in MUST_PASS_OR_EXPLAIN:
        if ind is Indication.TOTAL_PASSED:
            return None
        if ind is Indication.INDETERMINATE:
            if verdict.sub_indication and verdict.explanation.strip():
                return None
            return "tệp hợp lệ bị kết luận INDETERMINATE mà không nêu lý do"
        return f"tệp hợp lệ bị kết luận {ind.value}"
    if expected == "unsigned":
        if ind is Indication.NO_SIGNATURE:
            return None
        return f"tệp không ký lại được kết luận {ind.value}"
    if expected in ANY_VERDICT:
        return None
    return f"lớp kỳ vọng không biết: {expected}"


def confusion(pairs: Iterable[tuple[str, Verdict]]) -> Counter[tuple[str, str]]:
    return Counter((expected, verdict.indication.value) for expected, verdict in pairs)


def format_confusion(table: Counter[tuple[str, str]]) -> str:
    columns = [i.value for i in Indication]
    rows = sorted({r for r, _ in table})
    width = max([len("expected \\ verdict"), *(len(r) for r in rows)])
    head = "expected \\ verdict".ljust(width) + "".join(f"  {c:>14}" for c in columns)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(r.ljust(width) + "".join(f"  {table.get((r, c), 0):>14}" for c in columns))
    return "\n".join(lines)


def comparable(result: PdfVerification) -> str:
    """``result`` as canonical JSON with run-dependent object addresses and the
    whole-document checks (which stock pyHanko does not make) removed, for comparing two
    verifications of the same file (e.g. fast reader against stock pyHanko)."""
    data = result.to_dict()
    data.pop("document_findings", None)
    data.pop("appended_bytes", None)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return _LIBRARY_DETAIL.sub(" Chi tiết: …", _OBJECT_ADDRESS.sub(" object>", text))


_STRICTNESS = {
    Indication.TOTAL_FAILED: 0,
    Indication.INDETERMINATE: 1,
    Indication.TOTAL_PASSED: 2,
    Indication.NO_SIGNATURE: 2,
}


def stricter_on_purpose(kho: PdfVerification, stock: PdfVerification) -> bool:
    """Kho's verdict is stricter than stock pyHanko's because a whole-document check (a
    revision read only leniently, a viewer showing other content) withheld it."""
    return bool(kho.document_findings) and (
        _STRICTNESS[kho.verdict.indication] < _STRICTNESS[stock.verdict.indication]
    )


def agrees_or_stricter(kho: PdfVerification, stock: PdfVerification) -> bool:
    """Kho and stock pyHanko reach the same result, or Kho is the stricter one: a stricter
    indication, or the same indication for a reason only Kho's whole-document checks found
    (stock pyHanko reads on leniently where Kho stops)."""
    kho_rank, stock_rank = _STRICTNESS[kho.verdict.indication], _STRICTNESS[stock.verdict.indication]
    if comparable(kho) == comparable(stock) or kho_rank < stock_rank:
        return True
    below_pass = kho_rank < _STRICTNESS[Indication.TOTAL_PASSED]
    return kho_rank == stock_rank and below_pass and bool(kho.document_findings)
