"""A hybrid-reference update whose table and /XRefStm disagree on a signed page (rv25).

A hybrid-reference file (ISO 32000-2 7.5.8.4) gives each revision a classic cross-reference
table and, in the trailer's ``/XRefStm``, a cross-reference stream for the objects kept in
object streams. An update after signing can list the signed page in both: in the table as
the page dictionary written again unchanged, in the stream as a copy inside an object stream
whose ``/Contents`` adds a forged text. pyHanko and pdfium go by the table and see the signed
page (so before rv25 Kho said "Hợp lệ"); a reader that takes the stream's entry shows the
forgery. The strict audit of the revisions after signing now reports the double listing
(INDETERMINATE: the document can be read two ways), as it does for an object listed twice in
one section.

Built from a real corpus PDF (a certified VGCA G2 document that chains to the corpus trust
store), raw bytes appended; fast and stock readers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import Indication, PdfVerification, TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf

READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
SIGNED = "vn-gov__143-qd.signed.pdf"  # one trusted signature, TOTAL-PASSED; page 1 is obj 4
FORGED = b"1 g 100 300 400 300 re f 0 g BT /F1 30 Tf 120 450 Td (GIA MAO) Tj ET"


def _last_definition(data: bytes, number: int) -> bytes:
    found = list(re.finditer(rb"(?<![0-9])%d 0 obj(.*?)endobj" % number, data, re.S))
    return found[-1].group(1).strip()


def _hybrid_update(data: bytes, table_page: bytes | None, stream_page: bytes) -> bytes:
    """One revision appended to ``data``: a forged content stream (obj 50) and a font (obj 60)
    in the table, page 1 (obj 4) as ``table_page`` in the table (left out when ``None``) and
    as ``stream_page`` in an object stream (obj 61) its ``/XRefStm`` (obj 62) lists."""
    trailer = data[data.rfind(b"trailer") :]
    keys = b" ".join(
        re.search(pattern, trailer).group(0)  # type: ignore[union-attr]
        for pattern in (rb"/Root \d+ \d+ R", rb"/Info \d+ \d+ R", rb"/ID ?\[[^\]]*\]")
    )
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    out = bytearray(data)
    offsets: dict[int, int] = {}

    def put(number: int, body: bytes) -> None:
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    put(50, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(FORGED), FORGED))
    put(60, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if table_page is not None:
        put(4, table_page)
    members = b"4 0 " + stream_page + b"\n"
    put(
        61,
        b"<< /Type /ObjStm /N 1 /First 4 /Length %d >>\nstream\n%s\nendstream" % (len(members), members),
    )
    xref_stream = len(out)
    rows = {4: (2, 61, 0), 61: (1, offsets[61], 0), 62: (1, xref_stream, 0)}
    packed = b"".join(
        bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big") for kind, a, b in rows.values()
    )
    put(
        62,
        b"<< /Type /XRef /Size 63 /W [1 4 2] /Index [4 1 61 2] %s /Prev %d /Length %d >>\n"
        b"stream\n%s\nendstream" % (keys, prev, len(packed), packed),
    )
    table = len(out)
    listed = sorted(n for n in offsets if n in (4, 50, 60))
    out.extend(b"xref\n")
    for number in listed:
        out.extend(b"%d 1\n%010d 00000 n \n" % (number, offsets[number]))
    out.extend(
        b"trailer\n<< /Size 63 %s /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (keys, prev, xref_stream, table)
    )
    return bytes(out)


@pytest.fixture(scope="module")
def signed(corpus_pdf_dir: Path) -> bytes:
    return (corpus_pdf_dir / SIGNED).read_bytes()


def _pages(signed: bytes) -> tuple[bytes, bytes]:
    """Page 1 as signed, and with the forged stream appended to its /Contents."""
    page = _last_definition(signed, 4)
    forged = page.replace(b"/Contents 5 0 R", b"/Contents [5 0 R 50 0 R]").replace(
        b"/Resources<<", b"/Resources<< /Font << /F1 60 0 R >>"
    )
    assert forged != page
    return page, forged


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


@pytest.mark.parametrize("reader", READERS)
def test_the_corpus_document_passes_as_published(
    signed: bytes, corpus_trust: TrustStore, reader: str
) -> None:
    assert _verify(signed, corpus_trust, reader).verdict.indication is Indication.TOTAL_PASSED


@pytest.mark.parametrize("reader", READERS)
def test_a_signed_page_listed_by_both_the_table_and_its_xrefstm_does_not_pass(
    signed: bytes, corpus_trust: TrustStore, reader: str
) -> None:
    page, forged = _pages(signed)
    data = _hybrid_update(signed, page, forged)

    result = _verify(data, corpus_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "/XRefStm" in result.verdict.explanation
    assert "cùng khai báo đối tượng 4" in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_the_forged_page_in_the_table_still_fails_on_what_the_viewer_shows(
    signed: bytes, corpus_trust: TrustStore, reader: str
) -> None:
    page, forged = _pages(signed)

    result = _verify(_hybrid_update(signed, forged, page), corpus_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert "khác với phiên bản đã ký" in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_a_forged_page_only_in_the_xrefstm_fails(
    signed: bytes, corpus_trust: TrustStore, reader: str
) -> None:
    """The ordinary hybrid shape (the page only in the stream): every reader sees it."""
    _, forged = _pages(signed)

    result = _verify(_hybrid_update(signed, None, forged), corpus_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert not any("/XRefStm" in finding for finding in result.document_findings)
