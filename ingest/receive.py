"""One path for a document (ARCHITECTURE invariant 9): receive → check → suggest → confirm → register.

Every entry — ``kho record create --file``, ``kho ingest`` then ``kho intake confirm``, the API,
the web pages, later edXML — calls :class:`ReceiveService`:

1. :meth:`ReceiveService.receive` runs the ingest pipeline on the file (original stored
   encrypted, text and OCR, signature verdict, suggested metadata, index). The document waits
   in the intake queue, visible to the văn thư who received it and to the văn thư of the agency.
2. :meth:`ReceiveService.review` shows what Kho found: the verdict with its reason, the
   suggested metadata, a duplicate it matches.
3. :meth:`ReceiveService.confirm` takes the văn thư's corrected metadata and registers the
   document (số đến / số đi) through the repository, where the registration rules
   (:mod:`repository.registration`) and the signature gate live: a FAILED signature needs an
   explicit, audited override reason; a duplicate needs a reason to be registered again.
4. :meth:`ReceiveService.return_document` trả lại it instead, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ingest.pipeline import (
    METADATA_DERIVED,
    SIGNATURES_DERIVED,
    Pipeline,
    return_document,
)
from ingest.status import JobState
from kho.errors import Conflict, Duplicate, KhoError, NotFound
from repository.formats import load_derived
from repository.metadata import parse_document
from repository.policy import Action, Role
from repository.records import SYSTEM, Actor, Record, Repository
from repository.registration import split_code
from repository.vocabulary import blank

RECEIVER = Actor(user="kho-receive", source="receive", system=True)
"""Names the person who received a document on its intake record (Kho's own write)."""


@dataclass(frozen=True)
class Review:
    """What a văn thư sees before confirming: the document, its checks and suggestions."""

    record: Record
    signature_verdict: str | None = None
    """TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE, NO_SIGNATURE, or None (not a PDF)."""
    signature_explanation: str | None = None
    return_reason: str | None = None
    """Why Kho would return it: set for TOTAL-FAILED only (NĐ 30 Điều 21 k2,
    :func:`ingest.signatures.rules.return_reason`). INDETERMINATE is undecided, not invalid: Kho
    does not return such a document by itself, and a văn thư who returns it writes the reason
    (:func:`~ingest.signatures.rules.no_return_reason_message`)."""
    suggested: dict[str, Any] = field(default_factory=dict)
    """Metadata suggested from the text, as the fields :meth:`ReceiveService.confirm` takes."""
    confidence: dict[str, float] = field(default_factory=dict)
    duplicate_of: str | None = None
    """An existing, already registered record with the same original (same SHA-256)."""

    @property
    def needs_override(self) -> bool:
        return self.signature_verdict == "TOTAL-FAILED"

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record.to_dict(),
            "signature_verdict": self.signature_verdict,
            "signature_explanation": self.signature_explanation,
            "return_reason": self.return_reason,
            "needs_override": self.needs_override,
            "suggested": self.suggested,
            "confidence": self.confidence,
            "duplicate_of": self.duplicate_of,
        }


# Extracted field → the metadata field a văn thư confirms (Phụ lục VI names).
_SUGGESTION_FIELDS = {
    "loai_van_ban": "type_name",
    "co_quan_ban_hanh": "organ_name",
    "ngay_ban_hanh": "issued_date",
    "trich_yeu": "subject",
    "chuc_vu": "signer_position",
    "nguoi_ky": "signer_full_name",
}


