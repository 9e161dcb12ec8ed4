"""An XMP metadata stream that is not well-formed XML does not make a document "changed
after signing" (a real ministry PDF was a false alarm); it stays only an update of the
catalog's /Metadata, so it cannot carry other changes with it."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest.signatures import Indication, TrustStore, verify_pdf
from ingest.testpki import TestPKI, make_variant


def _with_metadata(signed: bytes, xmp: bytes, *, also_page_text: bytes | None = None) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    stream = generic.StreamObject({
        "/Type": generic.NameObject("/Metadata"), "/Subtype": generic.NameObject("/XML"),
    }, stream_data=xmp)
    writer.root["/Metadata"] = writer.add_object(stream)
    writer.update_root()
    if also_page_text is not None:
        page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=also_page_text))
        writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)


@pytest.mark.parametrize("xmp", [b"", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF", b"\xff\xfe garbage"])
def test_an_unparseable_xmp_update_is_an_allowed_change(
    signed: bytes, pki_trust: TrustStore, xmp: bytes
) -> None:
    result = verify_pdf(_with_metadata(signed, xmp), pki_trust)
    assert result.verdict.indication is Indication.TOTAL_PASSED, result.verdict
    assert result.signatures[0].modification_level == "LTA_UPDATES"


def test_an_unparseable_xmp_does_not_cover_a_content_change(signed: bytes, pki_trust: TrustStore) -> None:
    changed = _with_metadata(signed, b"", also_page_text=b"BT /F1 24 Tf 72 700 Td (SUA) Tj ET")
    result = verify_pdf(changed, pki_trust)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == "FORMAT_FAILURE"


def test_the_ministry_pdf_with_an_empty_signed_xmp_is_no_longer_called_modified(corpus_pdf_dir: Path) -> None:
    data = (corpus_pdf_dir / "vn-gov__19-bkhcn.pdf").read_bytes()
    result = verify_pdf(data, TrustStore.from_dir(corpus_pdf_dir / "trust"))
    first = result.signatures[0]
    assert first.modification_level == "FORM_FILLING"
    assert first.verdict.sub_indication != "SIG_CONSTRAINTS_FAILURE"
    assert result.verdict.indication is not Indication.TOTAL_PASSED  # its seal CA is not shipped
