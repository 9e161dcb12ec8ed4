"""Changes after signing as PAdES and DSS judge them: annotation-only revisions pass where the
document's DocMDP level permits them and fail where it forbids them; a replaced appearance or
a rewritten signature dictionary is proof of modification (TOTAL-FAILED), not doubt.

Every document is signed here with pyHanko and the test PKI, then changed in an incremental
update the way an annotating reader (or an attacker) writes it."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from signature_shapes import sign_with_docmdp

from ingest.signatures import Indication, PdfVerification, TrustStore, verify_pdf
from ingest.testpki import TestPKI, document_for

N = generic.NameObject




def _form_xobject(
    writer: IncrementalPdfFileWriter, content: bytes, w: float, h: float
) -> generic.IndirectObject:
    return writer.add_object(
        generic.StreamObject(
            {
                N("/Type"): N("/XObject"),
                N("/Subtype"): N("/Form"),
                N("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, w, h)]),
            },
            stream_data=content,
        )
    )


def _annotate(
    data: bytes,
    subtype: str = "/Square",
    rect: tuple[float, float, float, float] = (20, 20, 70, 70),
    *,
    extra: dict[str, generic.PdfObject] | None = None,
    new_content: bytes | None = None,
) -> bytes:
    """``data`` with an incremental update adding one annotation to page 1 (and, with
    ``new_content``, replacing that page's content too)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    appearance = _form_xobject(writer, b"1 0 0 RG 2 w 1 1 48 48 re S", 50, 50)
    annot = generic.DictionaryObject(
        {
            N("/Type"): N("/Annot"),
            N("/Subtype"): N(subtype),
            N("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in rect]),
            N("/Contents"): generic.TextStringObject("Ghi chú của người đọc"),
            N("/AP"): generic.DictionaryObject({N("/N"): appearance}),
            **(extra or {}),
        }
    )
    annots = page.get("/Annots")
    if annots is None:
        page[N("/Annots")] = generic.ArrayObject([writer.add_object(annot)])
    else:
        annots.append(writer.add_object(annot))
        if isinstance(page.raw_get("/Annots"), generic.IndirectObject):
            writer.mark_update(page.raw_get("/Annots"))
    if new_content is not None:
        page[N("/Contents")] = writer.add_object(generic.StreamObject(stream_data=new_content))
    writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def unsigned(pki: TestPKI) -> bytes:
    return document_for(pki.personal).data


@pytest.fixture(scope="module")
def signed(unsigned: bytes, pki: TestPKI) -> dict[int | None, bytes]:
    return {level: sign_with_docmdp(unsigned, pki, level) for level in (None, 1, 2, 3)}


def _verdict(result: PdfVerification) -> tuple[Indication, str | None]:
    return result.verdict.indication, result.verdict.sub_indication


@pytest.mark.parametrize("level", [None, 3])
def test_an_added_comment_passes_where_docmdp_permits_annotations(
    signed: dict[int | None, bytes], pki_trust: TrustStore, level: int | None
) -> None:
    assert verify_pdf(signed[level], pki_trust).passed
    result = verify_pdf(_annotate(signed[level]), pki_trust)
    assert _verdict(result) == (Indication.TOTAL_PASSED, None), result.verdict
    (sig,) = result.signatures
    assert sig.modification_level == "ANNOTATIONS" and sig.modifications_permitted
    assert sig.docmdp_permission == level
    assert any("có chú thích thêm sau khi ký" in f for f in sig.findings)
    assert result.document_findings == ()


@pytest.mark.parametrize("level", [1, 2])
def test_an_added_comment_fails_where_docmdp_forbids_it(
    signed: dict[int | None, bytes], pki_trust: TrustStore, level: int
) -> None:
    result = verify_pdf(_annotate(signed[level]), pki_trust)
    assert _verdict(result) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE"), result.verdict
    assert f"DocMDP mức {level}" in result.verdict.explanation
    assert "chú thích thêm sau khi ký" in result.verdict.explanation
    assert result.signatures[0].modification_level == "ANNOTATIONS"
    assert result.signatures[0].modifications_permitted is False
    assert result.return_reason is not None


@pytest.mark.parametrize("level", [None, 3])
def test_a_comment_with_a_visible_content_change_never_passes(
    signed: dict[int | None, bytes], pki_trust: TrustStore, level: int | None
) -> None:
    """The shadow-attack family: an annotation in the same update as new page content."""
    mutant = _annotate(signed[level], new_content=b"BT /F1 30 Tf 72 600 Td (DA SUA) Tj ET")
    result = verify_pdf(mutant, pki_trust)
    assert _verdict(result) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE"), result.verdict
    assert "khác với phiên bản đã ký" in result.verdict.explanation


@pytest.mark.parametrize(
    ("subtype", "extra"),
    [
        ("/Widget", {N("/FT"): N("/Tx"), N("/T"): generic.TextStringObject("Chen")}),
        ("/Link", {N("/A"): generic.DictionaryObject({
            N("/S"): N("/URI"), N("/URI"): generic.TextStringObject("https://example.invalid")
        })}),
        ("/Square", {N("/AA"): generic.DictionaryObject()}),
    ],
)
def test_fields_links_and_actions_are_not_annotation_changes(
    signed: dict[int | None, bytes], pki_trust: TrustStore, subtype: str,
    extra: dict[str, generic.PdfObject],
) -> None:
    result = verify_pdf(_annotate(signed[3], subtype, extra=extra), pki_trust)
    assert result.verdict.indication is not Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "OTHER"


# --- a replaced appearance: the signed field shows other text, its value unchanged ----------


def _with_text_field(data: bytes, value: str, shown: str) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    appearance = _form_xobject(
        writer, f"/Tx BMC BT /Helv 12 Tf 2 6 Td ({shown}) Tj ET EMC".encode(), 200, 24
    )
    widget = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Annot"),
                N("/Subtype"): N("/Widget"),
                N("/FT"): N("/Tx"),
                N("/T"): generic.TextStringObject("NoiNhan"),
                N("/V"): generic.TextStringObject(value),
                N("/F"): generic.NumberObject(4),
                N("/P"): page_ref,
                N("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (300, 700, 500, 724)]),
                N("/AP"): generic.DictionaryObject({N("/N"): appearance}),
            }
        )
    )
    page[N("/Annots")] = generic.ArrayObject([widget])
    writer.mark_update(page_ref)
    writer.root[N("/AcroForm")] = generic.DictionaryObject(
        {N("/Fields"): generic.ArrayObject([widget])}
    )
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _set_field(data: bytes, shown: str, value: str | None = None) -> bytes:
    """Redraw the text field's appearance to show ``shown`` (and set ``value`` if given)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    widget_ref = writer.root["/AcroForm"]["/Fields"].raw_get(0)
    widget = widget_ref.get_object()
    widget[N("/AP")] = generic.DictionaryObject({
        N("/N"): _form_xobject(
            writer, f"/Tx BMC BT /Helv 12 Tf 2 6 Td ({shown}) Tj ET EMC".encode(), 200, 24
        )
    })
    if value is not None:
        widget[N("/V")] = generic.TextStringObject(value)
    writer.mark_update(widget_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed_form(unsigned: bytes, pki: TestPKI) -> bytes:
    return sign_with_docmdp(_with_text_field(unsigned, "Bo Tai chinh", "Bo Tai chinh"), pki, None)


def test_the_signed_form_passes(signed_form: bytes, pki_trust: TrustStore) -> None:
    assert verify_pdf(signed_form, pki_trust).passed


def test_filling_the_field_after_signing_is_form_filling(
    signed_form: bytes, pki_trust: TrustStore
) -> None:
    result = verify_pdf(_set_field(signed_form, "Bo Noi vu", value="Bo Noi vu"), pki_trust)
    assert result.verdict.indication is not Indication.TOTAL_FAILED, result.verdict
    assert not any("thay đối tượng sau khi ký" in f for f in result.document_findings)


def test_a_replaced_appearance_with_the_value_kept_fails(
    signed_form: bytes, pki_trust: TrustStore
) -> None:
    result = verify_pdf(_set_field(signed_form, "Ke tan cong"), pki_trust)
    assert _verdict(result) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE"), result.verdict
    assert "thay đối tượng sau khi ký" in result.verdict.explanation
    assert "NoiNhan" in result.verdict.explanation


# --- a rewritten signature dictionary ------------------------------------------------------


def _forge_signature_dictionary(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    field = writer.root["/AcroForm"]["/Fields"][0]
    sig_ref = field.raw_get("/V")
    sig_ref.get_object()[N("/Reason")] = generic.TextStringObject("LÝ DO GIẢ MẠO")
    writer.mark_update(sig_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("level", [None, 3])
def test_a_rewritten_signature_dictionary_fails(
    signed: dict[int | None, bytes], pki_trust: TrustStore, level: int | None
) -> None:
    result = verify_pdf(_forge_signature_dictionary(signed[level]), pki_trust)
    assert _verdict(result) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE"), result.verdict
    # pyHanko reads the forged dictionary and finds its /ByteRange no longer covers the
    # revision; the byte scan names the rewritten dictionary whatever the reader resolves
    assert any("Từ điển chữ ký không nhất quán" in f for f in result.document_findings)


# --- the DSS samples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dss__dss-2236_replace.pdf", "thay đối tượng sau khi ký"),
        ("dss__pdf-spoofing-attack.pdf", "Từ điển chữ ký không nhất quán"),
    ],
)
def test_dss_shadow_and_spoofing_samples_fail(
    corpus_pdf_dir: Path, corpus_trust: TrustStore, name: str, reason: str
) -> None:
    result = verify_pdf((corpus_pdf_dir / name).read_bytes(), corpus_trust)
    assert _verdict(result) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE"), result.verdict
    assert reason in result.verdict.explanation
    assert result.return_reason is not None


def test_dss_annotation_and_visible_change_never_passes(
    corpus_pdf_dir: Path, corpus_trust: TrustStore
) -> None:
    name = "dss__dss-2236_annotation-and-visible-change.pdf"
    result = verify_pdf((corpus_pdf_dir / name).read_bytes(), corpus_trust)
    assert result.verdict.indication in (Indication.TOTAL_FAILED, Indication.INDETERMINATE)
    assert all(s.verdict.indication is not Indication.TOTAL_PASSED for s in result.signatures)
    assert result.verdict.explanation
