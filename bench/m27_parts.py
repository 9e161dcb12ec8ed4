"""m27's three cuts, each against the former code on real data, alternated in one process.

    .venv/bin/python bench/m27_parts.py [DOCUMENTS] [--rounds 5] [--folder DIR]

Inputs, made once: the raw text layer of every page of DOCUMENTS (default 60) bench PDFs
(``~/.cache/kho-bench/signed-400x3``, 3 pages each; pdfium's ``get_text_bounded``, what the
verification worker's read hands to ``clean_text``), and the verification of each
(``verify_pdf``). Then, per round, each part is timed former / current / current / former over
all of them (``time.process_time``, the whole set repeated ``REPEAT`` times): ``clean_text`` of
the raw pages, ``_usable`` of the cleaned pages, ``PdfVerification.to_dict`` (once per document
in the verification worker's reply, once more in the bulk worker for ``signatures.json``).
Prints ms per document for each, per round, then min / median over the rounds. Outputs are
checked equal first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ab_worker import former_clean_text, former_usable
from bench.ab_worker import former_verification_to_dict as former_to_dict

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-400x3"
REPEAT = 10


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("documents", type=int, nargs="?", default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args()
    import pypdfium2 as pdfium

    from ingest.signatures import TrustStore, verify_pdf
    from ingest.text.model import clean_text
    from ingest.text.pdf import _usable

    trust = TrustStore.from_dir(args.folder / "trust")
    paths = sorted(args.folder.glob("signed-*.pdf"))[: args.documents]
    raw: list[str] = []
    verifications = []
    for path in paths:
        data = path.read_bytes()
        doc = pdfium.PdfDocument(data)
        for page in doc:
            textpage = page.get_textpage()
            raw.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        doc.close()
        verifications.append(verify_pdf(data, trust))
    cleaned = [clean_text(t) for t in raw]
    assert cleaned == [former_clean_text(t) for t in raw]
    assert [_usable(t, 20) for t in cleaned] == [former_usable(t, 20) for t in cleaned]
    assert [v.to_dict() for v in verifications] == [former_to_dict(v) for v in verifications]
    n = len(paths)

    def timed(work: Callable[[], object]) -> float:
        start = time.process_time()
        for _ in range(REPEAT):
            work()
        return (time.process_time() - start) / REPEAT / n * 1000

    parts: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "clean_text": (
            lambda: [former_clean_text(t) for t in raw],
            lambda: [clean_text(t) for t in raw],
        ),
        "_usable": (
            lambda: [former_usable(t, 20) for t in cleaned],
            lambda: [_usable(t, 20) for t in cleaned],
        ),
        "to_dict": (
            lambda: [former_to_dict(v) for v in verifications],
            lambda: [v.to_dict() for v in verifications],
        ),
    }
    figures: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in parts}
    for number in range(1, args.rounds + 1):
        line = []
        for name, (former, current) in parts.items():
            f1, c1, c2, f2 = timed(former), timed(current), timed(current), timed(former)
            figures[name][0].append((f1 + f2) / 2)
            figures[name][1].append((c1 + c2) / 2)
            line.append(f"{name} {(f1 + f2) / 2:.3f} -> {(c1 + c2) / 2:.3f}")
        print(f"round {number} ({n} documents, {len(raw)} pages), ms/doc: " + "; ".join(line), flush=True)
    print("min / median over rounds, ms per document, former -> current:")
    for name, (former_ms, current_ms) in figures.items():
        print(
            f"  {name}: {min(former_ms):.3f} / {statistics.median(former_ms):.3f} -> "
            f"{min(current_ms):.3f} / {statistics.median(current_ms):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
