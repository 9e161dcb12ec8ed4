"""The record page's page count (``document_view.page_count``, used when a record has no
stored text: its extraction failed, or a legacy original) opens the PDF in the bounded view
worker: pdfium inflates a cross-reference stream whole when it opens a file, so a 300 KB
original whose xref stream inflates to 300 MiB took 658 MB of the web process at every view."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pdf_objects import xref_stream_bomb_pdf

from ingest.text.guards import refuse_pdf_bomb
from web.pages.document_view import page_count

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, sys

    sys.path.insert(0, "tests/support")
    from kho_peak import peak_mb  # this program's own peak: VmHWM, not the inherited ru_maxrss
    from web.pages import document_view

    data = open(sys.argv[1], "rb").read()
    count = document_view.page_count(data)
    print(json.dumps({"count": count, "peak_mb": peak_mb()}))
''')


def test_the_page_count_of_an_xref_stream_bomb_is_taken_outside_the_web_process(tmp_path: Path) -> None:
    pdf = xref_stream_bomb_pdf(300 << 20)
    assert len(pdf) < 400_000
    refuse_pdf_bomb(pdf)  # the premise: the bomb guard lets it through
    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(original)], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["count"] == 1  # still counted: the worker's bound (1024 MB) holds it
    assert found["peak_mb"] < 250, found


def test_the_page_count_is_what_pdfium_counts_and_zero_when_it_cannot_open() -> None:
    from textdocs import pdf_with_text

    assert page_count(pdf_with_text(pages=3)) == 3
    assert page_count(b"%PDF-1.7\nnot a pdf at all") == 0
