"""Incremental updates after signing, shape by shape, with the verdict DSS gives each.

Every document is signed here with pyHanko's public signing API and the in-test PKI (an
approval signature, or a certification signature with DocMDP P=1, 2 or 3), then changed in
one incremental update the way a viewer, a signing tool or an attacker writes it. Each shape
is verified with Kho's fast reader and with stock pyHanko's reader (the fast path on and off
as far as the verdict is concerned), and both must give the verdict and reason DSS gives.

The DSS rules relied on (esig/dss, ``PdfObjectModificationsFilter``, the validation policy's
format checks ``DocMDPCheck``, ``PdfPageDifferenceCheck``, ``PdfSignatureDictionaryCheck``):

- DSS sorts every object change of a later revision into four classes: extension changes
  (the /DSS dictionary, a document timestamp, the catalog's /Metadata, /Extensions, the
  version), signature or form-fill changes (a field value, a new signature, its appearance),
  annotation changes (anything else under a page's /Annots: created, modified or deleted)
  and undefined changes.
- ``DocMDPCheck``: P=1 forbids all but extension changes; P=2 also permits signature and
  form-fill changes; P=3 also permits annotation changes. A violated check is a format
  failure (TOTAL-FAILED/FORMAT_FAILURE with the DocMDP constraint at FAIL, as Kho holds it).
  With no certification signature every class is permitted.
- ``PdfPageDifferenceCheck``: a page count other than the signed revision's is
  TOTAL-FAILED; ``PdfVisualDifference`` compares what each page shows (a warning in DSS's
  default policy, proof of modification in Kho: nothing whose rendering differs may pass).
- ``PdfSignatureDictionaryCheck``: a signed signature dictionary written again is
  TOTAL-FAILED.
- The trailer's /Info dictionary is outside the catalog's object tree DSS compares, and the
  XMP /Metadata stream is an extension change: a viewer updating either passes.

Where Kho is stricter than DSS on purpose it says so at the shape (links and actions added
after signing: DSS's default policy lets annotation changes pass at P=3 and without
certification; Kho asks a person, INDETERMINATE, because an action runs when clicked).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
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
from ingest.signing import add_revocation_info
from ingest.testpki import FIXTURE_TIME, TestPKI, document_for, timestamper

N = generic.NameObject
LEVELS: tuple[int | None, ...] = (None, 1, 2, 3)
READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
PASSED = (Indication.TOTAL_PASSED, None)
FAILED = (Indication.TOTAL_FAILED, "FORMAT_FAILURE")
UNEXPLAINED = (Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE")
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)


def _floats(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _page(
    writer: IncrementalPdfFileWriter, index: int = 0
) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    ref = writer.root["/Pages"]["/Kids"].raw_get(index)
    return ref, ref.get_object()


def _appearance(
    writer: IncrementalPdfFileWriter, content: bytes, w: float, h: float
) -> generic.IndirectObject:
    return writer.add_object(generic.StreamObject(
        {N("/Type"): N("/XObject"), N("/Subtype"): N("/Form"), N("/BBox"): _floats(0, 0, w, h)},
        stream_data=content,
    ))


def _add_annotation(
    data: bytes, subtype: str = "/Square", extra: dict[str, generic.PdfObject] | None = None,
    rect: tuple[float, float, float, float] = (20, 20, 70, 70),
) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    annot = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"),
        N("/Subtype"): N(subtype),
        N("/Rect"): _floats(*rect),
        N("/Contents"): generic.TextStringObject("Ghi chú của người đọc"),
        N("/AP"): generic.DictionaryObject(
            {N("/N"): _appearance(writer, b"1 0 0 RG 2 w 1 1 48 48 re S", 50, 50)}
        ),
        **(extra or {}),
    }))
    if "/Annots" in page:
        page["/Annots"].append(annot)
    else:
        page[N("/Annots")] = generic.ArrayObject([annot])
    writer.mark_update(page_ref)
    return _written(writer)


def _add_note_with_popup(data: bytes) -> bytes:
    """A sticky note as Acrobat saves one: a /Text annotation with its /Popup (both in the
    page's /Annots, linked by /Popup and /Parent), a reply (/IRT), and the /Info dates
    updated in the same revision."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    note = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Text"), N("/Rect"): _floats(40, 40, 60, 60),
        N("/Contents"): generic.TextStringObject("Đề nghị xem lại điều 2"), N("/P"): page_ref,
        N("/T"): generic.TextStringObject("Chuyên viên"), N("/Name"): N("/Comment"),
    }))
    popup = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Popup"), N("/Rect"): _floats(60, 60, 260, 160),
        N("/Parent"): note, N("/Open"): generic.BooleanObject(False),
    }))
    note.get_object()[N("/Popup")] = popup
    reply = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Text"), N("/Rect"): _floats(40, 40, 60, 60),
        N("/Contents"): generic.TextStringObject("Đã xem"), N("/IRT"): note, N("/RT"): N("/R"),
    }))
    annots = page.get("/Annots") or generic.ArrayObject()
    annots.extend([note, popup, reply])
    page[N("/Annots")] = annots
    writer.mark_update(page_ref)
    info_ref = writer.trailer.raw_get("/Info")
    info_ref.get_object()[N("/ModDate")] = generic.pdf_string("D:20260105093000+07'00'")
    writer.mark_update(info_ref)
    return _written(writer)


