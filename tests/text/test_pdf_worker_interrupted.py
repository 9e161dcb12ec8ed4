"""A pool shared by threads never hands out a worker left in the middle of an exchange."""

from __future__ import annotations

import signal

import pytest
import textdocs
from pdf_objects import nested_forms_pdf

from ingest.text import box
from ingest.text.box import BoxLimit
from ingest.text.pdf import read_text_layer
from ingest.text.settings import TextSettings

SETTINGS = TextSettings(ocr_enabled=False)


class _Interrupted(Exception):
    pass


def test_a_call_interrupted_in_the_caller_does_not_leave_its_worker_to_the_next_document() -> None:
    """Celery's soft time limit, or Ctrl-C, raises in the caller while the worker is reading:
    that worker is mid-exchange and must not serve the next document (which would read the
    late reply as its own and be refused FILE_TOO_COMPLEX for nothing)."""
    mb = 2047  # a pool of this test's own
    good = textdocs.pdf_with_text(pages=2)
    expected = read_text_layer(good, SETTINGS)
    assert box.run("text", good, (SETTINGS,), timeout=60, memory_mb=mb) == expected  # started

    def interrupt(signum: int, frame: object) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(_Interrupted):
            box.run("text", nested_forms_pdf(12), (SETTINGS,), timeout=60, memory_mb=mb)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    try:
        assert box.run("text", good, (SETTINGS,), timeout=60, memory_mb=mb) == expected
    except BoxLimit as exc:
        pytest.fail(f"the next document got the interrupted one's worker: {exc}")
