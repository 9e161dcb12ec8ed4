"""f4: a document time-stamp names no signer and no sending agency.

A PAdES document time-stamp (/DocTimeStamp, PAdES-LTA) is signed by a time-stamping
authority: its certificate says who vouches for the *time*, not who wrote or sent the
document. ``names_its_signer`` took every intact, valid, trusted report, so the TSA's O
("Kho Test Ban Cơ yếu" here; the operator of a real TSA) became one of the agencies ingest
stores, and the metadata gate accepted a văn bản đến typed as sent by the TSA's operator,
for any time-stamped PDF. Real signing, real TSA of the test PKI."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

from ingest import testpki
from ingest.pipeline import names_its_signer, signing_agencies, signing_people
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import PdfVerification, SignatureType
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import TestPKI
from repository.registration import SealAgency, seal_names_sender

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _time_stamped(data: bytes, pki: TestPKI) -> bytes:
    out = BytesIO()
    PdfTimeStamper(testpki.timestamper(pki, testpki.FIXTURE_TIME)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(data)), "sha256", output=out
    )
    return out.getvalue()


def _agencies(result: PdfVerification) -> list[SealAgency]:
    stored = signing_agencies(result.signatures)["agencies"]
    return [a for a in (SealAgency.of(i) for i in stored) if a is not None]


def test_a_document_time_stamp_alone_names_no_agency(pki: TestPKI, pki_trust: TrustStore) -> None:
    data = _time_stamped(testpki.document_for(pki.personal).data, pki)

    result = _verify_pdf(data, pki_trust, False, NOW, CachingPdfReader)

    (stamp,) = result.signatures
    assert stamp.type is SignatureType.DOCUMENT_TIMESTAMP
    assert stamp.intact and stamp.valid and stamp.trusted  # a good time-stamp...
    assert not names_its_signer(stamp)  # ...that says nothing about the sender
    assert _agencies(result) == []
    assert signing_people(result.signatures) == []
    assert not seal_names_sender(testpki.ISSUER_ORG, _agencies(result)).matches


def test_a_signed_and_time_stamped_document_names_its_signers_agency_only(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    """A personal signature (O: the agency), then a document time-stamp (PAdES-LTA)."""
    document = testpki.document_for(pki.personal).data
    signed = testpki.sign_as(document, pki, pki.personal, at=testpki.FIXTURE_TIME)
    data = _time_stamped(signed, pki)

    result = _verify_pdf(data, pki_trust, False, NOW, CachingPdfReader)

    assert [s.type for s in result.signatures] == [SignatureType.SIGNATURE,
                                                   SignatureType.DOCUMENT_TIMESTAMP]
    agencies = _agencies(result)
    assert [a.name for a in agencies] == [testpki.ORGANISATION_NAME]
    assert not seal_names_sender(testpki.ISSUER_ORG, agencies).matches
    assert seal_names_sender(testpki.ORGANISATION_NAME, agencies).matches
    assert signing_people(result.signatures) == ["Nguyễn Văn An"]
