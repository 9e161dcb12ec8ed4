"""``/NeedAppearances`` turned on after signing does not pass (rv30).

A shadow attack on form fields: before signing, a text field is given a value ("999/QD-GIAMAO")
unlike its appearance ("123/QD-UBND"); the signer sees and signs the appearance. After signing,
one update sets the interactive form's ``/NeedAppearances`` true: viewers then draw each field
from its value (pdfium does: checked by rendering, the field shows "999/QD-GIAMAO"), although
no signed object changed. Before rv30: TOTAL-PASSED. Now doubt, INDETERMINATE, named (a tool
filling a form may also set the entry; ISO 32000-2 12.7.3 deprecates it). Set already when
the signer signed, it is what the signer saw.

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
from tests.signatures.test_sig_field_lock_rv25 import (
    READERS,
    UNSIGNED,
    _fill,
    _verify,
    _with_text_fields,
)
from tests.signatures.test_sig_picture_only_rv25 import _sign as _sign_field

N = generic.NameObject


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _prepared(data: bytes) -> bytes:
    """Field SoVanBan with the value "999/QD-GIAMAO" and an appearance showing "123/QD-UBND"."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    form = writer.root["/AcroForm"]
    helv = form["/DR"]["/Font"].raw_get("/Helv")
    for ref in form["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == "SoVanBan":
            shown = writer.add_object(
                generic.StreamObject(
                    {
                        N("/Type"): N("/XObject"),
                        N("/Subtype"): N("/Form"),
                        N("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, 200, 24)]),
                        N("/Resources"): generic.DictionaryObject(
                            {N("/Font"): generic.DictionaryObject({N("/Helv"): helv})}
                        ),
                    },
                    stream_data=b"/Tx BMC BT /Helv 12 Tf 2 6 Td (123/QD-UBND) Tj ET EMC",
                )
            )
            field[N("/V")] = generic.TextStringObject("999/QD-GIAMAO")
            field[N("/AP")] = generic.DictionaryObject({N("/N"): shown})
            writer.mark_update(ref)
    return _written(writer)


def _need_appearances(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    writer.root["/AcroForm"][N("/NeedAppearances")] = generic.BooleanObject(True)
    writer.update_root()
    return _written(writer)


def _sign(data: bytes, pki: TestPKI) -> bytes:
    return _sign_field(data, pki, "Sig1")


@pytest.fixture(scope="module")
def prepared(corpus_pdf_dir: Path) -> bytes:
    return _prepared(_with_text_fields((corpus_pdf_dir / UNSIGNED).read_bytes()))


@pytest.mark.parametrize("reader", READERS)
def test_need_appearances_set_after_signing_does_not_pass(
    prepared: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    forged = _need_appearances(_sign(prepared, pki))

    result = _verify(forged, pki_trust, reader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert "/NeedAppearances" in result.verdict.explanation
    assert not result.summary.startswith("Hợp lệ")


@pytest.mark.parametrize("reader", READERS)
def test_need_appearances_the_signer_signed_with_passes(
    prepared: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    result = _verify(_sign(_need_appearances(prepared), pki), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_form_filling_after_signing_without_it_still_passes(
    corpus_pdf_dir: Path, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    signed = _sign(_with_text_fields((corpus_pdf_dir / UNSIGNED).read_bytes()), pki)

    result = _verify(_fill(signed, "GhiChu", "Da xem"), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert not result.document_findings
