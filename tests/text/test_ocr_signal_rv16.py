"""Review rv16 of a21's Tesseract bound: a Tesseract ended by a signal for another reason than
the bound is not reported as the page past the memory bound.

a21 read any signal under a bound as "past the bound" (FILE_TOO_COMPLEX, a bad file: the job
ends for good, the message says the scan is too complex). A crash (SIGSEGV: what an image made
to exploit the image reader does) or a kill from outside (the kernel's OOM killer when the
machine, not the page, is short of memory; an operator) was then hidden as a too-complex scan.
Under the bound Tesseract and Leptonica say that an allocation failed (measured: "pixdata_malloc
fail", "libpng error: Out of memory"); only that is the bound.

Real Tesseract (Vietnamese model) on a large page, under a bound it stays well within, ended by
the test with a real signal while it runs."""

from __future__ import annotations

import os
import signal
import threading
import time
import unicodedata
from pathlib import Path

import pytest
from textdocs import large_text_png

from ingest.text.errors import FileTooComplex, OcrFailed
from ingest.text.ocr import PageImage, ocr_image


def _tesseract_children() -> list[int]:
    """Our Tesseract children (the bounding shell ``exec``s it, so it is our child)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if name == "tesseract" and int(rest[1]) == os.getpid():
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_tesseract_ended_by_a_signal_is_ocr_failed_not_past_the_bound(sig: signal.Signals) -> None:
    """A SIGKILL'd page is read once more at a lower resolution (u13): it is ended on both tries,
    and the error is OCR_KILLED (an OcrFailed), still never the bound."""
    sent: list[int] = []
    tries = 2 if sig == signal.SIGKILL else 1

    def end_it() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(sent) < tries:
            for pid in _tesseract_children():
                if pid in sent:
                    continue
                time.sleep(0.3)  # let it start reading the page
                os.kill(pid, sig)
                sent.append(pid)
                break
            time.sleep(0.02)

    killer = threading.Thread(target=end_it)
    killer.start()
    try:
        with pytest.raises(OcrFailed) as failed:
            ocr_image(PageImage(1, large_text_png(8000), 300), lang="vie", timeout=60, memory_mb=2048)
    except FileTooComplex as mislabelled:
        pytest.fail(f"a {sig.name} was reported as past the memory bound: {mislabelled.message}")
    finally:
        killer.join()
    assert len(sent) == tries, "Tesseract was never seen running"
    err = failed.value
    assert err.code == ("OCR_KILLED" if sig == signal.SIGKILL else "OCR_FAILED")
    assert err.details["page"] == 1 and err.details["returncode"] == -sig
    assert err.details["signal"] == sig.name
    assert "trang 1" in err.message and sig.name in err.message
    assert unicodedata.is_normalized("NFC", err.message)
