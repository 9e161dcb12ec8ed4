"""A comment added after signing that covers the signed content does not pass (rv18).

The shadow attack by annotation: a document signed with an approval signature (as nearly
every Vietnamese state document is), then, in an unsigned incremental update, a markup
annotation (a FreeText comment or a Stamp) whose appearance paints an opaque box with other
text over the signed page. PAdES lets annotations follow an approval signature, Kho's
annotation rule clears the revision at ANNOTATIONS, and the viewer comparison leaves
annotations out: before rv18 the document was TOTAL-PASSED, "Hợp lệ", with the note that the
comment "does not change the signed page", while every PDF viewer shows the forged text.

A comment whose drawing lies over what the signed page shows can hide or replace it: Kho
cannot tell a highlight from a forgery there, so the pass is withheld (INDETERMINATE, a
person compares with the signed version). Comments beside the signed content still pass.

Real pyHanko signing with the test PKI, real pdfium rendering; fast and stock readers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from signature_shapes import sign_with_docmdp

from ingest.signatures import Indication, PdfVerification, TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, document_for, timestamper

N = generic.NameObject
READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
# an opaque white box over the heading and the first paragraphs, with other text on it
FORGERY = b"1 g 0 0 520 500 re f 0 g BT /Helv 20 Tf 20 450 Td (QUYET DINH GIA MAO) Tj ET"
# a red outline in the empty bottom-left margin (the sample page's content starts at x 85)
MARGIN_NOTE = b"1 0 0 RG 2 w 1 1 48 48 re S"


def _floats(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _appearance(
    writer: IncrementalPdfFileWriter,
    rect: tuple[float, float, float, float],
    drawing: bytes,
    font: generic.PdfObject,
) -> generic.IndirectObject:
    """A form XObject of ``rect``'s size drawing ``drawing``, with ``font`` as /Helv."""
    return writer.add_object(
        generic.StreamObject(
            {
                N("/Type"): N("/XObject"),
                N("/Subtype"): N("/Form"),
                N("/BBox"): _floats(0, 0, rect[2] - rect[0], rect[3] - rect[1]),
                N("/Resources"): generic.DictionaryObject(
                    {N("/Font"): generic.DictionaryObject({N("/Helv"): font})}
                ),
            },
            stream_data=drawing,
        )
    )


def _with_annotation(
    data: bytes, subtype: str, rect: tuple[float, float, float, float], drawing: bytes
) -> bytes:
    """``data`` and an incremental update adding one markup annotation to page 1, with a
    normal appearance ``drawing`` (Helvetica as /Helv)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Font"),
                N("/Subtype"): N("/Type1"),
                N("/BaseFont"): N("/Helvetica"),
            }
        )
    )
    appearance = _appearance(writer, rect, drawing, font)
    annotation = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Annot"),
                N("/Subtype"): N(subtype),
                N("/Rect"): _floats(*rect),
                N("/F"): generic.NumberObject(4),
                N("/Contents"): generic.TextStringObject("Ý kiến"),
                N("/DA"): generic.TextStringObject("/Helv 20 Tf 0 g"),
                N("/AP"): generic.DictionaryObject({N("/N"): appearance}),
            }
        )
    )
    if "/Annots" in page:
        page["/Annots"].append(annotation)
    else:
        page[N("/Annots")] = generic.ArrayObject([annotation])
    writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _forged(data: bytes, subtype: str = "/FreeText") -> bytes:
    return _with_annotation(data, subtype, (40, 300, 560, 800), FORGERY)


def _margin_note(data: bytes) -> bytes:
    return _with_annotation(data, "/Square", (20, 20, 70, 70), MARGIN_NOTE)


def _approve(data: bytes, pki: TestPKI) -> bytes:
    """A second (approval) signature by the agency in a new invisible field."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name="Sig2", subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(
        meta, pki.organisation.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME)
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(writer, output=out))
    return out.getvalue()


@pytest.fixture(scope="module")
def plain(pki: TestPKI) -> bytes:
    return document_for(pki.personal).data


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("subtype", ["/FreeText", "/Stamp", "/Square"])
def test_a_comment_covering_the_signed_text_after_an_approval_signature_does_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, subtype: str, reader: str
) -> None:
    forged = _forged(sign_with_docmdp(plain, pki, None), subtype)

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "đè lên nội dung đã ký ở trang 1" in result.verdict.explanation
    assert all(s.verdict.indication is not Indication.TOTAL_PASSED for s in result.signatures)