def _change_comment(data: bytes) -> bytes:
    """The comment of the signed revision gets other text and another appearance."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    _, page = _page(writer)
    ref = next(r for r in page["/Annots"] if r.get_object()["/Subtype"] == "/Square")
    annot = ref.get_object()
    annot[N("/Contents")] = generic.TextStringObject("Ghi chú đã sửa")
    annot[N("/AP")] = generic.DictionaryObject(
        {N("/N"): _appearance(writer, b"0 0 1 RG 3 w 2 2 46 46 re S", 50, 50)}
    )
    writer.mark_update(ref)
    return _written(writer)


def _drop_comment(data: bytes) -> tuple[bytes, generic.Reference]:
    """The comment of the signed revision dropped from the page's /Annots (the object stays)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    annots = page["/Annots"]
    index = next(i for i, r in enumerate(annots) if r.get_object()["/Subtype"] == "/Square")
    dropped = annots.raw_get(index).reference
    del annots[index]
    writer.mark_update(page_ref)
    return _written(writer), dropped


def _free_in_last_xref(data: bytes, ref: generic.Reference) -> bytes:
    """Also free ``ref`` in the last cross-reference table (a one-entry subsection with the
    next generation number, as Acrobat writes a deleted comment)."""
    start = data.rindex(b"\nxref") + len(b"\nxref")
    start += 2 if data[start:start + 2] == b"\r\n" else 1
    entry = f"{ref.idnum} 1\n0000000000 {ref.generation + 1:05d} f\r\n".encode()
    return data[:start] + entry + data[start:]


def _remove_comment_freed(data: bytes) -> bytes:
    dropped, ref = _drop_comment(data)
    return _free_in_last_xref(dropped, ref)


def _with_text_field(data: bytes) -> bytes:
    """An empty text field on page 1 (before signing), in the blank band above the heading
    (rv18: at (300, 700) its filled value was drawn over the marks of the signed heading
    "QUYẾT ĐỊNH", which is no longer passed: test_sig_comment_overlay_rv18)."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    widget = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Widget"), N("/FT"): N("/Tx"),
        N("/T"): generic.TextStringObject("SoVanBan"), N("/F"): generic.NumberObject(4),
        N("/P"): page_ref, N("/Rect"): _floats(300, 790, 500, 814),
        N("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
    }))
    page[N("/Annots")] = generic.ArrayObject([widget])
    writer.mark_update(page_ref)
    writer.root[N("/AcroForm")] = generic.DictionaryObject({
        N("/Fields"): generic.ArrayObject([widget]),
        N("/DR"): generic.DictionaryObject({N("/Font"): generic.DictionaryObject({
            N("/Helv"): writer.add_object(generic.DictionaryObject({
                N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"),
                N("/BaseFont"): N("/Helvetica"),
            }))
        })}),
        N("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
    })
    writer.update_root()
    return _written(writer)


def _fill_field(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    ref = next(
        f for f in writer.root["/AcroForm"]["/Fields"] if f.get_object().get("/FT") == "/Tx"
    )
    widget = ref.get_object()
    widget[N("/V")] = generic.TextStringObject("123/QĐ-UBND")
    widget[N("/AP")] = generic.DictionaryObject({N("/N"): _appearance(
        writer, b"/Tx BMC BT /Helv 12 Tf 2 6 Td (123/QD-UBND) Tj ET EMC", 200, 24
    )})
    writer.mark_update(ref)
    return _written(writer)


class _HeedlessSigner(signers.PdfSigner):
    """A signing tool that ignores the certification's DocMDP lock (pyHanko refuses to add a
    signature after P=1; other tools, or an attacker's, do not)."""

    def _enforce_certification_constraints(self, reader: PdfFileReader) -> None:
        return None


