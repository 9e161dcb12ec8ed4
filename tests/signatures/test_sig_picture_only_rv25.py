"""A picture of a seal in an unsigned signature field added after signing does not pass (rv25).

The "appearance-only signature": after a person signed (an approval signature, as nearly
every Vietnamese state document has), an incremental update adds an empty signature field
whose appearance draws the agency's red seal. PAdES lets signature fields be added after an
approval signature (for later signers), pyHanko clears the revision as FORM_FILLING, and the
field holds no signature, so before rv25 Kho said "Hợp lệ" with the note "thêm chữ ký khác"
while every viewer showed a seal that no certificate stands behind. Such a field is now
doubt (INDETERMINATE, naming the field); placeholders that draw nothing, a picture the signer
already saw, and a field later signed for real still pass.

Real pyHanko signing with the test PKI over a real unsigned corpus PDF; fast and stock
readers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers

from ingest.signatures import Indication, PdfVerification, TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, timestamper

N = generic.NameObject
READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
UNSIGNED = "vn-gov__1.-du-thao-1_thong-tu_2609.pdf"  # a real draft circular, no signature
RECT = (40.0, 1.0, 170.0, 66.0)  # the blank bottom band of its first page (rendered: no ink)
# a red ring with the agency's name: what a seal looks like on a Vietnamese document
SEAL = (
    b"1 0 0 RG 3 w 65 5 m 120 5 125 60 125 65 c 125 120 65 125 65 125 c 10 125 5 65 5 65 c "
    b"5 10 10 5 65 5 c S BT 1 0 0 rg /Helv 8 Tf 25 60 Td (UY BAN NHAN DAN) Tj ET"
)
FIELD = "ChuKyDonVi"


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(BytesIO(data), strict=False)


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _appearance(writer: IncrementalPdfFileWriter, drawing: bytes) -> generic.IndirectObject:
    font = writer.add_object(
        generic.DictionaryObject(
            {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")}
        )
    )
    box = generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, 130, 65)])
    return writer.add_object(
        generic.StreamObject(
            {
                N("/Type"): N("/XObject"),
                N("/Subtype"): N("/Form"),
                N("/BBox"): box,
                N("/Resources"): generic.DictionaryObject(
                    {N("/Font"): generic.DictionaryObject({N("/Helv"): font})}
                ),
            },
            stream_data=drawing,
        )
    )


def _with_signature_field(data: bytes, drawing: bytes | None) -> bytes:
    """``data`` and an update adding an empty signature field on page 1, showing
    ``drawing`` (no appearance when ``None``)."""
    writer = _writer(data)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    widget: dict[generic.NameObject, generic.PdfObject] = {
        N("/Type"): N("/Annot"),
        N("/Subtype"): N("/Widget"),
        N("/FT"): N("/Sig"),
        N("/T"): generic.TextStringObject(FIELD),
        N("/F"): generic.NumberObject(4),
        N("/P"): page_ref,
        N("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in RECT]),
    }
    if drawing is not None:
        widget[N("/AP")] = generic.DictionaryObject({N("/N"): _appearance(writer, drawing)})
    ref = writer.add_object(generic.DictionaryObject(widget))
    page[N("/Annots")] = generic.ArrayObject([*page.get("/Annots", ()), ref])
    writer.mark_update(page_ref)
    form = writer.root.raw_get("/AcroForm") if "/AcroForm" in writer.root else None
    if form is None:
        writer.root[N("/AcroForm")] = generic.DictionaryObject({N("/Fields"): generic.ArrayObject([ref])})
        writer.update_root()
    else:
        form_dict = form.get_object()
        listed = form_dict.raw_get("/Fields")
        listed.get_object().append(ref)
        writer.mark_update(listed if isinstance(listed, generic.IndirectObject) else form)
    return _written(writer)


def _draw_into_field(data: bytes, drawing: bytes) -> bytes:
    """Give the existing empty field ``FIELD`` the appearance ``drawing``, value untouched."""
    writer = _writer(data)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        if ref.get_object().get("/T") == FIELD:
            ref.get_object()[N("/AP")] = generic.DictionaryObject({N("/N"): _appearance(writer, drawing)})
            writer.mark_update(ref)
            return _written(writer)
    raise AssertionError(f"no field {FIELD}")


def _sign(data: bytes, pki: TestPKI, field: str, *, organisation: bool = False) -> bytes:
    identity = pki.organisation if organisation else pki.personal
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(meta, identity.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME))
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(_writer(data), output=out))
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(corpus_pdf_dir: Path, pki: TestPKI) -> bytes:
    """The corpus draft signed by the test PKI's person (approval signature)."""
    return _sign((corpus_pdf_dir / UNSIGNED).read_bytes(), pki, "Sig1")


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


@pytest.mark.parametrize("reader", READERS)
def test_a_seal_picture_in_an_unsigned_signature_field_added_after_signing_does_not_pass(
    signed: bytes, pki_trust: TrustStore, reader: str
) -> None:
    forged = _with_signature_field(signed, SEAL)

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "không có chữ ký số nào" in result.verdict.explanation
    assert f"{FIELD} (trang 1)" in result.verdict.explanation
    assert not result.summary.startswith("Hợp lệ")
    assert all(s.verdict.indication is not Indication.TOTAL_PASSED for s in result.signatures)
    assert len(result.signatures) == 1  # the picture is not counted as a signature


@pytest.mark.parametrize("reader", READERS)
def test_a_seal_drawn_after_signing_into_an_empty_field_the_signer_left_does_not_pass(
    corpus_pdf_dir: Path, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The placeholder was part of the signed revision (empty); its picture came after.
    (Held on main already: pyHanko cannot explain the new appearance; now also named.)"""
    placeholder = _with_signature_field((corpus_pdf_dir / UNSIGNED).read_bytes(), None)
    forged = _draw_into_field(_sign(placeholder, pki, "Sig1"), SEAL)

    result = _verify(forged, pki_trust, reader)

    assert result.verdict.indication is Indication.INDETERMINATE
    assert any(f"{FIELD} (trang 1)" in finding for finding in result.document_findings)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("drawing", [None, b"", b"q Q"], ids=["no-appearance", "empty", "q-Q"])
def test_an_empty_placeholder_for_a_later_signer_still_passes(
    signed: bytes, pki_trust: TrustStore, drawing: bytes | None, reader: str
) -> None:
    result = _verify(_with_signature_field(signed, drawing), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_a_picture_the_signer_saw_is_signed_content(
    corpus_pdf_dir: Path, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    drawn = _with_signature_field((corpus_pdf_dir / UNSIGNED).read_bytes(), SEAL)

    result = _verify(_sign(drawn, pki, "Sig1"), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED


@pytest.mark.parametrize("reader", READERS)
def test_the_placeholder_signed_by_the_agency_passes(
    signed: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The ordinary workflow: the field added after the person's signature is then signed by
    the agency (its appearance drawn by the signing): a signature, not a picture."""
    sealed = _sign(_with_signature_field(signed, None), pki, FIELD, organisation=True)

    result = _verify(sealed, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert [s.field_name for s in result.signatures] == ["Sig1", FIELD]
    assert not result.document_findings
