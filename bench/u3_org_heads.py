"""NOTES-u3: the shorter list of organisation heads gives every name the same kind.

    .venv/bin/python bench/u3_org_heads.py /tmp/base-u3 [../shared/corpora/pdf]

Loads ``ingest/signatures/rules.py`` twice, from the given tree (before, e.g. ``git archive
main`` extracted) and from this one (after), and compares ``classify_signer`` and
``_names_an_organisation`` on: every string literal of ``tests/`` and of the benches that
classify names (``bench/rv2_seal_kind.py``, ``bench/a10_corpus_agencies.py``), the subject of
every certificate embedded in the corpus PDFs (what ``a10_corpus_agencies`` classifies), and each
old head written in lower, title and upper case, alone and followed by a place. Prints the
counts and every name whose kind differs; exits 1 if any does.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def load(root: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, root / "ingest/signatures/rules.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and 0 < len(n.value) < 300}


def corpus_subjects(base: Path) -> list[dict[str, str]]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    from ingest.signatures.verify import subject_fields

    subjects = []
    for pdf in sorted(base.glob("*.pdf")):
        try:
            with pdf.open("rb") as f:
                for sig in PdfFileReader(f, strict=False).embedded_signatures:
                    for cert in sig.signed_data["certificates"] or ():
                        subjects.append(subject_fields(cert.chosen.subject))
        except Exception as exc:  # a broken test PDF of the corpus: its names are not read
            print(f"skip {pdf.name}: {type(exc).__name__}", file=sys.stderr)
    return subjects


def main(before_root: Path, corpus: Path | None) -> int:
    before, after = load(before_root, "rules_before"), load(HERE, "rules_after")
    names: set[str] = set()
    for path in [*HERE.glob("tests/**/*.py"), HERE / "bench/rv2_seal_kind.py",
                 HERE / "bench/a10_corpus_agencies.py"]:
        names |= literals(path)
    for head in before._ORG_HEADS:
        for text in (head, head + " quảng ngãi"):
            names |= {text, text.title(), text.upper()}
    subjects = [{"common_name": n} for n in sorted(names)]
    corpus_count = 0
    if corpus is not None:
        found = corpus_subjects(corpus)
        corpus_count = len(found)
        subjects += found
    differ = 0
    for subject in subjects:
        cn = str(subject.get("common_name") or "")
        kinds = (before.classify_signer(subject), after.classify_signer(subject))
        orgs = (before._names_an_organisation(cn), after._names_an_organisation(cn))
        if kinds[0] != kinds[1] or orgs[0] != orgs[1]:
            differ += 1
            print(f"DIFFERS {subject!r}: kind {kinds[0]} -> {kinds[1]}, org {orgs[0]} -> {orgs[1]}")
    kinds_after = [after.classify_signer(s) for s in subjects]
    print(f"heads: {len(before._ORG_HEADS)} before, {len(after._ORG_HEADS)} after")
    print(f"names compared: {len(subjects)} ({len(names)} literals and heads, "
          f"{corpus_count} corpus certificate subjects)")
    for kind in sorted(set(kinds_after), key=str):
        print(f"  {kind}: {kinds_after.count(kind)}")
    print(f"names whose kind or organisation reading differs: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
