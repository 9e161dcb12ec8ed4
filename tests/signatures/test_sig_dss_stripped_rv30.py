"""Revocation data dropped from the DSS after signing still counts (rv30).

The signer's certificate was revoked (2025-09-01, key compromise) before the signature's
trusted time-stamp (2025-11-30); the CA's CRL and a "revoked" OCSP response were embedded in
the document's DSS by the update after the signature (as LTV tools do). With them Kho says
TOTAL-FAILED/REVOKED. An update that empties or drops the DSS (pyHanko classes it as an LTA
update) left Kho without the evidence: offline, on main, **TOTAL-PASSED** "Hợp lệ". The DSS
of every earlier revision is now read too: revocation data signs itself, so what the document
once carried can add evidence, never forge it.

Real pyHanko signing with the test PKI (its revoked identity, its CRL and OCSP responses);
fast and stock readers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import Indication, TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import REVOCATION_TIME, TestPKI, document_for, sign_as

N = generic.NameObject
READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
SIGNED_AT = REVOCATION_TIME + timedelta(days=90)


def _without_dss(data: bytes, *, empty: bool) -> bytes:
    """An update after signing whose catalog has an empty DSS (``empty``) or none."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    if empty:
        writer.root[N("/DSS")] = generic.DictionaryObject({N("/Type"): N("/DSS")})
    else:
        del writer.root["/DSS"]
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def revoked(pki: TestPKI) -> bytes:
    signed = sign_as(
        document_for(pki.revoked_personal).data,
        pki,
        pki.revoked_personal,
        at=SIGNED_AT,
        embed_revocation=True,
    )
    assert "/DSS" in PdfFileReader(BytesIO(signed)).root  # the evidence is there
    return signed


@pytest.mark.parametrize("reader", READERS)
def test_a_signature_proven_revoked_fails(revoked: bytes, pki_trust: TrustStore, reader: str) -> None:
    result = _verify_pdf(revoked, pki_trust, False, MOMENT, READERS[reader])

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "REVOKED",
    )


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("empty", [True, False], ids=["emptied", "dropped"])
def test_dropping_the_revocation_data_after_signing_does_not_make_it_pass(
    revoked: bytes, pki_trust: TrustStore, reader: str, empty: bool
) -> None:
    result = _verify_pdf(_without_dss(revoked, empty=empty), pki_trust, False, MOMENT, READERS[reader])

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "REVOKED",
    )
    assert result.signatures[0].revocation_data_embedded is True


@pytest.mark.parametrize("reader", READERS)
def test_a_good_signature_whose_dss_was_emptied_still_passes(
    pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=SIGNED_AT, embed_revocation=True)

    result = _verify_pdf(_without_dss(signed, empty=True), pki_trust, False, MOMENT, READERS[reader])

    assert result.verdict.indication is Indication.TOTAL_PASSED
