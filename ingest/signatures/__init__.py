"""PDF signature verification (PAdES) with pyHanko: ETSI AdES verdicts in Vietnamese.

Public API::

    trust = TrustStore.from_dir(path)
    result = verify_pdf(data, trust, allow_fetching=False)   # -> PdfVerification
    result.to_dict() / PdfVerification.from_dict(...)
"""

from ingest.signatures import _lazy_pyhanko  # noqa: F401 - before any pyHanko import
from ingest.signatures.model import (
    CertificateInfo,
    Indication,
    Nd30Check,
    PdfVerification,
    SignatureReport,
    SignatureType,
    SignerKind,
    TimestampInfo,
    Verdict,
)
from ingest.signatures.trust import TrustStore
from ingest.signatures.verify import verify_pdf

__all__ = [
    "CertificateInfo",
    "Indication",
    "Nd30Check",
    "PdfVerification",
    "SignatureReport",
    "SignatureType",
    "SignerKind",
    "TimestampInfo",
    "TrustStore",
    "Verdict",
    "verify_pdf",
]
