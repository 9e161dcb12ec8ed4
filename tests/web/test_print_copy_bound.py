"""The print copy (pypdf) is made in the page images' bounded worker, not the web process, and
refused past its bounds with PRINT_TOO_COMPLEX: 2,000 blank pages (a 204 KB original) took
11.5 s and 350 MB of the web process and made a 45 MB copy; the 100,000 pages of a 10 MB
original (stored: the text step refuses it after the original is kept) would take minutes and
gigabytes of a web worker."""

from __future__ import annotations

import io
import resource
import time
import unicodedata
import zlib

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from pdf_objects import pdf_from_objects

from ingest.text.settings import TextSettings
from kho.errors import KhoError
from web.context import Kho
from web.pages.document_view import stamp_pdf

MARK = "In bởi Nguyễn Văn A lúc 05/12/2026 10:00"


def blank_pages(count: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(count))
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * count,
    ])


def one_long_stream(megabytes: int) -> bytes:
    line = b"BT /F1 12 Tf 72 720 Td (Hello world) Tj ET\n"
    content = zlib.compress(line * (megabytes * 1024 * 1024 // len(line)), 9)
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


def test_a_print_copy_of_too_many_pages_is_refused_outside_the_web_process(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    pdf = blank_pages(6000)  # over print_max_pages (5000), 616 KB
    record = kho.repo.create_document("den", incoming(), pdf, "many.pdf", people.actor("van_thu"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    printed = client.post(f"/api/records/{record.record_id}/print", headers=people.headers("van_thu"))
    seconds = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert printed.status_code == 422, (printed.status_code, seconds)
    error = printed.json["error"]
    assert error["code"] == "PRINT_TOO_COMPLEX", error
    assert "6000 trang" in error["message"] and "tải bản gốc" in error["message"], error
    assert unicodedata.is_normalized("NFC", error["message"])
    assert seconds < 30, seconds
    assert grown_mb < 100, grown_mb
    original = client.get(f"/api/records/{record.record_id}/content", headers=people.headers("van_thu"))
    assert original.status_code == 200 and original.data == pdf  # the original is kept whole


@pytest.mark.parametrize("case", ["time", "size"])
def test_a_print_copy_past_its_time_or_size_bound_is_refused(case: str) -> None:
    if case == "time":
        pdf, limits = blank_pages(3000), TextSettings(print_timeout=1.0)
    else:
        pdf, limits = one_long_stream(40), TextSettings(print_max_bytes=16 << 20)
    started = time.monotonic()
    with pytest.raises(KhoError) as refused:
        stamp_pdf(pdf, MARK, settings=limits)
    assert refused.value.code == "PRINT_TOO_COMPLEX"
    assert ("thời gian" if case == "time" else "dung lượng") in refused.value.message
    assert time.monotonic() - started < 20


def test_a_print_copy_within_the_bounds_is_made_as_before() -> None:
    from pypdf import PdfReader

    copy = stamp_pdf(blank_pages(3), MARK)
    pages = PdfReader(io.BytesIO(copy)).pages
    assert len(pages) == 3
    assert all(MARK in page.extract_text() for page in pages)
