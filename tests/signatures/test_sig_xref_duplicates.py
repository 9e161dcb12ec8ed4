"""A cross-reference section that lists one object number twice: an incremental saving attack
that readers resolve differently.

pyHanko (Kho's validator) and pdfium (Kho's viewer check) take the *last* entry of the
section; poppler (pdftotext), qpdf and pypdf the *first* (probed on this machine). So an
update whose xref lists the page's content stream first at a forged stream, then again at
the signed one, is "unchanged" for Kho (TOTAL-PASSED) while those readers show the forged
page. Placed before signing, the same
ambiguity lets the signer and the reader see two different documents under one signature."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from io import BytesIO

import pypdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest import testpki
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import Indication
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import TestPKI

NOW = datetime(2026, 12, 3, tzinfo=UTC)
FORGED = b"GIA MAO"
READERS = pytest.mark.parametrize(
    "reader", [PdfFileReader, CachingPdfReader], ids=["stock", "fast"]
)


def _ambiguous_update(data: bytes) -> bytes:
    """``data`` and an incremental update whose xref section lists the first page's content
    stream twice: first at a forged content stream (same object number), then at the current
    one. Signing later does not rewrite a content stream, so the ambiguity stays."""
    reader = PdfFileReader(BytesIO(data), strict=False)
    page = reader.root["/Pages"]["/Kids"][0]
    number = page.raw_get("/Contents").reference.idnum
    root = reader.trailer.raw_get("/Root").reference.idnum
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    current = [m.start() + 1 for m in re.finditer(rb"\n%d 0 obj" % number, data)][-1]
    body = bytearray(data if data.endswith(b"\n") else data + b"\n")
    content = b"BT /F1 24 Tf 72 700 Td (" + FORGED + b") Tj ET"
    forged_at = len(body)
    body += b"%d 0 obj\n<</Length %d>>stream\n%s\nendstream\nendobj\n" % (number, len(content), content)
    xref_at = len(body)
    body += b"xref\n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (
        number, forged_at, number, current
    )
    body += b"trailer\n<</Size %d /Root %d 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (
        int(reader.trailer["/Size"]), root, prev, xref_at
    )
    return bytes(body)


def _first_entry_reader_shows(data: bytes) -> str:
    return pypdf.PdfReader(BytesIO(data), strict=False).pages[0].extract_text()


@READERS
def test_an_update_listing_a_content_stream_twice_after_signing_does_not_pass(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """Was TOTAL-PASSED ("Tất cả 1 chữ ký số trong tài liệu hợp lệ") while pypdf, qpdf and
    poppler show the forged page."""
    signed = testpki.sign_as(testpki.document_for(pki.personal).data, pki, pki.personal,
                             at=testpki.FIXTURE_TIME)
    attacked = _ambiguous_update(signed)
    assert FORGED.decode() in _first_entry_reader_shows(attacked)

    result = _verify_pdf(attacked, pki_trust, False, NOW, reader)

    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert "khai báo đối tượng" in result.verdict.explanation
    assert "nhiều lần" in result.verdict.explanation


@READERS
def test_a_document_signed_with_a_content_stream_listed_twice_does_not_pass(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """The ambiguity prepared before signing (a shadow document): the signature covers both
    content streams, and which one a reader shows depends on the reader. Was TOTAL-PASSED."""
    ambiguous = _ambiguous_update(testpki.document_for(pki.personal).data)
    signed = testpki.sign_as(ambiguous, pki, pki.personal, at=testpki.FIXTURE_TIME)
    assert FORGED.decode() in _first_entry_reader_shows(signed)

    result = _verify_pdf(signed, pki_trust, False, NOW, reader)

    assert result.verdict.indication is not Indication.TOTAL_PASSED, result.verdict
    assert any("nhiều lần" in finding for finding in result.document_findings)


@READERS
def test_a_signed_document_with_ordinary_updates_still_passes(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """Two signatures, each an incremental update with its own xref: nothing listed twice."""
    signed = testpki.make_variant(testpki.Variant.VALID, pki=pki)

    result = _verify_pdf(signed, pki_trust, False, NOW, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED, result.verdict
    assert not any("nhiều lần" in finding for finding in result.document_findings)


def _object_stream_update(data: bytes) -> bytes:
    """``data`` and an update (cross-reference stream) that redefines the first page in an
    object stream whose header lists the page's number twice: slot 0 the page as signed
    (where the cross-reference entry points), slot 1 the page with a forged content stream.
    A reader that goes by the header's last entry for a number reads the forged page."""
    reader = PdfFileReader(BytesIO(data), strict=False)
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(0).reference
    current = [m.start() + 1 for m in re.finditer(rb"\n%d 0 obj" % page_ref.idnum, data)][-1]
    page = data[current:data.index(b"endobj", current)]
    page = page[page.index(b"obj") + 3:].strip()
    size = int(reader.trailer["/Size"])
    root = reader.trailer.raw_get("/Root").reference.idnum
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    content_num, stream_num, xref_num = size, size + 1, size + 2
    forged_page = re.sub(rb"/Contents\s+(\d+ \d+ R)", b"/Contents %d 0 R" % content_num, page)
    assert forged_page != page
    header = b"%d 0 %d %d\n" % (page_ref.idnum, page_ref.idnum, len(page) + 1)
    packed = zlib.compress(header + page + b"\n" + forged_page + b"\n")
    body = bytearray(data if data.endswith(b"\n") else data + b"\n")
    content = b"BT /F1 24 Tf 72 700 Td (" + FORGED + b") Tj ET"
    content_at = len(body)
    body += b"%d 0 obj\n<</Length %d>>stream\n%s\nendstream\nendobj\n" % (content_num, len(content), content)
    stream_at = len(body)
    body += b"%d 0 obj\n<</Type/ObjStm/N 2/First %d/Filter/FlateDecode/Length %d>>stream\n" % (
        stream_num, len(header), len(packed)
    ) + packed + b"\nendstream\nendobj\n"
    xref_at = len(body)
    rows = sorted([
        (page_ref.idnum, 2, stream_num, 0), (content_num, 1, content_at, 0),
        (stream_num, 1, stream_at, 0), (xref_num, 1, xref_at, 0),
    ])
    table = zlib.compress(b"".join(
        bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big") for _, kind, a, b in rows
    ))
    index = b" ".join(b"%d 1" % number for number, *_ in rows)
    body += b"%d 0 obj\n<</Type/XRef/Size %d/Root %d 0 R/Prev %d/W[1 4 2]/Index[%s]" % (
        xref_num, xref_num + 1, root, prev, index
    ) + b"/Filter/FlateDecode/Length %d>>stream\n" % len(table) + table
    body += b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(body)


@READERS
def test_an_object_stream_listing_the_page_twice_after_signing_does_not_pass(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    """pyHanko and pypdf take a number's first header entry, pdfium and poppler the slot the
    cross-reference entry names: both read the signed page here, so this was TOTAL-PASSED;
    a reader that takes the last header entry shows the forged page. The header itself is
    ambiguous, which no writer produces."""
    signed = testpki.sign_as(testpki.document_for(pki.personal).data, pki, pki.personal,
                             at=testpki.FIXTURE_TIME)
    attacked = _object_stream_update(signed)

    result = _verify_pdf(attacked, pki_trust, False, NOW, reader)

    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert "Luồng đối tượng (object stream)" in result.verdict.explanation
    assert "nhiều lần" in result.verdict.explanation
