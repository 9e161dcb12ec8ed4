"""PDF signature verification (PAdES) with pyHanko: ETSI AdES verdicts in Vietnamese.

Public API::

    trust = TrustStore.from_dir(path)
    result = verify_pdf(data, trust, allow_fetching=False)   # -> PdfVerification
    result.to_dict() / PdfVerification.from_dict(...)

The names are imported on first use (PEP 562): a bulk import's parent and its workers need the
verdict model, the rules and the trust store, not pyHanko's validation stack (``verify``),
which only a verification worker runs. :mod:`._lazy_pyhanko` is still imported first, so every
module of this package sees the same asn1crypto tables as stock pyHanko.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ingest.signatures import _lazy_pyhanko  # noqa: F401 - before any pyHanko import

if TYPE_CHECKING:
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

_EXPORTS = {
    "CertificateInfo": "model",
    "Indication": "model",
    "Nd30Check": "model",
    "PdfVerification": "model",
    "SignatureReport": "model",
    "SignatureType": "model",
    "SignerKind": "model",
    "TimestampInfo": "model",
    "Verdict": "model",
    "TrustStore": "trust",
    "verify_pdf": "verify",
}
"""Public name -> the submodule that defines it."""

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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
