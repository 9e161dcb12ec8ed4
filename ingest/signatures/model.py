"""Verification results: frozen dataclasses that round-trip through JSON.

A :class:`PdfVerification` is stored as JSON beside the record (``to_dict`` / ``from_dict``);
the field names are part of that stored format, so rename nothing without a migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from repository.formats import as_dict

SCHEMA_VERSION = 2
"""1: the first stored shape. 2: adds ``document_findings`` and ``appended_bytes`` (a version 1
result is read with none and ``None``: it was not checked)."""


class Indication(StrEnum):
    """ETSI EN 319 102-1 main indications, plus ``NO_SIGNATURE`` for a file without any."""

    TOTAL_PASSED = "TOTAL-PASSED"
    TOTAL_FAILED = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"
    NO_SIGNATURE = "NO_SIGNATURE"


class SignerKind(StrEnum):
    """Who the certificate belongs to (NĐ 30/2020 Điều 5: person and agency both sign)."""

    PERSONAL = "personal"  # chữ ký số của người có thẩm quyền
    ORGANISATION = "organisation"  # chữ ký số của cơ quan, tổ chức (con dấu)
    UNKNOWN = "unknown"


class SignatureType(StrEnum):
    SIGNATURE = "signature"
    DOCUMENT_TIMESTAMP = "document_timestamp"


@dataclass(frozen=True)
class Verdict:
    """An ETSI AdES indication, its sub-indication and the explanation for people."""

    indication: Indication
    sub_indication: str | None
    explanation: str  # Vietnamese, for people

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": self.indication.value,
            "sub_indication": self.sub_indication,
            "explanation": self.explanation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(Indication(data["indication"]), data["sub_indication"], data["explanation"])


@dataclass(frozen=True)
class CertificateInfo:
    """What a report shows of one certificate (the signer's): names, serial, issuer, validity,
    fingerprint."""

    subject: str  # RFC 4514-like, human readable
    common_name: str | None
    organisation: str | None
    organisational_unit: str | None
    title: str | None
    locality: str | None
    email: str | None
    user_id: str | None  # VN certs: "MST:...", "CMND:...", "CCCD:..."
    serial_hex: str
    issuer: str
    issuer_common_name: str | None
    not_before: str  # ISO 8601 UTC
    not_after: str
    sha256: str


@dataclass(frozen=True)
class TimestampInfo:
    """The RFC 3161 signature timestamp embedded in a signature (unsigned attribute)."""

    time: str | None  # ISO 8601 UTC (genTime)
    intact: bool
    valid: bool
    trusted: bool
    problem: str | None  # AdES sub-indication of the timestamp's own validation
    tsa: str | None


@dataclass(frozen=True)
class SignatureReport:
    """The verification of one signature (or document timestamp) of a PDF."""

    field_name: str
    type: SignatureType
    verdict: Verdict
    findings: tuple[str, ...]  # every problem found, Vietnamese, most serious first
    signer: CertificateInfo | None
    signer_kind: SignerKind
    intact: bool | None  # digest over /ByteRange matches
    valid: bool | None  # cryptographic signature check
    # path to an anchor in the trust store, and no finding of Kho's against the certificate
    # (rules.certificate_identifies_signer): the signer's name may be taken as who signed
    trusted: bool | None
    trust_problem: str | None
    coverage: str | None  # ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCK_FROM_START, UNCLEAR
    modification_level: str | None  # NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER
    modifications_permitted: bool | None
    docmdp_permission: int | None  # certification signature: 1, 2 or 3
    signed_revision: int | None
    digest_algorithm: str | None
    signature_mechanism: str | None
    signing_time: str | None  # as claimed by the signer (signingTime or /M), ISO 8601 UTC
    timestamp: TimestampInfo | None
    revocation_data_embedded: bool
    chain: tuple[str, ...]  # subjects from the signer to the anchor, when a path was built

    def to_dict(self) -> dict[str, Any]:
        # as_dict, not dataclasses.asdict: the same values without deep-copying every string
        # (asdict's copies were ~0.15 ms of a 2-signature document, in the verification worker
        # and again in the bulk worker)
        data = as_dict(self)
        data["type"] = self.type.value
        data["signer_kind"] = self.signer_kind.value
        data["verdict"] = self.verdict.to_dict()
        data["findings"] = list(self.findings)
        data["chain"] = list(self.chain)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignatureReport:
        """The inverse of :meth:`to_dict`: plain fields as stored, the rest rebuilt."""
        values = {f.name: data[f.name] for f in fields(cls)}
        signer, timestamp = values["signer"], values["timestamp"]
        values.update(
            type=SignatureType(values["type"]),
            verdict=Verdict.from_dict(values["verdict"]),
            findings=tuple(values["findings"]),
            signer=CertificateInfo(**signer) if signer else None,
            signer_kind=SignerKind(values["signer_kind"]),
            timestamp=TimestampInfo(**timestamp) if timestamp else None,
            chain=tuple(values["chain"]),
        )
        return cls(**values)


@dataclass(frozen=True)
class Nd30Check:
    """NĐ 30/2020 Điều 5 (and Điều 32 k2 d): signer's and agency's signature, agency last."""

    has_personal: bool
    has_organisation: bool
    organisation_after_personal: bool
    ok: bool
    message: str  # Vietnamese


@dataclass(frozen=True)
class PdfVerification:
    """The verification of a whole PDF: its verdict, every signature's report, NĐ 30/2020's
    check."""

    verdict: Verdict
    signatures: tuple[SignatureReport, ...]
    nd30: Nd30Check
    summary: str  # Vietnamese, one paragraph for people
    return_reason: str | None  # set when the văn thư should return (trả lại) the document
    sha256: str
    validated_at: str  # ISO 8601 UTC
    trust_store: str  # fingerprint of the trust store used
    offline: bool
    document_findings: tuple[str, ...] = ()
    """What the checks of the whole document found (Vietnamese): revisions after signing that
    only lenient reading could read, a viewer showing other pages or content than what was
    signed, bytes after the last ``%%EOF``."""
    appended_bytes: int | None = 0
    """Bytes after the last ``%%EOF`` other than line ends (``None``: not checked, version 1)."""
    schema_version: int = field(default=SCHEMA_VERSION)

    @property
    def passed(self) -> bool:
        return self.verdict.indication is Indication.TOTAL_PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "verdict": self.verdict.to_dict(),
            "signatures": [s.to_dict() for s in self.signatures],
            "nd30": as_dict(self.nd30),
            "summary": self.summary,
            "return_reason": self.return_reason,
            "sha256": self.sha256,
            "validated_at": self.validated_at,
            "trust_store": self.trust_store,
            "offline": self.offline,
            "document_findings": list(self.document_findings),
            "appended_bytes": self.appended_bytes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PdfVerification:
        """Read any stored version; older ones are upcast to the current shape."""
        version = int(data.get("schema_version", 1))
        if version > SCHEMA_VERSION:
            raise ValueError(f"signature result format {version} is newer than this Kho")
        return cls(
            verdict=Verdict.from_dict(data["verdict"]),
            signatures=tuple(SignatureReport.from_dict(s) for s in data["signatures"]),
            nd30=Nd30Check(**data["nd30"]),
            summary=data["summary"],
            return_reason=data["return_reason"],
            sha256=data["sha256"],
            validated_at=data["validated_at"],
            trust_store=data["trust_store"],
            offline=data["offline"],
            document_findings=tuple(data.get("document_findings", ())),
            appended_bytes=data["appended_bytes"] if version >= 2 else None,
            schema_version=SCHEMA_VERSION,
        )
