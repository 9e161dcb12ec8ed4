"""CPU of one document in the verification worker: verify alone, verify + text layer from one
pdfium read (``ingest.signatures.combined``), and the text worker's own read, in one process.

    .venv/bin/python bench/m15_read_once.py [--count 60] [--rounds 3]

``--workers``: the same through real worker processes (a verification worker, and the text
worker as the pipeline asks it), CPU of the worker (``/proc``) and of this caller per document:
what the exchange costs on top of the reading.

Reads the generated corpus of ``bench/bench_ingest.py --only a`` (``~/.cache/kho-bench/
signed-200x3``, made by a first run of that script) with its trust store, in a process set up
as a verification worker is (fast path on, warmed up), and prints CPU ms per document of each
reading, interleaved round by round, min / median over rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kho-bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", action="store_true")
    args = parser.parse_args()
    if args.workers:
        through_workers(args.count, args.rounds)
        return
    from ingest.signatures import _fastpath
    from ingest.signatures._pool import _verify_reply, _warm_up
    from ingest.signatures.combined import combined_reply
    from ingest.signatures.rules import SAFE_CRYPTO
    from ingest.signatures.trust import TrustStore
    from ingest.text.pdf import read_text_layer
    from ingest.text.settings import TextSettings

    _fastpath.activate()
    _warm_up()
    folder = CACHE / "signed-200x3"
    trust = TrustStore.from_dir(folder / "trust")
    _ = trust.trust_manager
    settings = TextSettings.from_env()
    docs = [p.read_bytes() for p in sorted(folder.glob("signed-*.pdf"))[: args.count]]

    def verify(data: bytes) -> None:
        cleanup: list = []
        assert _verify_reply(data, trust, False, None, SAFE_CRYPTO, cleanup)[0] == "ok"
        for step in cleanup:
            step()

    def both(data: bytes) -> None:
        cleanup: list = []
        assert combined_reply(data, trust, False, None, SAFE_CRYPTO, settings, cleanup)[0] == "ok"
        for step in cleanup:
            step()

    def text(data: bytes) -> None:
        read_text_layer(data, settings)

    kinds = {"verify": verify, "verify+text": both, "text layer": text}
    for fn in kinds.values():  # first use: imports, caches
        fn(docs[0])
    figures: dict[str, list[float]] = {name: [] for name in kinds}
    for round_ in range(args.rounds):
        for name, fn in kinds.items():
            began = time.process_time()
            for data in docs:
                fn(data)
            figures[name].append((time.process_time() - began) * 1000 / len(docs))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in figures.items()), flush=True)
    for name, values in figures.items():
        print(f"{name}: CPU ms/doc min {min(values):.2f} median {statistics.median(values):.2f}")
    print(f"load {os.getloadavg()[0]:.1f}")


def through_workers(count: int, rounds: int) -> None:
    from ingest.signatures import verify_pdf
    from ingest.signatures.combined import verify_and_read_text
    from ingest.signatures.rules import SAFE_CRYPTO
    from ingest.signatures.trust import TrustStore
    from ingest.text import box
    from ingest.text.settings import TextSettings
    from ingest.workerpool import VerifierPool

    folder = CACHE / "signed-200x3"
    trust = TrustStore.from_dir(folder / "trust")
    settings = TextSettings.from_env()
    docs = [p.read_bytes() for p in sorted(folder.glob("signed-*.pdf"))[:count]]
    verifier = VerifierPool(1)
    texts = box.pool("text", settings.text_layer_memory_mb)

    def separate(data: bytes) -> None:
        box.run("text", data, (settings,), timeout=60, memory_mb=settings.text_layer_memory_mb)
        verify_pdf(data, trust, pool=verifier)

    def combined(data: bytes) -> None:
        assert verify_and_read_text(
            data, trust, allow_fetching=False, policy=SAFE_CRYPTO, settings=settings, pool=verifier
        )

    kinds = {"separate (text worker + verify)": separate, "combined (verify + text)": combined}
    for fn in kinds.values():
        fn(docs[0])
    figures: dict[str, list[float]] = {name: [] for name in kinds}
    for round_ in range(rounds):
        for name, fn in kinds.items():
            before = sum(verifier.idle_worker_cpu(0.5).values()) + sum(texts.idle_worker_cpu(0.5).values())
            mine = time.process_time()
            for data in docs:
                fn(data)
            mine = time.process_time() - mine
            after = sum(verifier.idle_worker_cpu(0.5).values()) + sum(texts.idle_worker_cpu(0.5).values())
            figures[name].append((after - before + mine) * 1000 / len(docs))
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in figures.items()), flush=True)
    for name, values in figures.items():
        print(
            f"{name}: CPU ms/doc (workers + caller) "
            f"min {min(values):.2f} median {statistics.median(values):.2f}"
        )
    print(f"load {os.getloadavg()[0]:.1f}")
    verifier.close()


if __name__ == "__main__":
    main()
