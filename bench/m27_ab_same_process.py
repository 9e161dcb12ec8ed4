"""m27's verification-worker cuts against the former code, in one process, batches alternating.

    .venv/bin/python bench/m27_ab_same_process.py [ROUNDS] [--batch 16] [--folder DIR]

One process set up as a verification worker (fast path, ``_pool._warm_up``), each document as
the worker answers an ingest's "verify + text layer" request (``combined_reply``, the reply
pickled, the housekeeping after it), as ``bench/m17_ab_same_process.py`` does. Batches of
bench documents (``~/.cache/kho-bench/signed-400x3`` by default; ``bench/bench_ingest.py
--count 400`` makes them), each document seen once, alternate A B B A per round:

* A: this tree as it is;
* B: the same process with m27's three cuts undone (the former code, verbatim): the
  verification's ``to_dict`` through ``dataclasses.asdict``, ``clean_text`` translating every
  text, ``_usable`` by a pattern substitution.

Prints, per round, CPU ms per document of A and B (``time.process_time``), then the mean and
median of B − A and in how many rounds A was lower. The load of other processes shifts both
alike. The bulk worker's share of the to_dict cut (it encodes the verification again for
``signatures.json``) is not in this figure.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ab_worker import (
    alternate_batches,
    former_clean_text,
    former_report_to_dict,
    former_usable,
    former_verification_to_dict,
    verification_worker,
)

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-400x3"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", type=int, nargs="?", default=6)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    from ingest.signatures import model as sig_model
    from ingest.text import pdf as text_pdf

    one, documents = verification_worker(args.folder, 4 * args.batch * args.rounds)
    current = (
        text_pdf.clean_text,
        text_pdf._usable,
        sig_model.SignatureReport.to_dict,
        sig_model.PdfVerification.to_dict,
    )
    former = (former_clean_text, former_usable, former_report_to_dict, former_verification_to_dict)

    def use(now: bool) -> None:
        clean, usable, report, verification = current if now else former
        text_pdf.clean_text, text_pdf._usable = clean, usable  # type: ignore[assignment]
        sig_model.SignatureReport.to_dict = report  # type: ignore[method-assign]
        sig_model.PdfVerification.to_dict = verification  # type: ignore[method-assign]
        gc.collect()

    alternate_batches(one, documents, use, args.rounds, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
