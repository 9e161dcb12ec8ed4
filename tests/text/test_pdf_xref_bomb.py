"""pdfium inflates a cross-reference stream whole when it opens a file (300 MiB of one, in a
300 KB original under the bomb guard's ratio, took 658 MB): the text extraction opens the file
in its bounded worker only, never in the pipeline's process (a Celery or bulk worker), unless
a page must be rendered for OCR."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from pdf_objects import xref_stream_bomb_pdf

from ingest.text.guards import refuse_pdf_bomb

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, sys

    sys.path.insert(0, "tests/support")
    from kho_peak import peak_mb  # this program's own peak: VmHWM, not the inherited ru_maxrss
    from ingest.text.extractor import extract_text
    from ingest.text.settings import TextSettings

    data = open(sys.argv[1], "rb").read()
    found = {}
    try:
        text = extract_text(data, "a.pdf", settings=TextSettings(ocr_enabled=False))
        found.update(pages=text.page_count, warnings=[w.code for w in text.warnings])
    except Exception as exc:
        found.update(code=getattr(exc, "code", type(exc).__name__))
    found.update(peak_mb=peak_mb())
    print(json.dumps(found))
''')


def _extract_in_own_process(pdf: bytes, tmp_path: Path) -> dict[str, object]:
    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(original)], cwd=ROOT, capture_output=True, text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_an_xref_stream_bomb_is_opened_in_the_worker_not_the_pipeline_process(tmp_path: Path) -> None:
    pdf = xref_stream_bomb_pdf(300 << 20)
    refuse_pdf_bomb(pdf)  # the premise: under the bomb guard
    found = _extract_in_own_process(pdf, tmp_path)
    assert found.get("pages") == 1, found  # read: the worker's 2048 MB bound holds it
    assert found["peak_mb"] < 250, found


def test_the_page_count_checks_hold_in_the_worker(tmp_path: Path) -> None:
    """FILE_TOO_MANY_PAGES and a file pdfium refuses keep their codes now that the count is
    taken in the worker."""
    from pdf_objects import pdf_from_objects

    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(6000))
    many = pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count 6000 >>",
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * 6000,
    ])
    assert _extract_in_own_process(many, tmp_path)["code"] == "FILE_TOO_MANY_PAGES"
    assert _extract_in_own_process(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", tmp_path)["code"] \
        == "FILE_CORRUPT"
