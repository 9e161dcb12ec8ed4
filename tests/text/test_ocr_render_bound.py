"""A page drawn for OCR is drawn in the bounded text worker, never in the pipeline's process: a
scanned page of a file whose cross-reference stream inflates to 300 MiB (a 306 KB original
under the bomb guard) took 658 MB of the pipeline's process to open for OCR, and a page of one
22000² image (470 KB of Flate) 670 MB to draw. Real pdfium, real Tesseract."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from ingest.text.guards import refuse_pdf_bomb

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, sys, unicodedata

    def peak_mb():
        # this program's own peak (VmHWM): ru_maxrss carries the spawning process's peak
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    from ingest.text.extractor import extract_text
    from ingest.text.settings import TextSettings

    data = open(sys.argv[1], "rb").read()
    settings = TextSettings(ocr_enabled=True, ocr_lang="eng", **json.loads(sys.argv[2]))
    found = {}
    try:
        text = extract_text(data, "a.pdf", settings=settings)
        found.update(pages=text.page_count, sources=[p.source.value for p in text.parts],
                     warnings=[w.code for w in text.warnings])
    except Exception as exc:
        message = str(getattr(exc, "message", exc))
        found.update(code=getattr(exc, "code", type(exc).__name__), message=message,
                     nfc=unicodedata.is_normalized("NFC", message),
                     page=getattr(exc, "details", {}).get("page"))
    found.update(peak_mb=peak_mb())
    print(json.dumps(found))
''')


def _extract_in_own_process(pdf: bytes, tmp_path: Path, **settings: object) -> dict[str, object]:
    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(original), json.dumps(settings)], cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _flate_zeros(count: int, head: bytes = b"") -> bytes:
    packer = zlib.compressobj(9)
    parts, left, zeros = [packer.compress(head)], count - len(head), bytes(1 << 20)
    while left > 0:
        parts.append(packer.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    parts.append(packer.flush())
    return b"".join(parts)


def scanned_page_pdf(side: int, *, xref_inflated: int = 0) -> bytes:
    """One page that is one gray ``side``² image (a scan: it needs OCR). With
    ``xref_inflated``, the cross-reference stream inflates to that many bytes (five true entries
    then zeros), which pdfium inflates whole at every open."""
    image = _flate_zeros(side * side)
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /XObject << /Im 5 0 R >> >> >>",
        b"<< /Length 31 >>\nstream\nq 612 0 0 792 0 0 cm /Im Do Q\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (side, side, len(image))
        + image + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    if not xref_inflated:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
        return bytes(out)

    def entry(kind: int, field: int, generation: int) -> bytes:
        return bytes([kind]) + field.to_bytes(4, "big") + generation.to_bytes(2, "big")

    size = len(bodies) + 2
    rows = entry(0, 0, 65535) + b"".join(entry(1, o, 0) for o in offsets) + entry(1, xref, 0)
    data = _flate_zeros(xref_inflated, rows)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode"
            b" /Length %d >>\nstream\n" % (size - 1, size, len(data))) + data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_a_scanned_page_of_an_xref_stream_bomb_is_opened_for_ocr_in_the_worker(tmp_path: Path) -> None:
    pdf = scanned_page_pdf(400, xref_inflated=300 << 20)
    refuse_pdf_bomb(pdf)  # the premise: under the bomb guard
    found = _extract_in_own_process(pdf, tmp_path)
    assert found.get("pages") == 1, found
    assert found["sources"] == ["ocr"], found  # the page was drawn and OCR'd (in the worker)
    assert found["peak_mb"] < 250, found


@pytest.mark.parametrize("case", ["time", "memory"])
def test_a_scan_past_the_render_bound_is_refused_naming_the_page(tmp_path: Path, case: str) -> None:
    """Time: a page of one 22000² image (484 MB of gray once decoded, 470 KB in the file) takes
    seconds to draw. Memory: opening the xref-stream bomb takes 658 MB, under the text layer's
    bound (2048 MB, so its text is read) but over a render bound of 200 MB."""
    if case == "time":
        pdf, bounds = scanned_page_pdf(22000), {"ocr_render_timeout": 0.5}
    else:
        pdf, bounds = scanned_page_pdf(400, xref_inflated=300 << 20), {"ocr_render_memory_mb": 200}
    refuse_pdf_bomb(pdf)
    found = _extract_in_own_process(pdf, tmp_path, **bounds)
    assert found.get("code") == "FILE_TOO_COMPLEX", found
    message = str(found["message"])
    assert "trang 1" in message and "nhận dạng chữ" in message, found
    assert ("thời gian" if case == "time" else "bộ nhớ") in message, found
    assert found["nfc"] is True and found["page"] == 1, found
    assert found["peak_mb"] < 250, found


def test_the_same_scan_within_the_default_bound_is_read_and_drawn_outside_the_process(
    tmp_path: Path,
) -> None:
    found = _extract_in_own_process(scanned_page_pdf(22000), tmp_path)
    assert found.get("sources") == ["ocr"], found
    assert found["peak_mb"] < 250, found


def test_a_render_reply_is_checked_field_by_field() -> None:
    """The worker parsed hostile bytes: its page image comes back as data checked here (an
    8-bit BMP, an integer dpi, a warning text or none), anything else refused."""
    import json as _json
    import struct

    from ingest.signatures._pool import BadReply
    from ingest.text.box import decode_reply

    def reply(head: dict[str, object], raw: bytes) -> bytes:
        encoded = _json.dumps(head).encode()
        return struct.pack(">I", len(encoded)) + encoded + raw

    good = {"status": "ok", "dpi": 300, "warning": None}
    assert decode_reply("render", reply(good, b"BM...")) == ("ok", (300, b"BM...", None))
    for head, raw in (
        (good, b"\x89PNG\r\n\x1a\n"),  # not a BMP
        ({**good, "dpi": True}, b"BM"),
        ({**good, "dpi": 0}, b"BM"),
        ({**good, "warning": 7}, b"BM"),
        ({**good, "class": "os.system"}, b"BM"),
    ):
        with pytest.raises(BadReply):
            decode_reply("render", reply(head, raw))
