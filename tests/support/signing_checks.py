"""pyHanko validation helpers for the signing tests (offline, test root only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from ingest.testpki import FIXTURE_TIME, TestPKI

VALIDATION_TIME = FIXTURE_TIME + timedelta(hours=2)
"""Frozen validation time: after both fixture signatures, inside every certificate's window."""


@dataclass(frozen=True)
class Checked:
    field_name: str
    signer_cn: str
    status: PdfSignatureStatus


def validate_all(data: bytes, pki: TestPKI) -> list[Checked]:
    """Validate every signature offline against the test root only, at the frozen time.

    Revocation data comes from the document's DSS when there is one (soft-fail otherwise).
    """
    reader = PdfFileReader(BytesIO(data))
    settings = {
        "trust_roots": [pki.root.cert],
        "allow_fetching": False,
        "moment": VALIDATION_TIME,
        "revocation_mode": "soft-fail",
    }
    try:
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(settings)
    except NoDSSFoundError:
        context = ValidationContext(**settings)
    ts_context = ValidationContext(
        trust_roots=[pki.root.cert], allow_fetching=False, moment=VALIDATION_TIME
    )
    return [
        Checked(
            sig.field_name,
            sig.signer_cert.subject.native["common_name"],
            validate_pdf_signature(sig, context, ts_validation_context=ts_context),
        )
        for sig in reader.embedded_signatures
    ]
