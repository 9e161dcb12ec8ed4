"""One contract for every extraction backend: the native one always, Tika when
``KHO_TEST_TIKA_URL`` names a running Tika server."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator

import pytest
import textdocs as docs

from ingest.text import (
    Extractor,
    FileCorrupt,
    NativeExtractor,
    TextSettings,
    TextSource,
    TikaExtractor,
    extract_text,
)

TIKA_URL = os.environ.get("KHO_TEST_TIKA_URL")


def _native() -> Extractor:
    return NativeExtractor(TextSettings())


def _tika() -> Extractor:
    assert TIKA_URL
    return TikaExtractor(TIKA_URL, TextSettings(tika_url=TIKA_URL))


BACKENDS = [
    pytest.param((_native, TextSource.NATIVE), id="native"),
    pytest.param(
        (_tika, TextSource.TIKA), id="tika",
        marks=[pytest.mark.tika, pytest.mark.skipif(
            not TIKA_URL, reason="KHO_TEST_TIKA_URL is not set (no Tika server to test against)"
        )],
    ),
]

OFFICE_DOCUMENTS: list[tuple[str, Callable[[], bytes]]] = [
    ("quyet-dinh.docx", docs.docx_bytes),
    ("so-dang-ky.xlsx", docs.xlsx_bytes),
    ("quyet-dinh.odt", docs.odt_bytes),
    ("danh-muc.ods", docs.ods_bytes),
    ("quyet-dinh.rtf", docs.rtf_bytes),
    ("danh-sach.csv", docs.csv_bytes),
    ("ghi-chu.txt", docs.txt_bytes),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[Extractor, TextSource]:
    factory, source = request.param
    return factory(), source


@pytest.mark.parametrize(
    ("filename", "build"), OFFICE_DOCUMENTS, ids=[n for n, _ in OFFICE_DOCUMENTS]
)
def test_office_text_comes_back_exact_and_nfc(
    backend: tuple[Extractor, TextSource], filename: str, build: Callable[[], bytes]
) -> None:
    extractor, source = backend
    result = extract_text(build(), filename, settings=TextSettings(), extractor=extractor)
    for line in docs.LINES:
        assert line in result.text, f"{line!r} missing from {filename}"
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.sources == {source}
    assert result.extractor == extractor.name
    assert result.language == "vi"


def test_pdf_text_layer_is_exact_on_every_backend(
    backend: tuple[Extractor, TextSource],
) -> None:
    extractor, _ = backend
    if docs.font_path() is None:
        pytest.skip("no TrueType font with Vietnamese glyphs to build the PDF")
    result = extract_text(docs.pdf_with_text(pages=2), "van-ban.pdf", settings=TextSettings(),
                          extractor=extractor)
    assert result.page_count == 2
    assert [p.source for p in result.parts] == [TextSource.TEXT_LAYER] * 2
    assert result.parts[1].text.splitlines() == list(docs.LINES)
    assert result.ocr_language is None


def test_corrupt_docx_is_reported_corrupt_on_every_backend(
    backend: tuple[Extractor, TextSource],
) -> None:
    extractor, _ = backend
    data = docs.docx_bytes()
    damaged = data[:200] + b"\x00" * 400 + data[600:]
    with pytest.raises(FileCorrupt) as info:
        extract_text(damaged, "hong.docx", settings=TextSettings(), extractor=extractor)
    assert info.value.code == "FILE_CORRUPT"


def test_scanned_pdf_is_handed_to_ocr_on_every_backend(
    backend: tuple[Extractor, TextSource],
) -> None:
    import io

    import pypdf

    scan = docs.CORPUS_PDF / "vn-gov__194-ttg.signed.pdf"  # Công điện 194/CĐ-TTg, image-only
    if not scan.exists():
        pytest.fail(f"corpus not found at {docs.CORPUS_PDF}")
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(scan).pages[1])
    out = io.BytesIO()
    writer.write(out)
    extractor, _ = backend
    result = extract_text(out.getvalue(), "quet.pdf", settings=TextSettings(), extractor=extractor)
    assert [p.source for p in result.parts] == [TextSource.OCR]
    assert "Bộ Tài chính" in result.text
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.extractor == extractor.name


def test_tika_that_does_not_answer_in_time_is_tika_unavailable() -> None:
    """A server that accepts the connection and never answers (a stuck Tika): the timeout is
    TIKA_UNAVAILABLE, so the pipeline retries later. (A 1 ms timeout against the real server is
    not deterministic: on loopback it often answers in time.)"""
    import socket

    from ingest.text import TikaUnavailable

    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(1)
        url = f"http://127.0.0.1:{stuck.getsockname()[1]}"
        extractor = TikaExtractor(url, TextSettings(tika_url=url, tika_timeout=0.5))
        with pytest.raises(TikaUnavailable) as info:
            extract_text(docs.docx_bytes(), "cham.docx", settings=TextSettings(), extractor=extractor)
    assert info.value.code == "TIKA_UNAVAILABLE"


def test_text_beyond_the_limit_is_refused_on_every_backend(
    backend: tuple[Extractor, TextSource],
) -> None:
    """A file whose text runs past ``max_text_chars`` (a 12.8 MB text file, or a few MB of
    compressed XML in an Office file) is refused as FILE_TEXT_TOO_LARGE with a Vietnamese
    message. Before, Tika's whole answer (10.4 M characters here, up to gigabytes for an
    Office file the zip guard lets through) was read into memory and kept, and the native
    parsers kept it too."""
    from ingest.text import FileTextTooLarge

    extractor, _ = backend
    settings = TextSettings(tika_url=TIKA_URL, max_text_chars=100_000)
    if isinstance(extractor, TikaExtractor):
        extractor = TikaExtractor(TIKA_URL or "", settings)
    else:
        extractor = NativeExtractor(settings)
    data = ("Báo cáo công tác văn thư. " * 400_000).encode()
    with pytest.raises(FileTextTooLarge) as info:
        extract_text(data, "dai.txt", settings=settings, extractor=extractor)
    assert info.value.code == "FILE_TEXT_TOO_LARGE"
    assert "100.000 ký tự" in info.value.message
    small = extract_text(docs.txt_bytes(), "ngan.txt", settings=settings, extractor=extractor)
    assert docs.LINES[0] in small.text


def _read_request(conn: socket.socket) -> None:
    """The whole request, head and body (Content-Length): a server that answers and closes with
    part of it unread makes the kernel reset the connection instead of closing it, which the
    client rightly reads as a cut answer (CI saw it once under load, when the upload came in
    more than one segment)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    remaining = int(found.group(1)) - len(body) if found else 0
    while remaining > 0:
        chunk = conn.recv(min(remaining, 1 << 16))
        if not chunk:
            return
        remaining -= len(chunk)