@pytest.mark.parametrize("reader", READERS)
def test_a_covering_comment_under_docmdp_p3_does_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """P=3 permits annotations; it does not make a forged page the signed one."""
    result = _verify(_forged(sign_with_docmdp(plain, pki, 3)), pki_trust, reader)

    assert result.verdict.indication is Indication.INDETERMINATE
    assert "đè lên nội dung đã ký" in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_a_covering_comment_under_docmdp_p2_still_fails_on_the_lock(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The DocMDP proof stays first: TOTAL-FAILED naming the level, not mere doubt."""
    result = _verify(_forged(sign_with_docmdp(plain, pki, 2)), pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert "DocMDP mức 2" in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_a_comment_in_the_margin_still_passes_with_its_note(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    result = _verify(_margin_note(sign_with_docmdp(plain, pki, None)), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "ANNOTATIONS"
    assert any("chú thích thêm sau khi ký" in f for f in result.signatures[0].findings)
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_a_covering_comment_made_before_a_later_signature_is_signed_content(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """A comment over the text that was there when the document was signed is part of what
    was signed: a later signature over it passes (the comparison is with the signed
    revision, not with the page without annotations)."""
    commented = _forged(plain)
    signed = _approve(sign_with_docmdp(commented, pki, None), pki)

    result = _verify(signed, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings


# --- the same attack by form filling (the shadow attack "replace via overlay") ---------------


def _with_field(data: bytes, rect: tuple[float, float, float, float]) -> bytes:
    """An empty, borderless text field on page 1 (before signing): invisible when signed."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    font = writer.add_object(
        generic.DictionaryObject(
            {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")}
        )
    )
    widget = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Annot"),
                N("/Subtype"): N("/Widget"),
                N("/FT"): N("/Tx"),
                N("/T"): generic.TextStringObject("GhiChu"),
                N("/F"): generic.NumberObject(4),
                N("/P"): page_ref,
                N("/Rect"): _floats(*rect),
                N("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
            }
        )
    )
    page[N("/Annots")] = generic.ArrayObject([widget])
    writer.mark_update(page_ref)
    writer.root[N("/AcroForm")] = generic.DictionaryObject(
        {
            N("/Fields"): generic.ArrayObject([widget]),
            N("/DR"): generic.DictionaryObject({N("/Font"): generic.DictionaryObject({N("/Helv"): font})}),
        }
    )
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _fill(data: bytes, rect: tuple[float, float, float, float], drawing: bytes) -> bytes:
    """Fill the field after signing: a value and the appearance ``drawing``."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    ref = writer.root["/AcroForm"]["/Fields"].raw_get(0)
    widget = ref.get_object()
    widget[N("/V")] = generic.TextStringObject("QUYẾT ĐỊNH GIẢ MẠO")
    font = writer.root["/AcroForm"]["/DR"]["/Font"].raw_get("/Helv")
    appearance = _appearance(writer, rect, drawing, font)
    widget[N("/AP")] = generic.DictionaryObject({N("/N"): appearance})
    writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


BODY = (40, 300, 560, 800)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("docmdp", [None, 2])
def test_a_field_filled_after_signing_over_the_signed_text_does_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, docmdp: int | None, reader: str
) -> None:
    """Form filling is permitted after an approval signature and by DocMDP P=2; a field the
    signer could not see (empty, borderless, over the body) filled with an opaque box and
    other text is not the signed document."""
    signed = sign_with_docmdp(_with_field(plain, BODY), pki, docmdp)
    forged = _fill(signed, BODY, b"/Tx BMC " + FORGERY + b" EMC")

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "đè lên nội dung đã ký ở trang 1" in result.verdict.explanation
    assert result.signatures[0].modification_level == "FORM_FILLING"


@pytest.mark.parametrize("reader", READERS)
def test_a_field_value_drawn_over_the_marks_of_the_signed_heading_does_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The field test_sig_dss_matrix used before rv18: at (300, 700, 500, 724) its value
    "123/QD-UBND" is drawn over the marks of the signed heading "QUYẾT ĐỊNH"."""
    rect = (300, 700, 500, 724)
    signed = sign_with_docmdp(_with_field(plain, rect), pki, None)
    filled = _fill(signed, rect, b"/Tx BMC BT /Helv 12 Tf 2 6 Td (123/QD-UBND) Tj ET EMC")

    assert _verify(filled, pki_trust, reader).verdict.indication is Indication.INDETERMINATE


@pytest.mark.parametrize("reader", READERS)
def test_a_field_filled_in_a_blank_place_still_passes(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    rect = (300, 790, 500, 814)
    signed = sign_with_docmdp(_with_field(plain, rect), pki, None)
    filled = _fill(
        signed, rect, b"/Tx BMC 1 g 0 0 200 24 re f 0 g BT /Helv 12 Tf 2 6 Td (123/QD-UBND) Tj ET EMC"
    )

    result = _verify(filled, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "FORM_FILLING"


@pytest.mark.parametrize("reader", READERS)
def test_an_agency_seal_drawn_over_the_signers_name_still_passes(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The văn thư's signature with a visible appearance over the signer's name and title (as
    a red seal is placed on Vietnamese documents): a signed signature field, vouched for by
    its own signature, is not an overlay."""
    personal = sign_with_docmdp(plain, pki, None)
    writer = IncrementalPdfFileWriter(BytesIO(personal))
    meta = signers.PdfSignatureMetadata(field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(
        meta,
        pki.organisation.pyhanko_signer(),
        timestamper=timestamper(pki, FIXTURE_TIME),
        new_field_spec=fields.SigFieldSpec("Seal", box=(330, 60, 520, 200)),
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(writer, output=out))

    result = _verify(out.getvalue(), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings
