"""What a bounded pdfium worker (:mod:`ingest.text.box`) or a verification worker says back is
data the caller checks, never code it runs: the worker has parsed hostile bytes, and a pdfium
exploit there must not become code execution in the web or Celery process through its reply."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest
import textdocs

from ingest.signatures._pool import Limits, VerifierPool
from ingest.text import box
from ingest.text.errors import FileTooComplex
from ingest.text.extractor import extract_text
from ingest.text.pdf import read_text_layer
from ingest.text.settings import TextSettings
from kho.errors import NotFound
from web.pages.document_view import render_page

FAKE_WORKER = textwrap.dedent('''
    """A worker taken over by its document: it answers what the attacker likes."""
    import json, os, pickle, struct, sys

    mode, marker = sys.argv[1], sys.argv[2]

    class Run:
        def __reduce__(self):
            return (os.mkdir, (marker,))

    out = os.fdopen(os.dup(1), "wb", buffering=0)
    source = sys.stdin.buffer
    while True:
        out.write(b"\\x06")
        head = source.read(16)
        if len(head) < 16:
            break
        meta_size, data_size = struct.unpack(">QQ", head)
        source.read(meta_size)
        source.read(data_size)
        if mode == "pickle":
            blob = pickle.dumps(("ok", Run()))
        elif mode == "huge":
            out.write(struct.pack(">Q", 1 << 40))
            out.write(b"\\0" * 65536)
            continue
        else:  # a JSON head naming a class the caller must not build
            head = json.dumps({"status": "error", "class": "Popen", "code": "X",
                               "message": "m", "details": {}}).encode()
            blob = struct.pack(">I", len(head)) + head
        out.write(struct.pack(">Q", len(blob)) + blob)
''')

SETTINGS = TextSettings(ocr_enabled=False)


def _fake_pool(tmp_path: Path, mode: str) -> tuple[VerifierPool, Path]:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER, encoding="utf-8")
    marker = tmp_path / "code-ran"
    fake = VerifierPool(
        1, Limits(timeout=30, memory_mb=512, ready_timeout=5),
        command=(sys.executable, str(script), mode, str(marker)), name="fake",
    )
    return fake, marker


@pytest.mark.parametrize("mode", ["pickle", "json-class"])
def test_a_text_worker_reply_that_would_run_code_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    fake, marker = _fake_pool(tmp_path, mode)
    monkeypatch.setitem(box._pools, ("text", SETTINGS.text_layer_memory_mb), fake)
    outcome: BaseException | None = None
    try:
        extract_text(textdocs.pdf_with_text(), "a.pdf", settings=SETTINGS)
    except Exception as exc:
        outcome = exc
    finally:
        fake.close()
    assert not marker.exists(), "the worker's reply ran code in the caller"
    assert isinstance(outcome, FileTooComplex), repr(outcome)


@pytest.mark.parametrize("mode", ["pickle", "json-class"])
def test_a_view_worker_reply_that_would_run_code_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    fake, marker = _fake_pool(tmp_path, mode)
    monkeypatch.setitem(box._pools, ("view", TextSettings().view_memory_mb), fake)
    outcome: BaseException | object = None
    try:
        outcome = render_page(textdocs.pdf_with_text(), 1)
    except Exception as exc:
        outcome = exc
    finally:
        fake.close()
    assert not marker.exists(), "the worker's reply ran code in the caller"
    assert isinstance(outcome, NotFound) and outcome.code == "PAGE_NOT_RENDERED", repr(outcome)


def test_a_verification_worker_reply_that_would_run_code_is_refused(tmp_path: Path) -> None:
    fake, marker = _fake_pool(tmp_path, "pickle")
    try:
        status, _ = fake.call(b"%PDF-1.7", ((), "test", False, None, None), 30)
    finally:
        fake.close()
    assert not marker.exists(), "the worker's reply ran code in the caller"
    assert status == "crash"


def test_a_reply_larger_than_its_kind_allows_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that announces a reply of a terabyte: the caller refuses it at the length, at
    once, rather than taking in what the worker sends until its deadline (then, a second
    worker's): the web or Celery process never buffers what a hostile worker chooses."""
    fake, _ = _fake_pool(tmp_path, "huge")  # ready_timeout 5 s
    monkeypatch.setitem(box._pools, ("text", SETTINGS.text_layer_memory_mb), fake)
    began = time.monotonic()
    try:
        with pytest.raises(FileTooComplex):
            extract_text(textdocs.pdf_with_text(), "a.pdf", settings=SETTINGS)
    finally:
        fake.close()
    assert time.monotonic() - began < 4


def test_errors_and_pages_come_back_as_they_were_raised_and_read() -> None:
    """The checked format keeps what the callers use: the error's class, code, message and
    details; every page's number, text and flags."""
    with pytest.raises(NotFound) as missing:
        render_page(textdocs.pdf_with_text(), 9)
    assert missing.value.code == "PAGE_NOT_FOUND" and missing.value.details == {"page": 9}
    data = textdocs.pdf_with_text(pages=3)
    assert box.run("text", data, (SETTINGS,), timeout=60, memory_mb=SETTINGS.text_layer_memory_mb) \
        == read_text_layer(data, SETTINGS)


def test_any_page_text_crosses_the_reply_a_lone_surrogate_included() -> None:
    """A text layer may hold what UTF-8 cannot encode (a lone surrogate from a broken
    ToUnicode map): the reply carries it as it is rather than killing the worker, which would
    refuse a good PDF FILE_TOO_COMPLEX."""
    import io
    import struct

    from ingest.text.pdf import _PageInfo

    pages = [_PageInfo(1, "Việt \ud800 Nam", False, False), _PageInfo(2, "", True, True)]
    stream = io.BytesIO()
    box._send_reply(stream, ({"status": "ok", "pages": [[p.number, p.text, p.needs_ocr, p.empty]
                                                        for p in pages]}, b""))
    blob = stream.getvalue()
    assert struct.unpack(">Q", blob[:8])[0] == len(blob) - 8
    assert box.decode_reply("text", blob[8:]) == ("ok", pages)
