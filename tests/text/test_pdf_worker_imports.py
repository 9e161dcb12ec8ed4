"""A bounded pdfium worker (``python -m ingest.text._worker KIND MB``, the command
:func:`ingest.text.box.pool` starts) does not import the signature stack: the pool machinery it
shares with the verification workers lives in :mod:`ingest.workerpool`, which imports no
pyHanko (m12: pyHanko was ~0.2 s of a text worker's ~0.45 s CPU start)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


RUN_WORKER = """
import json, runpy, sys
out = sys.argv.pop(1)
sys.argv = ["ingest.text._worker", *sys.argv[1:]]
runpy.run_module("ingest.text._worker", run_name="__main__", alter_sys=True)
with open(out, "w") as fh:
    json.dump(sorted(sys.modules), fh)
"""


def _imported_by_worker(kind: str, tmp_path: Path) -> set[str]:
    """Every module loaded in a worker started as ``python -m ingest.text._worker KIND MB`` is
    (its ``__main__`` run by ``runpy`` with the same arguments) once it has returned on a closed
    request pipe: what a pool worker holds when it waits for its first request."""
    out = tmp_path / f"modules-{kind}.json"
    subprocess.run(
        [sys.executable, "-c", RUN_WORKER, str(out), kind, "256"],
        stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT, timeout=60, check=True,
    )
    return set(json.loads(out.read_text()))


@pytest.mark.parametrize("kind", ["text", "view"])
def test_a_pdfium_worker_does_not_import_pyhanko(kind: str, tmp_path: Path) -> None:
    modules = _imported_by_worker(kind, tmp_path)
    # what the worker needs is there (the listing is not empty or cut short)
    assert {"pypdfium2", "ingest.text.box"} <= modules
    assert "ingest.text.pdf" in modules if kind == "text" else "web.pages.document_view" in modules
    signature_stack = sorted(
        m for m in modules
        if m.split(".")[0] in {"pyhanko", "pyhanko_certvalidator"} or m.startswith("ingest.signatures")
    )
    assert signature_stack == []
