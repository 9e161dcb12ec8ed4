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
import io
import logging
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-400x3"
NOW = datetime(2026, 12, 5, tzinfo=UTC)

_CONTROL = {c: None for c in range(32) if c not in (9, 10, 12)} | {0x7F: None}
_WHITESPACE_RE = re.compile(r"\s+")


def _former_clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)
    return unicodedata.normalize("NFC", text)


def _former_usable(text: str, min_chars: int) -> bool:
    from ingest.text.pdf import _GARBAGE_MAX, _GARBAGE_RE

    visible = _WHITESPACE_RE.sub("", text)
    if len(visible) < min_chars:
        return False
    bad = len(_GARBAGE_RE.findall(visible))
    return bad <= _GARBAGE_MAX * len(visible)


def _former_report_to_dict(self: Any) -> dict[str, Any]:
    data = asdict(self)
    data["type"] = self.type.value
    data["signer_kind"] = self.signer_kind.value
    data["verdict"] = self.verdict.to_dict()
    data["findings"] = list(self.findings)
    data["chain"] = list(self.chain)
    return data


def _former_verification_to_dict(self: Any) -> dict[str, Any]:
    return {
        "schema_version": self.schema_version,
        "verdict": self.verdict.to_dict(),
        "signatures": [s.to_dict() for s in self.signatures],
        "nd30": asdict(self.nd30),
        "summary": self.summary,
        "return_reason": self.return_reason,
        "sha256": self.sha256,
        "validated_at": self.validated_at,
        "trust_store": self.trust_store,
        "offline": self.offline,
        "document_findings": list(self.document_findings),
        "appended_bytes": self.appended_bytes,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("rounds", type=int, nargs="?", default=6)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    logging.disable(logging.CRITICAL)
    from ingest.signatures import _fastpath, _pool, rules
    from ingest.signatures import model as sig_model
    from ingest.signatures.combined import combined_reply
    from ingest.signatures.trust import TrustStore
    from ingest.text import pdf as text_pdf
    from ingest.text.settings import TextSettings

    assert _fastpath.activate()
    _pool._warm_up()
    trust = TrustStore.from_dir(args.folder / "trust")
    _ = trust.trust_manager
    settings = TextSettings.from_env()
    paths = sorted(args.folder.glob("signed-*.pdf"))
    needed = 8 + 4 * args.batch * args.rounds
    if len(paths) < needed:
        raise SystemExit(f"{needed} documents needed in {args.folder}, {len(paths)} found")
    documents = iter(p.read_bytes() for p in paths)

    def one(data: bytes) -> None:
        cleanup: list[Callable[[], None]] = []
        reply = combined_reply(data, trust, False, NOW, rules.SAFE_CRYPTO, settings, cleanup)
        assert reply[0] == "ok", reply
        _pool._send(io.BytesIO(), reply)
        _pool._housekeeping(cleanup)

    current = (
        text_pdf.clean_text,
        text_pdf._usable,
        sig_model.SignatureReport.to_dict,
        sig_model.PdfVerification.to_dict,
    )
    former = (_former_clean_text, _former_usable, _former_report_to_dict, _former_verification_to_dict)

    def use(now: bool) -> None:
        clean, usable, report, verification = current if now else former
        text_pdf.clean_text, text_pdf._usable = clean, usable  # type: ignore[assignment]
        sig_model.SignatureReport.to_dict = report  # type: ignore[method-assign]
        sig_model.PdfVerification.to_dict = verification  # type: ignore[method-assign]
        gc.collect()

    def batch(now: bool) -> float:
        use(now)
        docs = [next(documents) for _ in range(args.batch)]
        start = time.process_time()
        for data in docs:
            one(data)
        return (time.process_time() - start) / len(docs) * 1000

    for _ in range(8):
        one(next(documents))
    differences: list[float] = []
    a_lower = 0
    for number in range(1, args.rounds + 1):
        a1, b1, b2, a2 = batch(True), batch(False), batch(False), batch(True)
        a, b = (a1 + a2) / 2, (b1 + b2) / 2
        differences.append(b - a)
        a_lower += a < b
        print(f"round {number}: A {a:.2f}  B {b:.2f}  B-A {b - a:+.2f} ms/doc", flush=True)
    print(
        f"B-A mean {statistics.mean(differences):+.2f} ms/doc, median "
        f"{statistics.median(differences):+.2f}; A lower in {a_lower} of {args.rounds} rounds"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
