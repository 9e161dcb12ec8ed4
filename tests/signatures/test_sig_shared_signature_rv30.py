"""One signature held by two signature fields is counted once and named (rv30).

ISO 32000-2 12.7.5.5 / 12.8: a signature is the value (``/V``) of its signature field. An
update after signing that adds a second field whose ``/V`` is the same signature dictionary
makes a viewer list (and, with a visible widget, show) the one signature twice, possibly on a
page the signer never signed. Before rv30 Kho verified the signature once per field and showed
"Số chữ ký: 2" (pyHanko's difference analysis already withheld the pass). Now each signature
dictionary is verified and counted once (the field written first is the signer's) and the
second field is a named finding: doubt, INDETERMINATE (the signed bytes are intact; what a
person sees claims more than was signed).

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
from tests.signatures.test_sig_picture_only_rv25 import (  # the same draft, signed the same way
    READERS,
    UNSIGNED,
    _sign,
    _verify,
)

N = generic.NameObject


def _second_field(data: bytes, *, first: bool = False, page: int = 0) -> bytes:
    """An update adding field ``Sig2`` whose value is Sig1's signature dictionary, with a
    visible widget on page ``page`` (``first``: listed before Sig1 in ``/Fields``)."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    form = writer.root["/AcroForm"]
    listed = form["/Fields"]
    original = next(ref.get_object() for ref in listed if ref.get_object().get("/T") == "Sig1")
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(page)
    widget = writer.add_object(
        generic.DictionaryObject(
            {
                N("/Type"): N("/Annot"),
                N("/Subtype"): N("/Widget"),
                N("/FT"): N("/Sig"),
                N("/T"): generic.TextStringObject("Sig2"),
                N("/F"): generic.NumberObject(4),
                N("/P"): page_ref,
                N("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (40, 1, 170, 66)]),
                N("/V"): original.raw_get("/V"),
            }
        )
    )
    page_dict = page_ref.get_object()
    page_dict[N("/Annots")] = generic.ArrayObject([*page_dict.get("/Annots", ()), widget])
    writer.mark_update(page_ref)
    if first:
        listed.insert(0, widget)
    else:
        listed.append(widget)
    raw = form.raw_get("/Fields")
    writer.mark_update(raw if isinstance(raw, generic.IndirectObject) else writer.root.raw_get("/AcroForm"))
    if not isinstance(writer.root.raw_get("/AcroForm"), generic.IndirectObject):
        writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(corpus_pdf_dir: Path, pki: TestPKI) -> bytes:
    return _sign((corpus_pdf_dir / UNSIGNED).read_bytes(), pki, "Sig1")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("first", [False, True], ids=["listed-after", "listed-before"])
def test_a_second_field_holding_the_same_signature_is_counted_once_and_named(
    signed: bytes, pki_trust: TrustStore, reader: str, first: bool
) -> None:
    forged = _second_field(signed, first=first)

    result = _verify(forged, pki_trust, reader)

    assert [s.field_name for s in result.signatures] == ["Sig1"]  # the signer's field
    assert "Số chữ ký: 1." in result.summary
    assert result.verdict.indication is Indication.INDETERMINATE
    assert any("Sig2 dùng chữ ký của Sig1" in finding for finding in result.document_findings)


@pytest.mark.parametrize("reader", READERS)
def test_two_real_signatures_are_still_two(
    signed: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    result = _verify(_sign(signed, pki, "Sig2", organisation=True), pki_trust, reader)

    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert [s.field_name for s in result.signatures] == ["Sig1", "Sig2"]
    assert "Số chữ ký: 2." in result.summary
    assert not result.document_findings


@pytest.mark.parametrize("reader", READERS)
def test_two_fields_the_signer_signed_with_one_signature_count_once_without_a_finding(
    corpus_pdf_dir: Path, corpus_trust: TrustStore, reader: str
) -> None:
    """DSS's own test file: both fields in the signed revision (the signer's tool wrote them;
    DSS reports one signature with two field names). One signature, no tamper finding, the
    verdict as before (untrusted here)."""
    data = (corpus_pdf_dir / "dss__signature-referenced-from-multiple-fields.pdf").read_bytes()

    result = _verify(data, corpus_trust, reader)

    assert [s.field_name for s in result.signatures] == ["signature-test"]
    assert "Số chữ ký: 1." in result.summary
    assert not result.document_findings
    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "NO_CERTIFICATE_CHAIN_FOUND",
    )
