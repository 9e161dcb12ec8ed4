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
