"""Many threads verifying real corpus PDFs with one fresh store per round (bench/NOTES-rv56.md).

``python bench/rv56_verify_race.py MODE ROUNDS THREADS [INTERVAL] [HOW]``: MODE ``fast`` (the
fast path on, as in a worker) or ``stock``; INTERVAL the switch interval during the rounds
(default 1e-6 s); HOW ``tm`` (the store's trust manager built before the threads start, as a
worker does), ``none`` (the threads build it) or ``native`` (the anchors parsed whole first).
Each thread verifies two of eight corpus files with ``verify_in_process``; prints how many of
the threads got a verdict (the whole result) other than one thread alone, and the first
difference of each file. Writes nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logging.disable(logging.CRITICAL)
MODE, ROUNDS, THREADS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
INTERVAL = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-6
HOW = sys.argv[5] if len(sys.argv) > 5 else "tm"

from ingest.signatures import _fastpath  # noqa: E402

if MODE == "fast":
    _fastpath.activate()
from ingest.signatures import _certs, _matches, _paths, _sigcheck  # noqa: E402
from ingest.signatures.trust import TrustStore  # noqa: E402
from ingest.signatures.verify import verify_in_process  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pdf"
FILES = (
    "vn-gov__194-ttg.signed.pdf", "vn-gov__196cd.signed.pdf", "vn-gov__15557btc.signed.pdf",
    "dss__doc-firmado-T.pdf", "pyhanko__pades-lta-dss-indirect-arrs-test.pdf",
    "pyhanko__sig-with-ski-sid.pdf", "dss__dss-2236_replace.pdf",
    "pyhanko__coverage-anomalies_tail-uncovered.pdf",
)
MOMENT = datetime(2026, 12, 1, tzinfo=UTC)
DATAS = [(CORPUS / name).read_bytes() for name in FILES]
LISTS = TrustStore.from_dir(CORPUS / "trust")


def fresh() -> TrustStore:
    if MODE == "fast":
        _certs._shared.clear()
        _paths.clear()
        _matches.clear()
        _sigcheck.shared_validator()._verified.clear()
    store = TrustStore.from_der(LISTS.der, LISTS.source)
    if HOW == "native":
        for anchor in store.anchors:
            _ = anchor.native
    if HOW in ("tm", "native"):
        _ = store.trust_manager
    return store


def verdict(data: bytes, store: TrustStore) -> Any:
    try:
        return verify_in_process(data, store, now=MOMENT).to_dict()
    except BaseException as exc:
        return f"{type(exc).__name__}: {exc}"


def first_difference(want: Any, got: Any, path: str = "") -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            found = first_difference(want.get(key), got.get(key), f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for index, (one, other) in enumerate(zip(want, got, strict=True)):
            found = first_difference(one, other, f"{path}[{index}]")
            if found:
                return found
        return ""
    return "" if want == got else f"{path}: {str(want)[:120]!r} -> {str(got)[:200]!r}"


def main() -> None:
    alone = [verdict(data, fresh()) for data in DATAS]
    bad = 0
    differences: dict[str, set[str]] = {}
    sys.setswitchinterval(INTERVAL)
    try:
        for _ in range(ROUNDS):
            store = fresh()
            barrier = threading.Barrier(THREADS, timeout=600)
            got: list[list[Any] | None] = [None] * THREADS

            def work(index: int, store: TrustStore = store, barrier: threading.Barrier = barrier,
                     got: list[list[Any] | None] = got) -> None:
                barrier.wait()
                got[index] = [verdict(DATAS[(index + k) % len(DATAS)], store) for k in range(2)]

            workers = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
            for one in workers:
                one.start()
            for one in workers:
                one.join(600)
            for index, answers in enumerate(got):
                wanted = [alone[(index + k) % len(DATAS)] for k in range(2)]
                if answers != wanted:
                    bad += 1
                    for k in range(2):
                        if answers is None or answers[k] != wanted[k]:
                            name = FILES[(index + k) % len(DATAS)]
                            other = None if answers is None else answers[k]
                            differences.setdefault(name, set()).add(first_difference(wanted[k], other))
    finally:
        sys.setswitchinterval(0.005)
    print(json.dumps({
        "mode": MODE, "how": HOW, "interval": INTERVAL, "threads_wrong": bad,
        "threads": THREADS * ROUNDS, "differences": {k: sorted(v)[:3] for k, v in differences.items()},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
