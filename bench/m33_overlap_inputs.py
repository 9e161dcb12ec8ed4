"""The inputs of the local store's overlap decision while one process stores records (m33,
issue 14): every second, the idle cores measured (``storage.overlap.IdleCores``), the store's
fsync moving average and the mode chosen. A diagnostic, not a benchmark.

    PYTHONPATH=<tree> .venv/bin/python bench/m33_overlap_inputs.py [seconds]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

from repository.storage.local import LocalStore
from repository.storage.overlap import PROCESS_IDLE_CORES


def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store, keys = LocalStore(Path(folder) / "s"), LocalStore(Path(folder) / "k")
        repo = new_repository(store, keys)
        began = last = time.monotonic()
        count = overlapped = 0
        while time.monotonic() - began < seconds:
            content = pdf_bytes(str(count), 200_000)
            repo.create_document("den", incoming(code_number=str(count + 1)), content, "a.pdf", CLERK)
            count += 1
            overlapped += store._mode.overlaps
            if time.monotonic() - last >= 1:
                last = time.monotonic()
                print(
                    f"t={last - began:4.1f}s records={count} idle_cores={PROCESS_IDLE_CORES()}"
                    f" fsync_avg_ms={store._sync_seconds * 1000:.2f} mode={store._mode}",
                    flush=True,
                )
        print(f"{count} records, the last decision of {overlapped} of them: overlap")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 6.0)
