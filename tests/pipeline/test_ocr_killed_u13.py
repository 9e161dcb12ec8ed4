"""u13 (m15's open item): a page whose Tesseract is killed (SIGKILL, what the kernel's
out-of-memory killer sends) is read once more at a lower resolution; killed again, the document
ends with OCR_KILLED and a Vietnamese message naming the page, never with its text silently
empty. Before, the first kill ended the document with OCR_FAILED and no second try.

Real Tesseract (Vietnamese model) on a real scan of the corpus; the kill is a real SIGKILL sent
by a watcher to the Tesseract processes this test started (found in ``/proc`` by their parent
chain, so another process's Tesseract on the machine is never touched)."""

from __future__ import annotations

import os
import signal
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textdocs import scan_png

from ingest.pipeline import Pipeline
from ingest.status import JobState
from ingest.text import TextSettings, extract_text
from ingest.text.errors import OcrFailed


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])


def _ours(pid: int) -> bool:
    me, seen = os.getpid(), 0
    while pid > 1 and seen < 64:
        pid, seen = _parent(pid), seen + 1
        if pid == me:
            return True
    return False


def _tesseracts() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # a page's OCR (``tesseract_command``), not ``tesseract --list-langs``
        if name == "tesseract" and b"--psm" in command and _ours(int(entry.name)):
            found.append(int(entry.name))
    return found


@contextmanager
def killing(times: int) -> Iterator[list[int]]:
    """SIGKILL the first ``times`` Tesseract processes this test starts; yields their pids."""
    killed: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and len(killed) < times:
            for pid in _tesseracts():
                if pid not in killed and len(killed) < times:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        done.set()
        watcher.join(5)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().upper()


SETTINGS = TextSettings(ocr_jobs=1, ocr_slots=0)


def test_a_page_whose_tesseract_is_killed_once_is_read_again_smaller() -> None:
    with killing(1) as killed:
        read = extract_text(scan_png(200), "scan.png", settings=SETTINGS)
    assert len(killed) == 1
    assert "CONG HOA XA HOI CHU NGHIA VIET NAM" in _folded(read.text), read.text[:300]
    [note] = [w for w in read.warnings if w.code == "OCR_RETRIED_SMALLER"]
    # the PNG carries no resolution: read as 300 dpi, again at 0.7 of it
    assert note.page == 1 and "(210 dpi)" in note.message and "thiếu bộ nhớ" in note.message, note
    assert unicodedata.is_normalized("NFC", note.message)


def test_a_page_killed_twice_ends_with_ocr_killed() -> None:
    with killing(10) as killed, pytest.raises(OcrFailed) as refused:
        extract_text(scan_png(200), "scan.png", settings=SETTINGS)
    assert len(killed) == 2, killed  # the page and its one retry, no more
    err = refused.value
    assert err.code == "OCR_KILLED", err  # an OcrFailed of its own, ``OcrKilled``
    assert err.details["page"] == 1 and (err.details["dpi"], err.details["retried_dpi"]) == (300, 210), (
        err.details
    )
    assert "trang 1" in err.message and "SIGKILL" in err.message and "Bản gốc vẫn được lưu" in err.message
    assert unicodedata.is_normalized("NFC", err.message)


def test_a_document_whose_ocr_is_killed_twice_fails_with_its_code_not_an_empty_text(
    pipeline: Pipeline,
) -> None:
    with killing(10) as killed:
        status = pipeline.ingest(scan_png(200), "cong-dien.png")
    assert len(killed) == 2, killed
    assert status.state is JobState.FAILED, status
    assert status.reason_code == "OCR_KILLED", status
    assert "trang 1" in (status.reason or ""), status