def _approve(data: bytes, pki: TestPKI, field: str = "Sig2") -> bytes:
    """A second (approval) signature by the agency, in a new invisible field."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES)
    signer = _HeedlessSigner(
        meta, pki.organisation.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME)
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(writer, output=out))
    return out.getvalue()


def _ltv(data: bytes, pki: TestPKI) -> bytes:
    """Revocation data in the DSS, then a document timestamp (PAdES B-LT, then B-LTA)."""
    with_dss = add_revocation_info(data, pki.revocation)
    writer = IncrementalPdfFileWriter(BytesIO(with_dss))
    stamper = signers.PdfTimeStamper(timestamper(pki, FIXTURE_TIME), field_name="DocTs")
    out = BytesIO()
    asyncio.run(stamper.async_timestamp_pdf(writer, "sha256", output=out))
    return out.getvalue()


def _add_page(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    pages_ref = writer.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    first = pages["/Kids"][0].get_object()
    page = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Page"), N("/Parent"): pages_ref, N("/MediaBox"): first["/MediaBox"],
        N("/Resources"): first.raw_get("/Resources"),
        N("/Contents"): writer.add_object(
            generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (TRANG THEM) Tj ET")
        ),
    }))
    pages["/Kids"].append(page)
    pages[N("/Count")] = generic.NumberObject(int(pages["/Count"]) + 1)
    writer.mark_update(pages_ref)
    return _written(writer)


def _remove_page(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    pages_ref = writer.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    del pages["/Kids"][-1]
    pages[N("/Count")] = generic.NumberObject(int(pages["/Count"]) - 1)
    writer.mark_update(pages_ref)
    return _written(writer)


def _replace_content(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    page[N("/Contents")] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 600 Td (KHONG CO HIEU LUC) Tj ET")
    )
    writer.mark_update(page_ref)
    return _written(writer)


def _rotate_page(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    page[N("/Rotate")] = generic.NumberObject(90)
    writer.mark_update(page_ref)
    return _written(writer)


def _update_info(data: bytes) -> bytes:
    """A viewer's save: /Info /ModDate and /Producer rewritten, nothing else."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    info_ref = writer.trailer.raw_get("/Info")
    info = info_ref.get_object()
    info[N("/ModDate")] = generic.pdf_string("D:20260105093000+07'00'")
    info[N("/Producer")] = generic.TextStringObject("Trình xem PDF")
    writer.mark_update(info_ref)
    return _written(writer)


XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:ModifyDate>2026-01-05T09:30:00+07:00'
    '</xmp:ModifyDate></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
).encode()


def _update_xmp(data: bytes) -> bytes:
    """A viewer's save: the catalog's XMP /Metadata stream written (new), nothing else."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    writer.root[N("/Metadata")] = writer.add_object(generic.StreamObject(
        {N("/Type"): N("/Metadata"), N("/Subtype"): N("/XML")}, stream_data=XMP
    ))
    writer.update_root()
    return _written(writer)


def _rewrite_signature_dictionary(data: bytes) -> bytes:
    """The signed signature dictionary written again, byte for byte the same but /Reason."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    sig_ref = writer.root["/AcroForm"]["/Fields"][-1].raw_get("/V")
    sig_ref.get_object()[N("/Reason")] = generic.TextStringObject("Đồng ý")
    writer.mark_update(sig_ref)
    return _written(writer)


# --- the signed documents -------------------------------------------------------------------




@pytest.fixture(scope="module")
def bases(pki: TestPKI) -> dict[str, bytes]:
    """Unsigned documents: plain, with a comment, with an empty field, two pages."""
    plain = document_for(pki.personal).data
    return {
        "plain": plain,
        "comment": _add_annotation(plain),
        "form": _with_text_field(plain),
        "two-pages": document_for(pki.personal, pages=2).data,
    }


@pytest.fixture(scope="module")
def signed(bases: dict[str, bytes], pki: TestPKI) -> Callable[[str, int | None], bytes]:
    cache: dict[tuple[str, int | None], bytes] = {}

    def get(base: str, level: int | None) -> bytes:
        if (base, level) not in cache:
            cache[base, level] = sign_with_docmdp(bases[base], pki, level)
        return cache[base, level]

    return get


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


def _verdict(result: PdfVerification) -> tuple[Indication, str | None]:
    return result.verdict.indication, result.verdict.sub_indication


# shape -> (base document, change, DSS verdict by DocMDP level None/P1/P2/P3)
ANNOTATION = {None: PASSED, 1: FAILED, 2: FAILED, 3: PASSED}
FORM = {None: PASSED, 1: FAILED, 2: PASSED, 3: PASSED}
EVERYWHERE = dict.fromkeys(LEVELS, PASSED)
NOWHERE = dict.fromkeys(LEVELS, FAILED)

