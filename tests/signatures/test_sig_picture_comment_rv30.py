"""A seal or signature picture added as a comment after signing does not pass (rv30).

After a person signed (an approval signature), an update adds a comment in a blank place of
the page whose appearance is a red seal: a raster image (a scanned seal, as NĐ 30/2020 Phụ lục
I has the agency's signature show it), a rubber stamp (``/Stamp``), or a ring drawn with text.
PAdES permits comments after an approval signature, nothing signed is covered (rv18's check),
so before rv30 Kho said "Hợp lệ" with the note "chú thích". A văn thư sees the agency's seal on
a document the agency never signed: on a Vietnamese electronic document the seal is shown only
by the agency's digital signature. Such a comment is now doubt (INDETERMINATE, named);
ordinary review comments (a note, a box, strokes, free text) still pass, and a picture that a
later signature covers is that signer's to answer for.

Real pyHanko signing with the test PKI over a real unsigned corpus PDF; fast and stock readers.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest.signatures import Indication, TrustStore
from ingest.testpki import TestPKI
from tests.signatures.test_sig_picture_only_rv25 import (  # the same draft, band and signing
    READERS,
    RECT,
    UNSIGNED,
    _sign,
    _verify,
)

N = generic.NameObject
# a red ring with the agency's name, drawn as vectors
RING = (
    b"1 0 0 RG 3 w 65 5 m 120 5 125 60 125 65 c 125 120 65 125 65 125 c 10 125 5 65 5 65 c "
    b"5 10 10 5 65 5 c S BT 1 0 0 rg /Helv 8 Tf 25 60 Td (UY BAN NHAN DAN) Tj ET"
)
PICTURE = b"q 65 0 0 65 30 0 cm /Im0 Do Q"  # the seal image, 65 pt wide
NESTED = b"q /Fm0 Do Q"  # the seal image inside a form XObject
SIZE = 32


def _seal_pixels() -> bytes:
    """A 32×32 RGB picture of a red ring on white: a scanned seal."""
    pixels = bytearray()
    for y in range(SIZE):
        for x in range(SIZE):
            distance = ((x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2) ** 0.5
            pixels += b"\xd0\x10\x10" if SIZE / 2 - 4 < distance < SIZE / 2 - 1 else b"\xff\xff\xff"
    return bytes(pixels)


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(BytesIO(data), strict=False)


def _form(
    writer: IncrementalPdfFileWriter, drawing: bytes, xobjects: dict[str, generic.PdfObject]
) -> generic.IndirectObject:
    font = writer.add_object(
        generic.DictionaryObject(
            {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")}
        )
    )
    resources = generic.DictionaryObject({N("/Font"): generic.DictionaryObject({N("/Helv"): font})})
    if xobjects:
        resources[N("/XObject")] = generic.DictionaryObject({N(k): v for k, v in xobjects.items()})
    return writer.add_object(
        generic.StreamObject(
            {
                N("/Type"): N("/XObject"),
                N("/Subtype"): N("/Form"),
                N("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, 130, 65)]),
                N("/Resources"): resources,
            },
            stream_data=drawing,
        )
    )


def _with_comment(data: bytes, subtype: str, drawing: bytes) -> bytes:
    """``data`` and an update adding a ``subtype`` comment in the blank band of page 1 whose
    appearance is ``drawing`` (``/Im0``: the seal image; ``/Fm0``: a form showing it)."""
    writer = _writer(data)
    xobjects: dict[str, generic.PdfObject] = {}
    if b"/Im0" in drawing or b"/Fm0" in drawing:
        image = writer.add_object(
            generic.StreamObject(
                {
                    N("/Type"): N("/XObject"),
                    N("/Subtype"): N("/Image"),
                    N("/Width"): generic.NumberObject(SIZE),
                    N("/Height"): generic.NumberObject(SIZE),
                    N("/ColorSpace"): N("/DeviceRGB"),
                    N("/BitsPerComponent"): generic.NumberObject(8),
                },
                stream_data=_seal_pixels(),
            )
        )
        xobjects["/Im0"] = image
        if b"/Fm0" in drawing:
            xobjects = {"/Fm0": _form(writer, PICTURE, {"/Im0": image})}
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    comment = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Annot"),
                N("/Subtype"): N(subtype),
                N("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in RECT]),
                N("/F"): generic.NumberObject(4),
                N("/Contents"): generic.TextStringObject("Ý kiến"),
                N("/AP"): generic.DictionaryObject({N("/N"): _form(writer, drawing, xobjects)}),
            }
        )
    )
    page[N("/Annots")] = generic.ArrayObject([*page.get("/Annots", ()), comment])
    writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def unsigned(corpus_pdf_dir: Path) -> bytes:
    return (corpus_pdf_dir / UNSIGNED).read_bytes()


@pytest.fixture(scope="module")
def signed(unsigned: bytes, pki: TestPKI) -> bytes:
    return _sign(unsigned, pki, "Sig1")


PICTURES = [
    ("/Stamp", PICTURE),
    ("/FreeText", PICTURE),
    ("/Square", NESTED),
    ("/Stamp", RING),
    ("/Ink", RING),
    ("/FreeText", RING),
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("subtype", "drawing"),
    PICTURES,
    ids=["stamp-image", "freetext-image", "square-nested-image", "stamp-ring", "ink-ring", "freetext-ring"],
)
def test_a_seal_picture_added_as_a_comment_after_signing_does_not_pass(
    signed: bytes, pki_trust: TrustStore, reader: str, subtype: str, drawing: bytes
) -> None:
    result = _verify(_with_comment(signed, subtype, drawing), pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert f"{subtype[1:]} (trang 1)" in result.verdict.explanation
    assert "hình ảnh hoặc con dấu" in result.verdict.explanation
    assert not result.summary.startswith("Hợp lệ")
    assert len(result.signatures) == 1


REVIEW_COMMENTS = [
    ("/FreeText", b"BT 0 g /Helv 10 Tf 5 30 Td (Y kien: dong y, chuyen c v y) Tj ET"),
    ("/FreeText", b"1 0 0 RG 1 w 0.5 0.5 129 64 re S BT 1 0 0 rg /Helv 10 Tf 5 30 Td (Da xem) Tj ET"),
    ("/Square", b"1 0 0 RG 2 w 1 1 48 48 re S"),
    ("/Ink", b"1 0 0 RG 2 w 5 5 m 40 60 80 0 120 50 c S"),
    ("/Circle", b"1 0 0 RG 2 w 65 5 m 120 5 125 60 125 32 c 125 5 65 5 65 5 c S"),
    ("/Text", b"1 1 0 rg 0 0 20 20 re f 0 G 4 4 m 16 4 l 16 16 l S"),
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("subtype", "drawing"),
    REVIEW_COMMENTS,
    ids=["freetext", "freetext-boxed", "square", "ink", "circle", "note"],
)
def test_an_ordinary_review_comment_after_signing_still_passes(
    signed: bytes, pki_trust: TrustStore, reader: str, subtype: str, drawing: bytes
) -> None:
    result = _verify(_with_comment(signed, subtype, drawing), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "ANNOTATIONS"
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_a_stamp_the_signer_saw_is_signed_content(
    unsigned: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    stamped = _with_comment(unsigned, "/Stamp", PICTURE)

    result = _verify(_sign(stamped, pki, "Sig1"), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_a_stamp_a_later_signer_signed_over_is_not_named(
    signed: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The agency signs after the stamp was added: its signature stands behind what it saw,
    and passes. (The person's signature is judged by pyHanko's analysis of the two updates:
    INDETERMINATE on this draft for any comment followed by a signature, on main too; open.)"""
    sealed = _sign(_with_comment(signed, "/Stamp", PICTURE), pki, "Sig2", organisation=True)

    result = _verify(sealed, pki_trust, reader)

    assert result.signatures[1].verdict.indication is Indication.TOTAL_PASSED
    assert not any("hình ảnh hoặc con dấu" in finding for finding in result.document_findings)
