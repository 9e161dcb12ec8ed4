"""The worker pool's own costs, cut without changing a verdict (issue 9, round 6c):

- a request carries the document's bytes as they are (no pickled copy) through a wider pipe,
  and arrives byte for byte, or the worker sees a closed pipe;
- a worker sends the result first and frees the document's objects and re-enables the
  collector afterwards; the result is the same as with the housekeeping done first, a later
  document in the same worker gets the same result as in a fresh forked child, and pdfium
  never renders while the reader's objects are still held (the memory limit sees the same
  peak as before).
"""

from __future__ import annotations

import gc
import os
import random
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signature_shapes import add_page_update, malformed_marker

from ingest.signatures import Indication, TrustStore, _fastpath, _pool, _viewer, verify_pdf
from ingest.signatures import verify as verify_module
from ingest.signatures._pool import ForkVerifier, Limits, VerifierPool
from ingest.signatures._reader import CachingPdfReader
from ingest.testpki import TestPKI, make_variant

# After the fixture document's signing and time-stamp (5 March 2026): validated before them, its
# time-stamp is one from the future, which proves nothing since rv49.
MOMENT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)


def _through_pipe(write: Any) -> tuple[Any, ...]:
    """What :func:`_pool._recv_request` reads from a pipe that ``write(stream)`` fills."""
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb") as reading, os.fdopen(write_fd, "wb") as writing:
        _pool._widen_pipe(writing)
        writer = threading.Thread(target=lambda: (write(writing), writing.close()))
        writer.start()
        try:
            return _pool._recv_request(reading)
        finally:
            writer.join()


def _send_request(stream: Any, data: bytes, rest: tuple[Any, ...]) -> None:
    """A request as ``_Worker.call`` sends it: its head, then the document's bytes."""
    stream.write(_pool._request_head(len(data), rest))
    stream.write(data)
    stream.flush()


def test_a_request_arrives_byte_for_byte() -> None:
    rng = random.Random(6)
    # every byte value, a pickle opcode stream and a length header inside the document
    data = bytes(range(256)) + b"\x80\x05." + bytes(rng.getrandbits(8) for _ in range(3 << 20))
    rest = (("anchor-1", b"\x00der"), "nguồn", True, MOMENT, None)
    received = _through_pipe(lambda stream: _send_request(stream, data, rest))
    assert received[0] == data
    assert received[1:] == rest
    empty = _through_pipe(lambda stream: _send_request(stream, b"", rest))
    assert empty == (b"", *rest)


def test_a_request_cut_short_is_a_closed_pipe() -> None:
    def truncated(stream: Any) -> None:
        _send_request(stream, b"%PDF-1.7 " * 1000, ("a",))
        stream.flush()

    def cut(stream: Any) -> None:
        import pickle
        import struct

        meta = pickle.dumps(("a",))
        stream.write(struct.pack(">QQ", len(meta), 9000) + meta + b"%PDF-1.7 " * 10)

    assert _through_pipe(truncated)[0] == b"%PDF-1.7 " * 1000
    with pytest.raises(EOFError):
        _through_pipe(cut)
    with pytest.raises(EOFError):
        _through_pipe(lambda stream: stream.write(b"\x00" * 7))


