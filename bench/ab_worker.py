"""What the same-process A/B benches of the verification worker share.

``bench/m17_ab_same_process.py`` and ``bench/m27_ab_same_process.py`` each time one process set
up as a verification worker (fast path, ``_pool._warm_up``), answering an ingest's "verify + text
layer" request per document (``combined_reply``, the reply pickled, the housekeeping after it),
in batches that alternate A (the tree as it is) and B (a cut undone) as A B B A per round.
``bench/m27_parts.py`` times m27's former code against the current one; the former code is here
once (``former_*``), verbatim from before m27.
"""

from __future__ import annotations

import io
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 12, 5, tzinfo=UTC)
WARM_UP = 8


def verification_worker(folder: Path, needed: int) -> tuple[Callable[[bytes], None], Iterator[bytes]]:
    """A process set up as a verification worker: its per-document answer and the documents."""
    from ingest.signatures import _fastpath, _pool, rules
    from ingest.signatures.combined import combined_reply
    from ingest.signatures.trust import TrustStore
    from ingest.text.settings import TextSettings

    assert _fastpath.activate()
    _pool._warm_up()
    trust = TrustStore.from_dir(folder / "trust")
    _ = trust.trust_manager
    settings = TextSettings.from_env()
    paths = sorted(folder.glob("signed-*.pdf"))
    if len(paths) < WARM_UP + needed:
        raise SystemExit(f"{WARM_UP + needed} documents needed in {folder}, {len(paths)} found")
    documents = iter(p.read_bytes() for p in paths)

    def one(data: bytes) -> None:
        cleanup: list[Callable[[], None]] = []
        reply = combined_reply(data, trust, False, NOW, rules.SAFE_CRYPTO, settings, cleanup)
        assert reply[0] == "ok", reply
        _pool._send(io.BytesIO(), reply)
        _pool._housekeeping(cleanup)

    for _ in range(WARM_UP):
        one(next(documents))
    return one, documents


def alternate_batches(
    one: Callable[[bytes], None],
    documents: Iterator[bytes],
    use: Callable[[bool], None],
    rounds: int,
    batch_size: int,
) -> None:
    """A B B A per round, ``use(True)`` before an A batch and ``use(False)`` before a B batch."""

    def batch(current: bool) -> float:
        use(current)
        docs = [next(documents) for _ in range(batch_size)]
        start = time.process_time()
        for data in docs:
            one(data)
        return (time.process_time() - start) / len(docs) * 1000

    differences: list[float] = []
    a_lower = 0
    for number in range(1, rounds + 1):
        a1, b1, b2, a2 = batch(True), batch(False), batch(False), batch(True)
        a, b = (a1 + a2) / 2, (b1 + b2) / 2
        differences.append(b - a)
        a_lower += a < b
        print(f"round {number}: A {a:.2f}  B {b:.2f}  B-A {b - a:+.2f} ms/doc", flush=True)
    print(
        f"B-A mean {statistics.mean(differences):+.2f} ms/doc, median "
        f"{statistics.median(differences):+.2f}; A lower in {a_lower} of {rounds} rounds"
    )


_CONTROL = {c: None for c in range(32) if c not in (9, 10, 12)} | {0x7F: None}
_WHITESPACE_RE = re.compile(r"\s+")


def former_clean_text(text: str) -> str:
    """``ingest.text.model.clean_text`` before m27."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)
    return unicodedata.normalize("NFC", text)


def former_usable(text: str, min_chars: int) -> bool:
    """``ingest.text.pdf._usable`` before m27."""
    from ingest.text.pdf import _GARBAGE_MAX, _GARBAGE_RE

    visible = _WHITESPACE_RE.sub("", text)
    if len(visible) < min_chars:
        return False
    bad = len(_GARBAGE_RE.findall(visible))
    return bad <= _GARBAGE_MAX * len(visible)


def former_report_to_dict(self: Any) -> dict[str, Any]:
    """``SignatureReport.to_dict`` before m27."""
    data = asdict(self)
    data["type"] = self.type.value
    data["signer_kind"] = self.signer_kind.value
    data["verdict"] = self.verdict.to_dict()
    data["findings"] = list(self.findings)
    data["chain"] = list(self.chain)
    return data


def former_verification_to_dict(self: Any) -> dict[str, Any]:
    """``PdfVerification.to_dict`` before m27."""
    return {
        "schema_version": self.schema_version,
        "verdict": self.verdict.to_dict(),
        "signatures": [former_report_to_dict(s) for s in self.signatures],
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