SHAPES: dict[str, tuple[str, Callable[..., bytes], dict[int | None, tuple[Indication, str | None]]]] = {
    # annotation changes (DSS: created, modified or deleted under /Annots)
    "comment-added": ("plain", _add_annotation, ANNOTATION),
    "comment-changed": ("comment", _change_comment, ANNOTATION),
    "note-with-popup-reply-and-info": ("plain", _add_note_with_popup, ANNOTATION),
    "comment-dropped": ("comment", lambda d: _drop_comment(d)[0], ANNOTATION),
    "comment-freed": ("comment", _remove_comment_freed, ANNOTATION),
    # a comment added after signing, removed again in the next update
    "comment-added-then-dropped": (
        "plain", lambda d: _drop_comment(_add_annotation(d))[0], ANNOTATION
    ),
    "comment-added-then-freed": ("plain", lambda d: _remove_comment_freed(_add_annotation(d)), ANNOTATION),
    # signature or form-fill changes
    "field-filled": ("form", _fill_field, FORM),
    "second-signature": ("plain", "approve", FORM),
    # extension changes (allowed at every level)
    "dss-and-document-timestamp": ("plain", "ltv", EVERYWHERE),
    "info-updated": ("plain", _update_info, EVERYWHERE),
    "xmp-updated": ("plain", _update_xmp, EVERYWHERE),
    # page differences and a rewritten signature dictionary: TOTAL-FAILED everywhere
    "page-added": ("plain", _add_page, NOWHERE),
    "page-removed": ("two-pages", _remove_page, NOWHERE),
    "content-replaced": ("plain", _replace_content, NOWHERE),
    "page-rotated": ("plain", _rotate_page, NOWHERE),
    "signature-dictionary-rewritten": ("plain", _rewrite_signature_dictionary, NOWHERE),
}


def _apply(shape: str, data: bytes, pki: TestPKI) -> bytes:
    change = SHAPES[shape][1]
    if change == "approve":
        return _approve(data, pki)
    if change == "ltv":
        return _ltv(data, pki)
    return change(data)


