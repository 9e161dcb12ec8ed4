"""A change to a form field the signer locked (FieldMDP) is a failure, not doubt (rv25).

A signature may lock form fields (ISO 32000-2 12.7.5.5 ``/Lock``, 12.8.2.4 the FieldMDP
transform in the signature reference): the signer states that those fields shall not change
after signing. Filling a locked field afterwards is a modification against the signer's
stated permission, proven by pyHanko's difference analysis in the same way a DocMDP breach
is, and Kho treats both alike: TOTAL-FAILED/FORMAT_FAILURE (ETSI EN 319 102-1: the signed
data object was changed as the signature's own constraints forbid; PAdES ETSI EN 319 142-1
5.4 places FieldMDP beside DocMDP). Before rv25 the breach was INDETERMINATE, "cannot tell
whether the change is permitted", although the signature itself says it is not.

Real pyHanko signing with the test PKI over a real unsigned corpus PDF (read where it
lies); fast and stock readers.
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

from ingest.signatures import Indication, PdfVerification, TrustStore, rules
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, timestamper

N = generic.NameObject
READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
UNSIGNED = "vn-gov__1.-du-thao-1_thong-tu_2609.pdf"  # a real draft circular, no signature
# blank bands of its first page (rendered and checked: no ink there)
RECTS = {"SoVanBan": (300.0, 800.0, 500.0, 824.0), "GhiChu": (40.0, 20.0, 300.0, 44.0)}


def _floats(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _with_text_fields(data: bytes) -> bytes:
    """Two empty text fields on page 1, in blank bands of the page."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    helv = writer.add_object(
        generic.DictionaryObject(
            {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N("/Helvetica")}
        )
    )
    widgets = [
        writer.add_object(
            generic.DictionaryObject(
                {
                    N("/Type"): N("/Annot"),
                    N("/Subtype"): N("/Widget"),
                    N("/FT"): N("/Tx"),
                    N("/T"): generic.TextStringObject(name),
                    N("/F"): generic.NumberObject(4),
                    N("/P"): page_ref,
                    N("/Rect"): _floats(*rect),
                    N("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
                }
            )
        )
        for name, rect in RECTS.items()
    ]
    annots = page.get("/Annots", generic.ArrayObject())
    page[N("/Annots")] = generic.ArrayObject([*annots, *widgets])
    writer.mark_update(page_ref)
    writer.root[N("/AcroForm")] = generic.DictionaryObject(
        {
            N("/Fields"): generic.ArrayObject(widgets),
            N("/DR"): generic.DictionaryObject({N("/Font"): generic.DictionaryObject({N("/Helv"): helv})}),
        }
    )
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _sign_locking(data: bytes, pki: TestPKI, lock: fields.FieldMDPSpec) -> bytes:
    """An approval signature in a new invisible field that locks ``lock``'s fields."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=fields.SigSeedSubFilter.PADES)
    signer = signers.PdfSigner(
        meta,
        pki.personal.pyhanko_signer(),
        timestamper=timestamper(pki, FIXTURE_TIME),
        new_field_spec=fields.SigFieldSpec("Sig1", field_mdp_spec=lock),
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(writer, output=out))
    return out.getvalue()


def _fill(data: bytes, name: str, value: str) -> bytes:
    """Fill text field ``name`` after signing: its value and an appearance showing it."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        if widget.get("/T") == name:
            break
    else:
        raise AssertionError(f"no field {name}")
    x1, y1, x2, y2 = RECTS[name]
    helv = writer.root["/AcroForm"]["/DR"]["/Font"].raw_get("/Helv")
    appearance = writer.add_object(
        generic.StreamObject(
            {
                N("/Type"): N("/XObject"),
                N("/Subtype"): N("/Form"),
                N("/BBox"): _floats(0, 0, x2 - x1, y2 - y1),
                N("/Resources"): generic.DictionaryObject(
                    {N("/Font"): generic.DictionaryObject({N("/Helv"): helv})}
                ),
            },
            stream_data=b"/Tx BMC BT /Helv 12 Tf 2 6 Td (" + value.encode("ascii") + b") Tj ET EMC",
        )
    )
    widget[N("/V")] = generic.TextStringObject(value)
    widget[N("/AP")] = generic.DictionaryObject({N("/N"): appearance})
    writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def form(corpus_pdf_dir: Path) -> bytes:
    return _with_text_fields((corpus_pdf_dir / UNSIGNED).read_bytes())


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


LOCK_NUMBER = fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, ["SoVanBan"])
LOCK_ALL = fields.FieldMDPSpec(fields.FieldMDPAction.ALL)
LOCK_ALL_BUT_NOTE = fields.FieldMDPSpec(fields.FieldMDPAction.EXCLUDE, ["GhiChu"])


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("lock", "field"),
    [(LOCK_NUMBER, "SoVanBan"), (LOCK_ALL, "GhiChu"), (LOCK_ALL_BUT_NOTE, "SoVanBan")],
    ids=["include", "all", "exclude"],
)
def test_filling_a_field_the_signer_locked_fails(
    form: bytes,
    pki: TestPKI,
    pki_trust: TrustStore,
    lock: fields.FieldMDPSpec,
    field: str,
    reader: str,
) -> None:
    forged = _fill(_sign_locking(form, pki, lock), field, "99/QD-GIAMAO")

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert f"Trường biểu mẫu {field} đã bị khóa" in result.verdict.explanation
    signature = result.signatures[0]
    assert signature.verdict.indication is Indication.TOTAL_FAILED
    assert signature.modifications_permitted is False
    assert "Hợp lệ" not in result.summary and "hợp lệ" not in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_filling_a_field_the_lock_leaves_open_still_passes(
    form: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    filled = _fill(_sign_locking(form, pki, LOCK_NUMBER), "GhiChu", "Da xem")

    result = _verify(filled, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.signatures[0].modification_level == "FORM_FILLING"


@pytest.mark.parametrize("reader", READERS)
def test_a_field_filled_before_the_locking_signature_is_signed_content(
    form: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The lock binds changes after signing, not the value the signer saw and signed."""
    signed = _sign_locking(_fill(form, "SoVanBan", "12/QD-UBND"), pki, LOCK_NUMBER)

    result = _verify(signed, pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED


def test_the_rule_fails_a_broken_lock_and_shows_the_field_name_escaped() -> None:
    """The pure rule: proof, not doubt, and a field name (the document's own text) cannot
    hide what it is (a right-to-left override is shown as its code)."""
    facts = rules.SignatureFacts(
        intact=True,
        valid=True,
        coverage="ENTIRE_REVISION",
        modifications_explained=False,
        modification_detail="Update of Reference(idnum=9) is not allowed",
        locked_field_changed="So\u202eVanBan",
    )

    verdict, findings = rules.signature_verdict(facts)

    assert (verdict.indication, verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
    assert "So\\u202EVanBan" in verdict.explanation and "\u202e" not in verdict.explanation
    assert not any("không xác định được đó là thay đổi được phép" in f for f in findings)
    assert rules.evidence_outcome(rules.Evidence.FIELD_LOCK_BREACHED) is Indication.TOTAL_FAILED
