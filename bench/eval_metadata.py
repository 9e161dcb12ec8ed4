"""Accuracy of ``ingest.metadata.extract_metadata`` per field on a labelled records file.

Usage: ``.venv/bin/python bench/eval_metadata.py RECORDS.jsonl [--errors]``

RECORDS is JSONL with ``{"id", "text", "labels": {so_ky_hieu, ngay_ban_hanh, co_quan_ban_hanh,
loai_van_ban, trich_yeu, nguoi_ky}}`` (the format of ``corpora/meta/records.jsonl``). Labels
may be missing (null) or noisy, so both sides are normalised before comparison:

* so_ky_hieu: no spaces, ``Ð`` → ``Đ``, case-folded; ngay_ban_hanh: ISO date;
* co_quan_ban_hanh, loai_van_ban: no diacritics, case-folded; a loai label given as a slug
  (``nghi-quyet``) or a ký hiệu (``TT-BNV``) is mapped to the type name first;
* trich_yeu: "exact" after folding, and "fuzzy" when one is a prefix of the other or token
  similarity ≥ 0.8 (labels are often a paraphrase or carry extra notes);
* nguoi_ky: the person's name is taken from the label; a label that is only a title
  ("Thủ tướng Chính phủ") has no name and is counted as unusable, not as an error.

accuracy = correct / usable labels; precision = correct / predicted (on usable labels).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.metadata import extract_metadata
from ingest.metadata.normalize import fold_words
from repository.vocabulary import canonical_type, type_from_abbreviation

LABELLED = ("so_ky_hieu", "ngay_ban_hanh", "co_quan_ban_hanh", "loai_van_ban", "trich_yeu",
            "nguoi_ky")
_TITLE_TEXT = "bộ thủ phó chủ thứ chính quốc ủy thống tổng giám chánh ký văn cục vụ sở"
TITLE_WORDS = frozenset(_TITLE_TEXT.split())


def norm_skh(value: str) -> str:
    return re.sub(r"\s+", "", value).replace("Ð", "Đ").casefold()


def norm_type(value: str) -> str:
    value = value.strip()
    if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", value):  # a slug: nghi-quyet
        return fold_words(value.replace("-", " "))
    if re.fullmatch(r"[A-ZĐ][\wĐđ]*(?:-[\wĐđ]+)+", value):  # a ký hiệu: TT-BNV
        found = type_from_abbreviation(value.split("-")[0])
        return fold_words(found or value)
    return fold_words(canonical_type(value) or value)


def label_name(label: str) -> str | None:
    """The person's name inside a silver nguoi_ky label, or None if it is only a title."""
    text = re.sub(r"\(.*?\)", " ", label)
    runs: list[list[str]] = [[]]
    for word in re.split(r"[\s,;:]+", text):
        if word[:1].isupper() and word.isalpha():
            runs[-1].append(word)
        else:
            runs.append([])
    for words in runs:
        while words and words[0].lower() in TITLE_WORDS:
            words.pop(0)
        if len(words) >= 2 and not any(w.lower() in TITLE_WORDS for w in words):
            return " ".join(words)
    return None


def fuzzy_equal(pred: str, label: str) -> bool:
    a, b = fold_words(pred).split(), fold_words(label).split()
    if not a or not b:
        return False
    if a == b[: len(a)] or b == a[: len(b)]:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8


def compare(field: str, pred: Any, label: Any) -> tuple[bool | None, bool]:
    """(usable label?, correct?) — ``None`` usable means the label is missing."""
    if label in (None, ""):
        return None, False
    if field == "nguoi_ky":
        name = label_name(label)
        if name is None:
            return False, False
        return True, pred is not None and fold_words(pred) == fold_words(name)
    if pred is None:
        return True, False
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "so_ky_hieu": lambda p, lab: norm_skh(p) == norm_skh(lab),
        "ngay_ban_hanh": lambda p, lab: p == lab,
        "co_quan_ban_hanh": lambda p, lab: fold_words(p) == fold_words(lab),
        "loai_van_ban": lambda p, lab: norm_type(p) == norm_type(lab),
        "trich_yeu": lambda p, lab: fold_words(p) == fold_words(lab),
    }
    return True, checks[field](pred, label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path)
    parser.add_argument("--errors", action="store_true", help="print each wrong prediction")
    args = parser.parse_args(argv)

    records = [json.loads(line) for line in args.records.read_text("utf-8").splitlines()
               if line.strip()]
    stats = {f: {"labels": 0, "missing": 0, "unusable": 0, "predicted": 0, "correct": 0}
             for f in LABELLED}
    fuzzy_trich_yeu = 0
    coverage: dict[str, int] = {}
    citations = 0
    for record in records:
        result = extract_metadata(record["text"]).to_dict()
        for name, item in result.items():
            coverage[name] = coverage.get(name, 0) + (item["value"] not in (None, []))
        citations += len(result["can_cu"]["value"] or [])
        labels = record.get("labels") or {}
        for field in LABELLED:
            pred = result[field]["value"]
            label = labels.get(field)
            usable, correct = compare(field, pred, label)
            row = stats[field]
            if usable is None:
                row["missing"] += 1
                continue
            if not usable:
                row["unusable"] += 1
                continue
            row["labels"] += 1
            row["predicted"] += pred is not None
            row["correct"] += correct
            if field == "trich_yeu" and pred is not None and fuzzy_equal(pred, label):
                fuzzy_trich_yeu += 1
            if args.errors and not correct:
                print(f"  ✗ {field} [{record.get('id')}] pred={pred!r} label={label!r}")

    print(f"records: {len(records)}  ({args.records})")
    print(f"{'field':<18}{'labels':>7}{'missing':>8}{'unusable':>9}{'predicted':>10}"
          f"{'correct':>8}{'accuracy':>9}{'precision':>10}")
    for field, row in stats.items():
        acc = row["correct"] / row["labels"] if row["labels"] else 0.0
        prec = row["correct"] / row["predicted"] if row["predicted"] else 0.0
        print(f"{field:<18}{row['labels']:>7}{row['missing']:>8}{row['unusable']:>9}"
              f"{row['predicted']:>10}{row['correct']:>8}{acc:>9.3f}{prec:>10.3f}")
    ty = stats["trich_yeu"]["labels"]
    print(f"trich_yeu fuzzy (prefix or token similarity ≥ 0.8): {fuzzy_trich_yeu}/{ty}"
          f" = {fuzzy_trich_yeu / ty if ty else 0.0:.3f}")
    print("coverage (records with a value, all fields):")
    for name, count in coverage.items():
        print(f"  {name:<18}{count:>4}/{len(records)} = {count / len(records):.3f}")
    print(f"can_cu citations extracted: {citations}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