def test_deferred_housekeeping_gives_the_same_result(
    signed: bytes, pki_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the reader alone (an earlier test may have turned the whole fast path on here)
    monkeypatch.setattr(_fastpath, "_parts", frozenset({"reader"}))
    before = verify_module._verify_pdf(signed, pki_trust, False, MOMENT, CachingPdfReader)
    steps: list[Any] = []
    try:
        deferred = verify_module._verify_pdf(
            signed, pki_trust, False, MOMENT, CachingPdfReader, cleanup=steps
        )
        assert deferred.verdict.indication is Indication.TOTAL_PASSED
        assert deferred.to_dict() == before.to_dict()
        # the reader was handed back unreleased, and is released by the step
        assert len(steps) == 1
        reader = steps[0].__self__
        assert isinstance(reader, CachingPdfReader) and reader.__dict__
        _pool._housekeeping(steps)
        assert reader.__dict__ == {} and steps == []
    finally:
        _pool._housekeeping(steps)


def test_the_collector_is_re_enabled_by_the_last_step(
    signed: bytes, pki_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fastpath, "_parts", frozenset({"reader", "gc"}))
    gc.enable()
    steps: list[Any] = []
    try:
        result = verify_module.verify_in_process(signed, pki_trust, now=MOMENT, cleanup=steps)
        assert result.verdict.indication is Indication.TOTAL_PASSED
        assert not gc.isenabled()  # still paused while the result is sent
        assert [getattr(step, "__name__", "") for step in steps] == ["release", "enable"]
        _pool._housekeeping(steps)
        assert gc.isenabled()
        # without a cleanup list the pause ends with the verification, as before
        verify_module.verify_in_process(signed, pki_trust, now=MOMENT)
        assert gc.isenabled()
    finally:
        _pool._housekeeping(steps)
        gc.enable()


def test_pdfium_never_renders_while_the_reader_is_held(
    signed: bytes, pki_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, pages = add_page_update(signed)
    mutant = malformed_marker(data, pages)  # read only leniently: the viewer check runs
    steps: list[Any] = []
    seen: list[int] = []
    render = _viewer.page_view

    def page_view(pdf: bytes, *args: Any, **kwargs: Any) -> Any:
        seen.append(len(steps))
        return render(pdf, *args, **kwargs)

    monkeypatch.setattr(_viewer, "page_view", page_view)
    try:
        result = verify_module._verify_pdf(
            mutant, pki_trust, False, MOMENT, CachingPdfReader, cleanup=steps
        )
        assert result.verdict.indication is Indication.TOTAL_FAILED
        assert seen and set(seen) == {0}  # every step ran before the first rendering
        assert steps == []
    finally:
        _pool._housekeeping(steps)


def test_the_stock_reader_has_nothing_to_defer(
    signed: bytes, pki_trust: TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fastpath, "_parts", frozenset())  # the fast path off
    steps: list[Any] = []
    try:
        result = verify_module._verify_pdf(
            signed, pki_trust, False, MOMENT, PdfFileReader, cleanup=steps
        )
        assert result.verdict.indication is Indication.TOTAL_PASSED
        assert steps == []
    finally:
        _pool._housekeeping(steps)


def test_a_worker_after_its_housekeeping_answers_as_a_fresh_child(
    corpus_pdf_dir: Path, corpus_trust: TrustStore
) -> None:
    """Two real multi-signature documents (1 and 3.6 MB) in turn through one worker, each
    after the previous one's deferred housekeeping, equal a forked child's result (which
    never runs it)."""
    names = ["vn-gov__19-bkhcn.pdf", "vn-quangngai__01_TTr.signed_20250513_144607.pdf"]
    documents = [(corpus_pdf_dir / name).read_bytes() for name in names]
    pool = VerifierPool(1, Limits(timeout=300, memory_mb=2048))
    try:
        in_worker = [verify_pdf(d, corpus_trust, now=MOMENT, pool=pool).to_dict() for d in documents * 2]
    finally:
        pool.close()
    child = ForkVerifier(Limits(timeout=300, memory_mb=2048))
    fresh = [verify_pdf(d, corpus_trust, now=MOMENT, pool=child).to_dict() for d in documents]
    assert in_worker == fresh * 2
    assert all(r["verdict"]["indication"] != "NO_SIGNATURE" for r in fresh)


def test_the_cpu_reading_waits_for_the_housekeeping() -> None:
    """``idle_worker_cpu`` reads a worker once it waits for its next request: a running
    process is waited for (up to the bound), a sleeping one is read at once."""
    import subprocess
    import sys
    import time

    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        time.sleep(0.3)
        started = time.monotonic()
        _pool._wait_until_waiting(sleeper.pid, 5.0)
        assert time.monotonic() - started < 1.0
    finally:
        sleeper.communicate(b"")
    started = time.monotonic()
    _pool._wait_until_waiting(os.getpid(), 0.2)  # this process is running: waits for the bound
    assert time.monotonic() - started >= 0.2