def suggested_metadata(extracted: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """The metadata a văn thư starts from, with the confidence of each suggestion (pure)."""
    values: dict[str, Any] = {}
    confidence: dict[str, float] = {}

    def take(name: str) -> tuple[Any, float]:
        item = extracted.get(name)
        if not isinstance(item, Mapping) or item.get("value") in (None, "", []):
            return None, 0.0
        return item["value"], float(item.get("confidence") or 0.0)

    for source, target in _SUGGESTION_FIELDS.items():
        value, score = take(source)
        if value is not None:
            values[target] = value
            confidence[target] = score
    skh, score = take("so_ky_hieu")
    split = split_code(skh) if isinstance(skh, str) else None
    if split is not None:
        values["code_number"], values["code_notation"] = split.number, split.notation
        confidence["code_number"] = confidence["code_notation"] = score
    return values, confidence


class ReceiveService:
    def __init__(self, repo: Repository, pipeline: Pipeline) -> None:
        self.repo = repo
        self.pipeline = pipeline

    # -- 1. receive -------------------------------------------------------------------------
    def receive(self, content: bytes, filename: str, direction: str, actor: Actor) -> Review:
        """Check and store an arrived file; it then waits for :meth:`confirm`."""
        self.repo.authorize(actor, Action.RECORD_CREATE)
        if direction not in ("den", "di"):
            raise KhoError("Hướng văn bản phải là “den” (đến) hoặc “di” (đi).", code="DIRECTION_INVALID")
        status = self.pipeline.ingest(content, filename, direction)
        if status.state is JobState.FAILED or status.record_id is None:
            raise KhoError(
                status.reason or "Không tiếp nhận được tệp.",
                code=status.reason_code or "INGEST_FAILED",
                job_id=status.job_id,
            )
        record = self.repo.get(status.record_id, actor=SYSTEM)
        if record.state != "intake":
            # The same bytes were received and registered before; show that record only to
            # someone who may see it (holding the same file tells nothing more than that).
            if not self.repo.may_see(actor, record):
                raise Duplicate(
                    "Tệp này đã được tiếp nhận và vào sổ trước đây (bởi đơn vị khác).",
                )
            return self._review(record, duplicate_of=record.record_id)
        if not self.repo.may_see(actor, record):
            # Received by a unit's own văn thư: the document waits in that unit's queue.
            units = tuple(sorted(actor.as_principal.units_with([Role.VAN_THU])))
            record = self.repo.grant(record.record_id, units=units, actor=RECEIVER)
        return self._review(record)

    # -- 2. review --------------------------------------------------------------------------
    def review(self, record_id: str, actor: Actor) -> Review:
        return self._review(self.repo.get(record_id, actor=actor))

    def pending(self, actor: Actor, candidates: Iterable[str] | None = None) -> list[Review]:
        """The intake queue the person may see, oldest first (``candidates``: ids from an index
        query instead of a scan of the store)."""
        queue = self.repo.intake_queue(actor=actor, candidates=candidates)
        return [self._review(record) for record in queue]

    def _derived(self, record_id: str, name: str) -> dict[str, Any]:
        try:
            return load_derived(self.repo.get_derived(record_id, name), name)
        except (NotFound, KhoError, ValueError):
            return {}

    def _review(self, record: Record, duplicate_of: str | None = None) -> Review:
        signatures = self._derived(record.record_id, SIGNATURES_DERIVED)
        verdict = record.extra.get("signature_verdict") or (signatures.get("verdict") or {}).get("indication")
        explanation = (signatures.get("verdict") or {}).get("explanation") or signatures.get("summary")
        suggested, confidence = suggested_metadata(self._derived(record.record_id, METADATA_DERIVED))
        return Review(
            record=record,
            signature_verdict=verdict,
            signature_explanation=explanation,
            return_reason=record.extra.get("signature_return_reason") or signatures.get("return_reason"),
            suggested=suggested,
            confidence=confidence,
            duplicate_of=duplicate_of,
        )

    # -- 3. confirm and register -------------------------------------------------------------
    def confirm(
        self,
        record_id: str,
        metadata: Mapping[str, Any],
        *,
        expected_version: int,
        actor: Actor,
        register: bool = True,
        advisory_body: str | None = None,
        override_reason: str | None = None,
        duplicate_reason: str | None = None,
        use_suggestions: bool = False,
    ) -> Record:
        """Register a received document with the metadata the văn thư confirmed.

        ``use_suggestions`` fills fields the person left out from what Kho suggested.
        A document already registered (the same file received again) is registered as a new
        document only with ``duplicate_reason``.
        """
        record = self.repo.get(record_id, actor=actor)
        values = dict(metadata)
        if use_suggestions:
            values = {**self._review(record).suggested, **values}
        if record.state == "intake":
            return self.repo.complete_intake(
                record_id,
                values,
                expected_version=expected_version,
                actor=actor,
                register=register,
                advisory_body=advisory_body,
                override_reason=override_reason,
                duplicate_reason=duplicate_reason,
            )
        if blank(duplicate_reason):
            raise Duplicate(
                "Tệp này đã được tiếp nhận và vào sổ trước đây. Nếu đây là văn bản gửi lại, hãy ghi lý"
                " do để vào sổ lần nữa.",
                existing_record_id=record_id,
            )
        return self._register_again(
            record, values, actor, register, advisory_body, override_reason, duplicate_reason
        )

    def _register_again(
        self,
        existing: Record,
        metadata: Mapping[str, Any],
        actor: Actor,
        register: bool,
        advisory_body: str | None,
        override_reason: str | None,
        duplicate_reason: str,
    ) -> Record:
        """A re-sent document: a new record with the same original and the verdict of the first."""
        stored, content = self.repo.read_content(existing.record_id, actor=actor)
        verdict_keys = (
            "signature_verdict",
            "signature_sub_indication",
            "signature_count",
            "signature_return_reason",
            "signature_signers",
            "signature_organisations",
            "signature_agencies",
        )
        extra = {k: existing.extra[k] for k in verdict_keys if k in existing.extra}
        return self.repo.create_document(
            existing.kind,
            metadata,
            content,
            stored.original_name,
            actor,
            register=register,
            advisory_body=advisory_body,
            allow_duplicate_content=True,
            duplicate_reason=duplicate_reason,
            override_reason=override_reason,
            # The first registration, whose original ingest read (a copy of a copy has no
            # derived objects of its own): the metadata gate compares with what it read.
            extra={
                **extra,
                "registered_again_from": existing.extra.get("registered_again_from") or existing.record_id,
            },
        )

    def receive_and_register(
        self,
        content: bytes,
        filename: str,
        direction: str,
        metadata: Mapping[str, Any],
        actor: Actor,
        *,
        register: bool = True,
        advisory_body: str | None = None,
        override_reason: str | None = None,
        duplicate_reason: str | None = None,
    ) -> Record:
        """Both steps at once, for a person who already typed the metadata (``kho record
        create --file``, ``POST /api/records``): the same checks, the same gate. The metadata
        is checked before the file is received, so a refusal leaves nothing waiting in intake."""
        if direction in ("den", "di"):
            self.repo.authorize(actor, Action.RECORD_CREATE)
            md = parse_document(
                metadata,
                direction,
                known_organ=self.repo.is_known_organ,
                numbered_by_register=register and direction == "di",
            )
            self.repo.check_registration(md, register=register, advisory_body=advisory_body)
        review = self.receive(content, filename, direction, actor)
        return self.confirm(
            review.record.record_id,
            metadata,
            expected_version=review.record.version,
            actor=actor,
            register=register,
            advisory_body=advisory_body,
            override_reason=override_reason,
            duplicate_reason=duplicate_reason,
        )

    # -- 4. trả lại -------------------------------------------------------------------------
    def return_document(self, record_id: str, actor: Actor, reason: str | None = None) -> Record:
        record = self.repo.get(record_id, actor=actor)
        if record.state != "intake":
            raise Conflict("Văn bản đã vào sổ, không trả lại từ hàng chờ được.", record_id=record_id)
        return return_document(self.repo, record_id, actor=actor, reason=reason)
