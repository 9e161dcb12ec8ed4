"""A bounded pdfium worker (``python -m ingest.text._worker KIND MB``, the command
:func:`ingest.text.box.pool` starts) does not import the signature stack: the pool machinery it
shares with the verification workers lives in :mod:`ingest.workerpool`, which imports no
pyHanko (m12: pyHanko was ~0.2 s of a text worker's ~0.45 s CPU start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported_by_worker(kind: str) -> set[str]:
    """Every module the worker imports from its start until it returns on a closed pipe (read
    from ``-X importtime``, which lists each import as it happens)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ingest.text._worker", kind, "256"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("kind", ["text", "view"])
def test_a_pdfium_worker_does_not_import_pyhanko(kind: str) -> None:
    modules = _imported_by_worker(kind)
    # what the worker needs is there (the listing is not empty or cut short)
    assert {"pypdfium2", "ingest.text.box"} <= modules
    assert "ingest.text.pdf" in modules if kind == "text" else "web.pages.document_view" in modules
    signature_stack = sorted(
        m for m in modules
        if m.split(".")[0] in {"pyhanko", "pyhanko_certvalidator"} or m.startswith("ingest.signatures")
    )
    assert signature_stack == []
