"""The two m14 changes measured against their absence in one process (no second tree, so the
load of the machine falls on both sides alike).

    .venv/bin/python bench/m14_ab_same_process.py [ROUNDS]

The fast path is activated as in a worker, then batches of 16 documents of
``~/.cache/kho-bench/signed-200x3`` alternate (ABBA order) between A, this tree as it is, and B,
where the validation contexts get pyhanko-certvalidator's default signature validator (the
``certs`` part reported off to ``verify``; the certificate memo stays installed on both sides)
and ``rules.name_problems`` is the former implementation (the verbatim copy kept by
``tests/signatures/test_sig_sigcheck.py``). Prints CPU per document (``process_time``, the
housekeeping included) per side, and the paired difference per round.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from m14_verify_cpu import FOLDER, worker_like

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "signatures"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 12
BATCH = 16


def main() -> int:
    verify_with = worker_like(ROOT)
    import test_sig_sigcheck

    from ingest.signatures import _fastpath, rules
    from ingest.signatures.trust import TrustStore

    trust = TrustStore.from_dir(FOLDER / "trust")
    _ = trust.trust_manager
    documents = [p.read_bytes() for p in sorted(FOLDER.glob("signed-*.pdf"))]
    parts, name_problems = _fastpath._parts, rules.name_problems

    def verify(data: bytes) -> None:
        verify_with(data, trust)

    def side(m14: bool) -> None:
        _fastpath._parts = parts if m14 else parts - {"certs"}
        rules.name_problems = name_problems if m14 else test_sig_sigcheck._name_problems_before

    for data in documents[:8]:
        verify(data)
    spent: dict[bool, list[float]] = {True: [], False: []}
    at = 8
    for number in range(ROUNDS):
        for m14 in (True, False) if number % 2 else (False, True):
            side(m14)
            batch = [documents[8 + (at + k) % (len(documents) - 8)] for k in range(BATCH)]
            at += BATCH
            start = time.process_time()
            for data in batch:
                verify(data)
            spent[m14].append(1000 * (time.process_time() - start) / BATCH)
    side(True)
    for m14, name in ((False, "B (without the changes)"), (True, "A (m14)")):
        low, middle = min(spent[m14]), statistics.median(spent[m14])
        print(f"{name}: min {low:.2f} median {middle:.2f} ms/doc, {len(spent[m14])} batches")
    differences = [b - a for a, b in zip(spent[True], spent[False], strict=True)]
    lower = sum(d > 0 for d in differences)
    middle, mean = statistics.median(differences), statistics.mean(differences)
    print(
        f"B - A per round: median {middle:.2f} mean {mean:.2f} ms/doc; A lower in {lower}/{len(differences)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
