"""Changes that DSS calls TOTAL_FAILED are TOTAL-FAILED here too, not INDETERMINATE: a page
removed after signing, page content replaced after signing, a corrupted signed revision."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest.signatures import Indication, TrustStore, verify_pdf
from ingest.testpki import TestPKI, make_variant, tamper


@pytest.fixture(scope="module")
def two_pages(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki, pages=2)


def _update(signed: bytes, change: str) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    pages_ref = writer.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    if change == "remove-page":
        del pages["/Kids"][-1]
        pages["/Count"] = generic.NumberObject(int(pages["/Count"]) - 1)
        writer.mark_update(pages_ref)
    else:
        page_ref = pages["/Kids"].raw_get(0)
        page_ref.get_object()["/Contents"] = writer.add_object(
            generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 600 Td (KHONG) Tj ET")
        )
        writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("change", ["remove-page", "replace-content"])
def test_a_visible_change_after_signing_fails(two_pages: bytes, pki_trust: TrustStore, change: str) -> None:
    assert verify_pdf(two_pages, pki_trust).verdict.indication is Indication.TOTAL_PASSED
    result = verify_pdf(_update(two_pages, change), pki_trust)
    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED, "FORMAT_FAILURE"
    ), result.verdict
    assert "khác với phiên bản đã ký" in result.verdict.explanation


def test_a_corrupted_signed_revision_fails(two_pages: bytes, pki_trust: TrustStore) -> None:
    result = verify_pdf(tamper(two_pages), pki_trust)
    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED, "HASH_FAILURE"
    )