@contextlib.contextmanager
def _one_answer_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """The URL of a hostile Tika on loopback: it takes one request and gives ``answer`` the
    connection (a peer that hangs up ends the answer); the thread is joined on leaving."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                _read_request(conn)
                with contextlib.suppress(OSError):
                    answer(conn)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.getsockname()[1]}"
        finally:
            thread.join(10)


def test_tika_answer_larger_than_its_bound_is_refused_while_read() -> None:
    """A Tika server that ignores the write limit and sends more than the bound (a server of
    another version, or a proxy in front of it): the client stops reading at the bound."""
    from ingest.text import FileTextTooLarge

    sent: list[int] = []

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 200000000\r\n\r\n")
        chunk = b'[{"X-TIKA:content":"' + b"a" * (1 << 20)
        for _ in range(190):
            conn.sendall(chunk)
            sent.append(len(chunk))
            chunk = b"a" * (1 << 20)

    with _one_answer_server(answer) as url:
        settings = TextSettings(tika_url=url, max_text_chars=100_000)
        with pytest.raises(FileTextTooLarge):
            extract_text(docs.docx_bytes(), "to.docx", settings=settings,
                         extractor=TikaExtractor(url, settings))
    assert sum(sent) < 50 * (1 << 20)  # stopped long before the 200 MB it announced


def test_tika_answer_that_trickles_is_cut_at_the_deadline() -> None:
    """A Tika server (or a proxy in front of it) that announces a body with a Content-Length
    and then sends one byte every 0.3 s, each read well within the read timeout. Before: the
    client waited for a whole MiB per read and only looked at its deadline after it, so the
    worker was held for as long as the server kept trickling (here 40 s, without end in
    general); now it gives up at the deadline as Tika unavailable (to be retried)."""
    from ingest.text import TikaUnavailable

    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 10000000\r\n\r\n[")
        for _ in range(130):
            if stop.wait(0.3):
                return
            conn.sendall(b" ")

    with _one_answer_server(answer) as url:
        settings = TextSettings(tika_url=url, tika_timeout=2.0)
        started = time.monotonic()
        try:
            with pytest.raises(TikaUnavailable):
                extract_text(docs.docx_bytes(), "to.docx", settings=settings,
                             extractor=TikaExtractor(url, settings))
            elapsed = time.monotonic() - started
        finally:
            stop.set()
    assert elapsed < 6, elapsed  # the 2 s deadline (plus one read), not the server's 40 s


_RMETA = '[{"Content-Type":"text/plain","X-TIKA:content":"Xin chào, Kho."}]'.encode()
"""A whole /rmeta answer (the container, its text)."""


def _answered(head: bytes, body: bytes) -> Callable[[socket.socket], None]:
    """An answer that sends ``head`` (status line and headers) and ``body``, then closes."""

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head + b"\r\n" + body)

    return answer


@pytest.mark.parametrize(
    ("head", "body"),
    [
        pytest.param(b"", _RMETA[:30], id="no-length"),
        pytest.param(b"", b"", id="no-length-nothing"),
        pytest.param(b"Content-Length: %d\r\n" % len(_RMETA), _RMETA[:30], id="content-length"),
        pytest.param(
            b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s" % (len(_RMETA), _RMETA[:30]), id="chunked"
        ),
    ],
)
def test_tika_answer_cut_mid_body_is_tika_unavailable(head: bytes, body: bytes) -> None:
    """The connection to Tika cut in the middle of its answer, however the answer was framed,
    is a transport failure to retry (``TIKA_UNAVAILABLE``), not a permanent extraction failure.
    Before: an answer with neither Content-Length nor chunks (the connection's end ends the
    body) cut short was read as a whole body that is not JSON: ``TEXT_EXTRACTION_FAILED``."""
    from ingest.text import TikaUnavailable

    with _one_answer_server(_answered(head, body)) as url:
        settings = TextSettings(tika_url=url)
        with pytest.raises(TikaUnavailable) as info:
            extract_text(
                docs.docx_bytes(), "cat.docx", settings=settings, extractor=TikaExtractor(url, settings)
            )
    assert info.value.code == "TIKA_UNAVAILABLE"


def test_tika_unavailable_says_what_happened_and_promises_no_retry() -> None:
    """The error of an answer cut short names the cut, not a server that does not answer, and
    does not say the document will be processed again: whether it is, is the pipeline's retry
    policy (its last attempt ends the job in ``lỗi`` with this message)."""
    from ingest.text import TikaUnavailable

    with _one_answer_server(_answered(b"", _RMETA[:30])) as url:
        settings = TextSettings(tika_url=url)
        with pytest.raises(TikaUnavailable) as info:
            extract_text(
                docs.docx_bytes(), "cat.docx", settings=settings, extractor=TikaExtractor(url, settings)
            )
    message = str(info.value)
    assert "không trọn vẹn" in message, message
    assert "không phản hồi" not in message and "xử lý lại" not in message, message


def test_tika_answer_without_a_length_that_ends_with_a_clean_close_is_whole() -> None:
    """HTTP/1.0's way (no Content-Length, no chunks, the server closes when done) is a
    complete answer: its text is kept, not retried."""
    with _one_answer_server(_answered(b"Connection: close\r\n", _RMETA)) as url:
        settings = TextSettings(tika_url=url)
        result = extract_text(
            docs.docx_bytes(), "du.docx", settings=settings, extractor=TikaExtractor(url, settings)
        )
    assert "Xin chào, Kho." in result.text


def test_tika_answer_framed_whole_that_is_not_json_stays_a_failure() -> None:
    """A body whose end the server stated (Content-Length) and that is not JSON was sent so:
    retrying would get the same; it stays ``TEXT_EXTRACTION_FAILED``."""
    from ingest.text.errors import ExtractionFailed

    junk = b"<html>proxy error</html>"
    with _one_answer_server(_answered(b"Content-Length: %d\r\n" % len(junk), junk)) as url:
        settings = TextSettings(tika_url=url)
        with pytest.raises(ExtractionFailed) as info:
            extract_text(
                docs.docx_bytes(), "sai.docx", settings=settings, extractor=TikaExtractor(url, settings)
            )
    assert info.value.code == "TEXT_EXTRACTION_FAILED"