_REASON = {
    "page-added": "khác với phiên bản đã ký",
    "page-removed": "khác với phiên bản đã ký",
    "content-replaced": "khác với phiên bản đã ký",
    "page-rotated": "khác với phiên bản đã ký",
    "signature-dictionary-rewritten": "Từ điển chữ ký không nhất quán",
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("level", LEVELS, ids=lambda v: f"P{v}" if v else "approval")
@pytest.mark.parametrize("shape", list(SHAPES))
def test_kho_gives_the_dss_verdict(
    shape: str, level: int | None, reader: str,
    signed: Callable[[str, int | None], bytes], pki: TestPKI, pki_trust: TrustStore,
) -> None:
    base, _, expected = SHAPES[shape]
    original = signed(base, level)
    assert _verdict(_verify(original, pki_trust, reader)) == PASSED
    result = _verify(_apply(shape, original, pki, ), pki_trust, reader)
    assert _verdict(result) == expected[level], result.verdict
    if expected[level] == PASSED:
        first = next(s for s in result.signatures if s.field_name == "Sig1")
        assert first.modifications_permitted is not False
        assert result.return_reason is None
        return
    assert result.return_reason is not None  # the văn thư's reason to return it (NĐ 30)
    if shape in _REASON:  # named in the verdict, or (a failure found first) in the findings
        named = (result.verdict.explanation, *result.document_findings)
        assert any(_REASON[shape] in text for text in named), result.verdict
    elif level is not None:  # a change the certification forbids names the level
        assert f"DocMDP mức {level}" in result.verdict.explanation, result.verdict


def test_a_removed_comment_is_an_annotation_change(
    signed: Callable[[str, int | None], bytes], pki_trust: TrustStore
) -> None:
    """Not "changed after signing, cannot tell": the level and the note say what happened."""
    for change in (lambda d: _drop_comment(d)[0], _remove_comment_freed):
        result = _verify(change(signed("comment", None)), pki_trust, "fast")
        (sig,) = result.signatures
        assert sig.modification_level == "ANNOTATIONS"
        assert any("chú thích thêm sau khi ký" in f for f in sig.findings)


def test_a_freed_object_that_is_no_comment_is_not_cleared(
    signed: Callable[[str, int | None], bytes], pki_trust: TrustStore
) -> None:
    """Freeing any other object of the signed revision (here the page's content stream,
    still referenced: a viewer shows an empty page) stays a change Kho cannot explain, or
    worse."""
    data = signed("plain", 3)
    reader = PdfFileReader(BytesIO(data))
    contents = reader.root["/Pages"]["/Kids"][0].raw_get("/Contents").reference
    writer = IncrementalPdfFileWriter(BytesIO(data))
    writer.root[N("/Lang")] = generic.TextStringObject("vi")
    writer.update_root()
    mutant = _free_in_last_xref(_written(writer), contents)
    for reader_name in READERS:
        result = _verify(mutant, pki_trust, reader_name)
        assert result.verdict.indication is not Indication.TOTAL_PASSED, result.verdict
        assert result.signatures[0].modification_level == "OTHER"


@pytest.mark.parametrize(
    ("subtype", "extra"),
    [
        ("/Link", {N("/A"): generic.DictionaryObject({
            N("/S"): N("/URI"), N("/URI"): generic.TextStringObject("https://example.invalid")
        })}),
        ("/Widget", {N("/FT"): N("/Btn"), N("/T"): generic.TextStringObject("Nut"),
                     N("/A"): generic.DictionaryObject({
                         N("/S"): N("/JavaScript"), N("/JS"): generic.TextStringObject("app.alert(1)")
                     })}),
    ],
    ids=["link", "widget"],
)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_new_annotation_with_an_action_is_not_cleared(
    signed: Callable[[str, int | None], bytes], pki_trust: TrustStore, reader: str,
    subtype: str, extra: dict[str, generic.PdfObject],
) -> None:
    """DSS's default policy calls these annotation changes (passing at P=3 and without
    certification); Kho is stricter on purpose: an action runs when clicked, no rule clears
    it, a person looks (INDETERMINATE). Under P=1/P=2 an added annotation that is no form
    field is an annotation change DocMDP forbids, cleared or not: TOTAL-FAILED as in DSS. A
    new widget may be a form field (DSS's form-fill class): undecided there, never passed."""
    for level in LEVELS:
        result = _verify(_add_annotation(signed("plain", level), subtype, extra), pki_trust, reader)
        assert result.verdict.indication is not Indication.TOTAL_PASSED, (level, result.verdict)
        assert result.signatures[0].modification_level == "OTHER"
        assert result.signatures[0].modifications_permitted is False
        if level in (1, 2) and subtype != "/Widget":
            assert _verdict(result) == FAILED, (level, result.verdict)
            assert f"DocMDP mức {level}" in result.verdict.explanation
        else:
            assert _verdict(result) == UNEXPLAINED, (level, result.verdict)


def test_the_freed_entry_is_where_the_test_puts_it(
    signed: Callable[[str, int | None], bytes],
) -> None:
    data, ref = _drop_comment(signed("comment", None))
    freed = _free_in_last_xref(data, ref)
    reader = PdfFileReader(BytesIO(freed), strict=True)
    last = reader.xrefs.total_revisions - 1
    assert {r.idnum for r in reader.xrefs.refs_freed_in_revision(last)} == {ref.idnum}
    assert re.search(rb"\d+ 1\n0000000000 00001 f\r\n", freed[-2000:])


def _with_comment_as_resource(data: bytes) -> bytes:
    """A comment on page 1 whose dictionary is also the page's graphics state /GSC (alpha 1):
    freeing the "comment" after signing would change how the page is drawn."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref, page = _page(writer)
    annot = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Square"), N("/Rect"): _floats(20, 20, 70, 70),
        N("/CA"): generic.FloatObject(1), N("/ca"): generic.FloatObject(1),
    }))
    page[N("/Annots")] = generic.ArrayObject([annot])
    resources = page["/Resources"]
    states = resources.get("/ExtGState") or generic.DictionaryObject()
    states[N("/GSC")] = annot
    resources[N("/ExtGState")] = states
    if isinstance(page.raw_get("/Resources"), generic.IndirectObject):
        writer.mark_update(page.raw_get("/Resources"))
    writer.mark_update(page_ref)
    return _written(writer)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_freed_comment_that_is_also_used_elsewhere_is_not_cleared(
    pki: TestPKI, bases: dict[str, bytes], pki_trust: TrustStore, reader: str
) -> None:
    data = sign_with_docmdp(_with_comment_as_resource(bases["plain"]), pki, None)
    assert _verdict(_verify(data, pki_trust, reader)) == PASSED
    result = _verify(_remove_comment_freed(data), pki_trust, reader)
    assert result.verdict.indication is not Indication.TOTAL_PASSED, result.verdict
    assert result.signatures[0].modification_level == "OTHER"
    # dropped from /Annots only (the object stays): a comment removal like any other
    assert _verdict(_verify(_drop_comment(data)[0], pki_trust, reader)) == PASSED
