"""The ingest pipeline: an ordered chain of small, idempotent steps.

    store original → extract text → verify signatures → extract metadata → index → done

Each step first looks for its own output (the record, a derived object beside the original,
the record's extra attributes) and does nothing when it is already there, so a re-run — after
a crash, a retry or by hand — changes nothing that is finished. A step that fails stops the
chain:

* a *transient* failure (store, Tika or OCR engine unavailable, a concurrent update) is retried
  with exponential backoff (in-process here, ``Task.retry`` under Celery) and ends in ``lỗi``
  only when the retries are used up;
* a *bad file* (empty, encrypted, corrupt, wrong extension, bomb, too many pages, OCR timeout)
  ends in ``lỗi`` at once with the error's code and Vietnamese message.

Either way the stored original stays, and ``Pipeline.run(job_id, force=True)`` (``kho ingest
retry``) runs the chain again from the first unfinished step.

The same :class:`Pipeline` runs embedded (:meth:`Pipeline.ingest`) and in Celery workers
(``ingest.tasks``): only who calls :meth:`Pipeline.run`, and how a retry waits, differ.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ingest.source_files import read_source
from ingest.status import JobState, JobStatus, JobStore, StepRecord, StepState, new_status
from kho.config import Settings, process_settings
from kho.errors import Conflict, Duplicate, KhoError, NotFound, StoreUnavailable
from kho.timelimit import SoftTimeLimit, is_time_limit, raise_lost_limit
from kho.timeutil import to_iso_utc, utcnow
from repository.formats import dump_derived, load_derived
from repository.policy import Action
from repository.records import EXTRACTED_METADATA, Actor, Record, Repository
from repository.vocabulary import blank, nfc, typed_text

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ingest.metadata import ExtractedMetadata
    from ingest.signatures import PdfVerification, TrustStore
    from ingest.signatures.model import SignatureReport
    from ingest.signatures.rules import CryptoPolicy
    from ingest.signatures.trustlist import Watched
    from ingest.text import ExtractedText, Extractor, TextSettings

logger = logging.getLogger(__name__)

PIPELINE_ACTOR = Actor(user="kho-ingest", source="ingest", system=True)

TEXT_DERIVED = "text.json"
SIGNATURES_DERIVED = "signatures.json"
METADATA_DERIVED = EXTRACTED_METADATA

TRANSIENT_CODES = frozenset(
    {
        "STORE_UNAVAILABLE",
        "TIKA_UNAVAILABLE",
        "OCR_UNAVAILABLE",
        "VERSION_CONFLICT",
        "TEXT_EXTRACTION_FAILED",
        "INGEST_ORIGINAL_PENDING",
        "CLAIM_PENDING",
    }
)
"""Failures of the machinery, not of the file: retried with backoff."""


class TransientFailure(Exception):
    """A step failed for a reason that may go away; the job waits (``chờ``) for a retry."""

    def __init__(self, status: JobStatus, error: KhoError) -> None:
        super().__init__(str(error))
        self.status = status
        self.error = error


LOST_CODE = "INGEST_WORKER_LOST"
"""A job whose runs died more than ``RetryPolicy.max_retries`` times in a row (:meth:`Pipeline.run`)."""

TIMEOUT_CODE = "INGEST_TIMEOUT"
"""A job whose run went past Celery's time limit of a task (``KHO_TASK_SOFT_TIME_LIMIT``, or
``KHO_TASK_TIME_LIMIT`` when the process had to be killed): not retried, a retry would too."""


def time_limit_error(*, hard: bool = False) -> KhoError:
    """The refusal of a job past the task time limit, with the limit it went past."""
    limits = process_settings()
    seconds = limits.task_time_limit if hard else limits.task_soft_time_limit
    return KhoError(
        f"Xử lý tệp này vượt quá giới hạn thời gian {seconds} giây của một lần xử lý"
        + (" (tiến trình xử lý đã bị dừng)" if hard else "")
        + "; đã ngừng xử lý. Bản gốc vẫn được giữ; có thể chạy lại bằng “kho ingest retry”.",
        code=TIMEOUT_CODE, limit_seconds=seconds, hard=hard,
    )


def end_timed_out(jobs: JobStore, job_id: str, *, hard: bool = False, waiting: bool = False) -> JobStatus:
    """End in ``lỗi`` (INGEST_TIMEOUT) a job past the task time limit, through its job records
    alone (see :meth:`Pipeline.timed_out`). Only a job still ``đang xử lý`` is written (and, with
    ``waiting``, one still ``chờ``); one that ended meanwhile keeps its end."""
    status = jobs.get(job_id)
    ended = (JobState.RUNNING, JobState.WAITING) if waiting else (JobState.RUNNING,)
    if status.state not in ended:
        return status
    error = time_limit_error(hard=hard)
    logger.error("job %s: %s", job_id, error.message)
    return jobs.put(
        status.evolve(state=JobState.FAILED, reason_code=error.code, reason=error.message, lost_runs=0)
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**attempt`` seconds, capped, ``max_retries`` times."""

    max_retries: int = 4
    base_delay: float = 2.0
    max_delay: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * (2**attempt))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        """``KHO_INGEST_RETRIES`` (default 4) and ``KHO_INGEST_RETRY_DELAY`` (seconds, 2)."""
        limits = process_settings(env)
        return cls(max_retries=limits.ingest_retries, base_delay=limits.ingest_retry_delay)


def quiet_validation_logs() -> None:
    """pyHanko logs every chain it cannot build as a WARNING with a traceback; the verdict
    already says it in Vietnamese, so workers and the CLI keep only its errors."""
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.ERROR)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, KhoError):
        return error.code in TRANSIENT_CODES
    return isinstance(error, (ConnectionError, TimeoutError))


def as_kho_error(error: BaseException) -> KhoError:
    """Any failure as a KhoError with a code and a Vietnamese message."""
    if isinstance(error, KhoError):
        return error
    if isinstance(error, (ConnectionError, TimeoutError)):
        return StoreUnavailable(f"Mất kết nối khi xử lý: {type(error).__name__}.")
    if isinstance(error, MemoryError):
        return KhoError("Không đủ bộ nhớ để xử lý tệp này.", code="INGEST_OUT_OF_MEMORY")
    return KhoError(
        f"Bước xử lý gặp lỗi không lường trước ({type(error).__name__}: {str(error)[:200]}).",
        code="INGEST_STEP_FAILED",
    )


# -- the context a job's steps share ------------------------------------------------------------
@dataclass
class JobContext:
    pipeline: Pipeline
    status: JobStatus
    content: bytes | None = None
    text: ExtractedText | None = None
    verification: PdfVerification | None = None
    metadata: ExtractedMetadata | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    deferred_document: Any = None
    """The search document waiting for the batch commit (``Pipeline.defer_index``)."""
    record: Record | None = None
    """The record's latest version as this run wrote or read it (m52): the signature step's
    update and the index step start from it instead of reading it again. A version someone
    else wrote meanwhile costs a retry of the update (``Conflict``); the index keeps the newest
    version it was given (version-aware), as with a read made a moment earlier."""
    fresh: bool = False
    """This run created the record (the store step, not an adopted duplicate): its record id is
    new, so no derived object of it can exist yet and none is looked for (m52)."""
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The derived objects this run read or wrote, as a read of them would answer."""
    pending: list[tuple[str, Future[None]]] = field(default_factory=list)
    """Derived objects on their way to the store (m52), with the step that made each: nothing
    reads them before the job is written, and :meth:`settle` waits for them before that."""

    @property
    def repo(self) -> Repository:
        return self.pipeline.repo

    @property
    def record_id(self) -> str:
        assert self.status.record_id is not None, "the store step has not run"
        return self.status.record_id

    def original(self) -> bytes:
        """The original bytes: kept from arrival, else read (and checked) from the store."""
        if self.content is None:
            _, self.content = self.repo.read_content(
                self.record_id, self.status.sha256, actor=self.pipeline.actor, action="content:read"
            )
        return self.content

    def derived_json(self, name: str) -> dict[str, Any] | None:
        if name in self.derived:
            return self.derived[name]
        if self.fresh:
            return None
        try:
            found = load_derived(self.repo.get_derived(self.record_id, name), name)
        except NotFound:
            return None
        self.derived[name] = found
        return found

    def put_derived_json(self, name: str, data: dict[str, Any]) -> None:
        """Store a derived object beside the original, sent while the next steps run: the job
        records the step done only once :meth:`settle` has seen it stored."""
        from repository.storage.group import write_beside

        stored = dump_derived(data, name)
        self.derived[name] = load_derived(stored, name)
        sent = write_beside(self.repo.put_derived, self.record_id, name, stored)
        self.pending.append((self.status.step or "", sent))

    def settle(self) -> None:
        """Wait for every derived object on its way; the first failure (in the order sent) is
        raised as :class:`PendingWriteFailed`, naming its step, once all of them have ended."""
        pending, self.pending = self.pending, []
        failure: PendingWriteFailed | None = None
        for step, sent in pending:
            try:
                sent.result()
            except Exception as exc:
                failure = failure or PendingWriteFailed(step, exc)
        if failure is not None:
            raise failure

    def settle_quietly(self) -> None:
        """Wait for every derived object on its way, whatever its outcome (a run stopped from
        outside: a missing one is made again by the next run)."""
        pending, self.pending = self.pending, []
        for _, sent in pending:
            _wait_quietly(sent)


def _wait_quietly(sent: Future[Any]) -> None:
    """Wait for a write sent beside the steps, whatever its outcome: a failure of its own is
    reported by the caller's error, or found again by the next run."""
    try:
        sent.result()
    except Exception:
        pass


class PendingWriteFailed(Exception):
    """A derived object sent beside the later steps (:meth:`JobContext.put_derived_json`) was
    not stored: the failure of the step that made it."""

    def __init__(self, step: str, error: Exception) -> None:
        super().__init__(f"{step}: {error}")
        self.step = step
        self.error = error


@dataclass(frozen=True)
class StepOutcome:
    state: StepState
    note: str | None = None


DONE = StepOutcome(StepState.DONE)


class Step(Protocol):
    name: str
    label: str
    """Vietnamese, for people."""

    def run(self, ctx: JobContext) -> StepOutcome: ...


# -- the steps -----------------------------------------------------------------------------------
class StoreOriginal:
    """Store the arrived bytes as the record's original (encrypted, SHA-256 addressed). The same
    bytes again are the same original: the existing record is adopted, never a second one."""

    name = "store"
    label = "Lưu bản gốc"

    def run(self, ctx: JobContext) -> StepOutcome:
        if ctx.status.record_id is not None:
            return StepOutcome(StepState.SKIPPED, "đã lưu")
        content = ctx.content
        if content is None and ctx.status.source:
            content = read_source(  # no link, no FIFO: SOURCE_*; no more than the size rule takes
                Path(ctx.status.source), max_bytes=ctx.repo.max_file_bytes
            )
            if hashlib.sha256(content).hexdigest() != ctx.status.sha256:
                raise KhoError(
                    "Tệp nguồn đã thay đổi kể từ khi tiếp nhận (SHA-256 khác); hãy gửi lại tệp.",
                    code="SOURCE_CHANGED",
                )
            ctx.content = content
        if content is None:
            raise KhoError(
                "Bản gốc chưa được lưu và không còn nguồn để đọc lại; hãy gửi lại tệp.",
                code="SOURCE_MISSING",
            )
        repo = ctx.repo
        try:
            record = repo.create_intake(
                ctx.status.direction, content, ctx.status.filename, ctx.pipeline.actor
            )
            record_id = record.record_id
            ctx.record, ctx.fresh = record, True
            note = None
        except Duplicate as dup:
            existing = dup.details.get("existing_record_id")
            if not existing:
                raise
            try:
                repo.get(existing, actor=ctx.pipeline.actor)
            except NotFound as exc:
                # Another writer holds the SHA-256 claim but has not committed (yet, or it
                # crashed); the repository frees such a claim after a grace period.
                raise KhoError(
                    "Một lượt lưu khác của cùng tệp chưa hoàn tất; sẽ thử lại.",
                    code="INGEST_ORIGINAL_PENDING",
                    existing_record_id=existing,
                ) from exc
            record_id = existing
            note = "đã có trong kho (trùng SHA-256)"
        ctx.status = ctx.status.evolve(record_id=record_id)
        return StepOutcome(StepState.DONE, note)


class ExtractText:
    """Text layer where it is good, Tesseract OCR where it is not; stored as ``text.json``."""

    name = "text"
    label = "Trích xuất văn bản"

    def run(self, ctx: JobContext) -> StepOutcome:
        from ingest.text import ExtractedText, extract_text

        stored = ctx.derived_json(TEXT_DERIVED)
        if stored is not None:
            ctx.text = ExtractedText.from_dict(stored)
            outcome = StepOutcome(StepState.SKIPPED, "đã có")
        else:
            extractor = ReadingOnce(ctx) if ctx.pipeline.read_once else ctx.pipeline.extractor
            ctx.text = extract_text(
                ctx.original(),
                ctx.status.filename,
                settings=ctx.pipeline.text_settings,
                extractor=extractor,
            )
            ctx.put_derived_json(TEXT_DERIVED, ctx.text.to_dict())
            outcome = DONE
        ctx.summary.update(
            format=ctx.text.format.value,
            pages=ctx.text.page_count,
            text_sources=sorted(s.value for s in ctx.text.sources),
            characters=len(ctx.text.text),
        )
        return outcome


class ReadingOnce:
    """The pipeline's extractor for the text step, which reads a PDF with pdfium once: the
    verification worker answers "verify + text layer" in one request
    (:mod:`ingest.signatures.combined`). The text is the text worker's, page for page; the
    verification is kept in the job's context (memory only: nothing new is written, and the
    signatures step writes it in its turn). Any failure of that request: the pipeline's own
    extractor reads the text, and the signatures step verifies as before."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.name = ctx.pipeline.extractor.name

    def extract(self, data: bytes, fmt: Any) -> ExtractedText:
        from ingest.signatures.combined import verify_and_read_text
        from ingest.text import Format
        from ingest.text.pdf import extract_pdf

        pipeline = self.ctx.pipeline
        if fmt.format is not Format.PDF:
            return pipeline.extractor.extract(data, fmt)
        read = verify_and_read_text(
            data, pipeline.trust, allow_fetching=pipeline.allow_fetching,
            policy=pipeline.crypto_policy, settings=pipeline.text_settings,
        )
        if read is None:
            return pipeline.extractor.extract(data, fmt)
        self.ctx.verification = read.verification
        return extract_pdf(data, pipeline.text_settings, extractor=self.name, infos=read.pages)


class VerifySignatures:
    """pyHanko verdict of every signature (PDF only), stored as ``signatures.json``; the
    verdict and the reason to return (trả lại) go on the record as extra attributes."""

    name = "signatures"
    label = "Kiểm tra chữ ký số"

    def run(self, ctx: JobContext) -> StepOutcome:
        from ingest.signatures import PdfVerification
        from ingest.text import Format

        assert ctx.text is not None
        if ctx.text.format is not Format.PDF:
            ctx.summary["signature_verdict"] = None
            return StepOutcome(StepState.SKIPPED, "không phải PDF")
        stored = ctx.derived_json(SIGNATURES_DERIVED)
        outcome = StepOutcome(StepState.SKIPPED, "đã có")
        if stored is not None:
            ctx.verification = PdfVerification.from_dict(stored)
        elif ctx.verification is not None:  # verified with the text step's one read
            ctx.put_derived_json(SIGNATURES_DERIVED, ctx.verification.to_dict())
            outcome = DONE
        else:
            ctx.verification = ctx.pipeline.verify(ctx.original())
            ctx.put_derived_json(SIGNATURES_DERIVED, ctx.verification.to_dict())
            outcome = DONE
        verdict = ctx.verification.verdict
        extra = signature_fields(ctx.verification)
        record = ctx.record or ctx.repo.get(ctx.record_id, actor=ctx.pipeline.actor)
        if any(record.extra.get(k) != v for k, v in extra.items()):
            record = ctx.repo.set_extra(
                ctx.record_id, extra, actor=ctx.pipeline.actor, action="ingest:signatures", known=record
            )
            outcome = DONE
        ctx.record = record
        ctx.summary.update(
            signature_verdict=verdict.indication.value,
            signature_explanation=verdict.explanation,
            signature_return_reason=ctx.verification.return_reason,
        )
        return outcome


def signature_fields(verification: PdfVerification) -> dict[str, Any]:
    """What a document's verification puts on it (``extra``, pure): the one shape ingest's
    signature step records on a record and an imported package's answer gives each of its PDFs
    (:func:`retention.sip_import.import_package`)."""
    verdict = verification.verdict
    return {
        "signature_verdict": verdict.indication.value,
        "signature_sub_indication": verdict.sub_indication,
        "signature_count": len(verification.signatures),
        "signature_return_reason": verification.return_reason,
        # Who signed personally (certificate names): the signer gate compares the Người ký
        # a văn thư confirms for a văn bản đi (repository.registration.signer_gate). Only
        # an intact, valid signature whose certificate chains to a trust anchor names
        # anyone: a self-made certificate can carry any name.
        "signature_signers": signing_people(verification.signatures),
        # Which agency signed (its seal certificate's O, OU, CN; a personal certificate's O):
        # the metadata gate compares the cơ quan ban hành a văn thư types for a văn bản đến
        # (repository.registration.metadata_gate). Trusted signatures only, as above.
        "signature_organisations": signing_organisations(verification.signatures),
        # The same agencies with the certificate field each name came from, in a versioned
        # format (a10): a Sở's seal (CN "Sở Tài chính", O "UBND tỉnh X") names the Sở,
        # never its UBND. The flat list above is kept for older readers only.
        "signature_agencies": signing_agencies(verification.signatures),
    }


def names_its_signer(s: SignatureReport) -> bool:
    """Whether a signature may name who signed the document *as registered* (pure; the one rule
    of ``signature_signers`` and ``signature_organisations``): intact, valid, trusted, and
    covering the document: its signed range is a whole revision, and what was added after it is
    a change the rules explain (another signature, form filling, long-term validation data), not
    a change nobody can account for (``OTHER``) or one its DocMDP forbids. A seal over a page
    that someone then rewrote names the sender of the page it sealed, not of this document
    (r30: after an override of SIGNATURE_FAILED its organisation still counted). A signature,
    never a document time-stamp: its certificate is the time-stamping authority's, which vouches
    for a time, not for who wrote or sent the document (f4: a trusted PAdES document time-stamp
    put its TSA's O among the agencies, so any time-stamped PDF "proved" it was sent by the
    TSA's operator)."""
    from ingest.signatures.model import SignatureType
    from ingest.signatures.rules import ACCEPTED_COVERAGE

    return (
        s.type is SignatureType.SIGNATURE
        and s.signer is not None
        and s.intact is True
        and s.valid is True
        and s.trusted is True
        and s.coverage in ACCEPTED_COVERAGE
        and s.modification_level != "OTHER"
        and s.modifications_permitted is not False
    )


def signing_people(signatures: Sequence[SignatureReport]) -> list[str]:
    """The names (CN) on the personal signatures that :func:`names_its_signer`, in order: the
    signer gate compares the Người ký a văn thư confirms for a văn bản đi with them."""
    from ingest.signatures.model import SignerKind

    return [
        s.signer.common_name
        for s in signatures
        if s.signer_kind is SignerKind.PERSONAL
        and names_its_signer(s)
        and s.signer is not None
        and s.signer.common_name
    ]


def _naming_signatures(signatures: Sequence[SignatureReport]) -> list[SignatureReport]:
    """The signatures whose certificates name the sending agency, in order: those that
    :func:`names_its_signer` made with an agency (seal) certificate; only when no agency sealed,
    the personal ones. The one selection of :func:`signing_organisations` and
    :func:`signing_agencies`."""
    from ingest.signatures.model import SignerKind

    trusted = [s for s in signatures if names_its_signer(s)]
    seals = [s for s in trusted if s.signer_kind is SignerKind.ORGANISATION]
    return seals or trusted


def signing_organisations(signatures: Sequence[SignatureReport]) -> list[str]:
    """The agency names on the signatures that :func:`names_its_signer`, each once, in order: O,
    OU and CN of the agency (seal) certificates; only when the agency did not sign, O of the
    personal ones (a person's certificate names the agency they work for, its OU a unit)."""
    from ingest.signatures.model import SignerKind

    names: list[str] = []
    for s in _naming_signatures(signatures):
        assert s.signer is not None
        fields = [s.signer.organisation]
        if s.signer_kind is SignerKind.ORGANISATION:
            fields += [s.signer.organisational_unit, s.signer.common_name]
        for name in fields:
            if name and name.strip() and name not in names:
                names.append(name)
    return names


def signing_agencies(signatures: Sequence[SignatureReport]) -> dict[str, Any]:
    """The agencies of the signatures that :func:`names_its_signer`, each once, in order, as
    ``extra.signature_agencies`` stores them (``repository.registration.stored_agencies``): the
    CN, O and OU of each agency (seal) certificate; only when no agency sealed, the O of the
    personal ones (as :func:`signing_organisations`)."""
    from ingest.signatures.model import SignerKind
    from repository.registration import SealAgency, stored_agencies

    found: list[SealAgency] = []
    for s in _naming_signatures(signatures):
        assert s.signer is not None
        seal = s.signer_kind is SignerKind.ORGANISATION
        agency = SealAgency(
            cn=(s.signer.common_name or "").strip() if seal else "",
            o=(s.signer.organisation or "").strip(),
            ou=(s.signer.organisational_unit or "").strip() if seal else "",
            seal=seal,
        )
        if agency.name and agency not in found:
            found.append(agency)
    return stored_agencies(found)


class ExtractMetadata:
    """Official metadata (số/ký hiệu, ngày, cơ quan, loại, trích yếu, người ký) pre-filled from
    the text, stored as ``metadata.json`` for the văn thư to confirm when registering."""

    name = "metadata"
    label = "Trích xuất siêu dữ liệu"

    def run(self, ctx: JobContext) -> StepOutcome:
        from ingest.metadata import extract_metadata

        assert ctx.text is not None
        stored = ctx.derived_json(METADATA_DERIVED)
        outcome = StepOutcome(StepState.SKIPPED, "đã có")
        if stored is None:
            ctx.metadata = extract_metadata(ctx.text.text)
            stored = ctx.metadata.to_dict()
            ctx.put_derived_json(METADATA_DERIVED, stored)
            outcome = DONE
        # What the document says (số, ký hiệu, loại, ngày, trích yếu) stays in the sealed derived
        # metadata: the job object is plaintext in the store and every backup, no key shreds it,
        # and its listing is not filtered by the access policy. ``kho ingest status`` reads them
        # through the record (``ingest.cli._described``).
        ctx.summary["metadata"] = METADATA_DERIVED
        return outcome


class IndexRecord:
    """Write the record, its text and verdict to the search index (version-aware: a re-run
    writes the same version again, a late one never overwrites a newer one)."""

    name = "index"
    label = "Đánh chỉ mục tìm kiếm"

    def run(self, ctx: JobContext) -> StepOutcome:
        from ingest.indexing import index_record, to_index_document

        backend = ctx.pipeline.backend()
        if backend is None:
            return StepOutcome(StepState.SKIPPED, "không có chỉ mục")
        if ctx.pipeline.defer_index:
            # Bulk import: one index commit per batch (see Pipeline.flush_index).
            record = ctx.record or ctx.repo.get(ctx.record_id, actor=ctx.pipeline.actor)
            ctx.deferred_document = to_index_document(ctx.repo, record, derived=ctx.derived)
            return DONE
        index_record(ctx.repo, backend, ctx.record_id)
        return DONE


STEPS: tuple[Step, ...] = (
    StoreOriginal(),
    ExtractText(),
    VerifySignatures(),
    ExtractMetadata(),
    IndexRecord(),
)
STEP_NAMES: tuple[str, ...] = tuple(s.name for s in STEPS)


# -- the pipeline --------------------------------------------------------------------------------
class Pipeline:
    """Everything a worker keeps between documents: the repository, the text extractor, the
    trust store (loaded once) and the index backend (opened once)."""

    def __init__(
        self,
        repo: Repository,
        *,
        text_settings: TextSettings | None = None,
        trust: TrustStore | Watched | None = None,
        allow_fetching: bool = False,
        crypto_policy: CryptoPolicy | None = None,
        actor: Actor = PIPELINE_ACTOR,
        backend_factory: Callable[[], Any] | None = None,
        retry: RetryPolicy | None = None,
        steps: tuple[Step, ...] = STEPS,
        status_interval: float = 1.0,
        read_once: bool = True,
    ) -> None:
        from ingest.signatures import TrustStore
        from ingest.text import TextSettings, get_extractor

        self.repo = repo
        self.jobs = JobStore(repo.store)
        self.text_settings = text_settings or TextSettings.from_env()
        self.extractor: Extractor = get_extractor(self.text_settings)
        self._trust = trust if trust is not None else TrustStore.empty()
        self.allow_fetching = allow_fetching
        if crypto_policy is None:
            from ingest.signatures.rules import SAFE_CRYPTO as crypto_policy
        self.crypto_policy = crypto_policy
        self.actor = actor
        self.retry_policy = retry or RetryPolicy.from_env()
        self.steps = steps
        self.status_interval = status_interval
        self.read_once = read_once
        """A PDF's text layer and verification from one pdfium read in the verification
        worker (:class:`ReadingOnce`); ``False``: the text worker and a separate verification."""
        self._backend_factory = backend_factory
        self._backend: Any = None
        self.defer_index = False
        """Bulk mode: the index step only builds each search document; :meth:`flush_index`
        writes them in one commit and only then are their jobs ``xong``."""
        self._deferred: list[tuple[JobStatus, Any, float]] = []
        self.created: dict[str, Record] = {}
        """Bulk mode (``defer_index``): the records this pipeline's runs created, by job id, as
        their last write left them; its caller takes them (:func:`ingest.bulk._ingest_chunk`)
        to tell the access policy what they are without reading them again."""

    @property
    def trust(self) -> TrustStore:
        """The trust store of the next verification: the one given, or for a pipeline made
        :meth:`from_settings`, the installation's trust list as it is now (a change made with
        ``kho trust`` reaches a running worker at its next document, :class:`Watched`)."""
        from ingest.signatures.trustlist import Watched

        return self._trust.current() if isinstance(self._trust, Watched) else self._trust

    @classmethod
    def from_settings(cls, settings: Settings, repo: Repository | None = None, **kwargs: Any) -> Pipeline:
        from ingest.signatures import trustlist
        from ingest.text import TextSettings
        from repository.service import open_repository

        if "trust" not in kwargs:
            watched = trustlist.Watched(settings.trust_dir, settings.data_dir)
            watched.current()  # a broken trust list refuses to start, as before
            kwargs["trust"] = watched
        if "text_settings" not in kwargs:
            kwargs["text_settings"] = TextSettings.from_env()
        kwargs.setdefault("allow_fetching", settings.allow_fetching)
        if "crypto_policy" not in kwargs:
            from ingest.signatures.rules import CryptoPolicy

            kwargs["crypto_policy"] = CryptoPolicy(settings.sha1_seals_until)

        def backend() -> Any:
            from search import open_backend

            return open_backend(settings.elasticsearch_url or settings.data_dir / "index")

        kwargs.setdefault("backend_factory", backend)
        return cls(repo if repo is not None else open_repository(settings), **kwargs)

    def backend(self) -> Any:
        if self._backend is None and self._backend_factory is not None:
            self._backend = self._backend_factory()
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        self.repo.close()  # its last head noted now, no timer left behind

    def verify(self, data: bytes) -> PdfVerification:
        """The signature verification every document gets (this pipeline's trust store,
        fetching and crypto policy): ingest's signature step, and the PDFs of an imported
        package (:class:`retention.sip_import.PackageChecks`)."""
        from ingest.signatures import verify_pdf

        return verify_pdf(data, self.trust, allow_fetching=self.allow_fetching, policy=self.crypto_policy)

    # -- public entry points ------------------------------------------------------------------
    def accept(
        self, content: bytes, filename: str, direction: str = "den", *, source: str | None = None
    ) -> JobStatus:
        """Take in a file: create (or find) its job and store the original (step 1).

        Returns the job, ``chờ`` for the remaining steps, or ``lỗi`` when the file was refused
        before anything could be stored. The same bytes again return the same job.
        """
        job_id = hashlib.sha256(content).hexdigest()
        name = nfc(Path(filename).name)
        status = self._job_for(job_id, name, direction, source)
        if status.state is JobState.DONE or (
            status.record_id is not None and status.state is not JobState.FAILED
        ):
            return status
        return self.run(job_id, content=content, status=status, force=True, until="store")

    def ingest(
        self, content: bytes, filename: str, direction: str = "den", *, source: str | None = None
    ) -> JobStatus:
        """Embedded mode: accept and run every step now, retrying transient failures in-process.

        The same bytes again: a finished job is returned as it is; a failed one is run again."""
        job_id = hashlib.sha256(content).hexdigest()
        status = self._job_for(job_id, nfc(Path(filename).name), direction, source)
        if status.state is JobState.DONE:
            return status
        return self.run_with_retries(job_id, content=content, status=status, force=True)

    def _job_for(self, job_id: str, filename: str, direction: str, source: str | None) -> JobStatus:
        """The stored job, or a new one *not yet written*: its caller runs it at once, and
        :meth:`run` writes it (``đang xử lý``) before its first step does anything, so a
        ``chờ`` written just before would be overwritten within the same call (one store
        write per document saved; a kill in between leaves nothing stored either way)."""
        status = self.jobs.find(job_id)
        if status is None:
            status = new_status(job_id, filename, direction, source=source)
        elif status.state is JobState.FAILED and status.record_id is None:
            # Refused before anything was stored (a bad name, a wrong extension): this arrival
            # is a new attempt, judged on its own name and direction. Keeping the old ones
            # refused the same bytes forever, whoever sent them next and under whatever name,
            # so one bad upload blocked a document for the whole agency.
            status = status.evolve(filename=filename, direction=direction, source=source)
        return status

    def run_with_retries(
        self,
        job_id: str,
        *,
        content: bytes | None = None,
        status: JobStatus | None = None,
        force: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> JobStatus:
        """:meth:`run`, retrying transient failures in-process with exponential backoff."""
        attempt = 0
        while True:
            final = attempt >= self.retry_policy.max_retries
            try:
                return self.run(job_id, content=content, status=status, force=force, final_attempt=final)
            except TransientFailure as failure:
                sleep(self.retry_policy.delay(attempt))
                attempt += 1
                force = True
                status = failure.status

    def run(
        self,
        job_id: str,
        *,
        content: bytes | None = None,
        status: JobStatus | None = None,
        force: bool = False,
        final_attempt: bool = True,
        until: str | None = None,
    ) -> JobStatus:
        """Run the job's steps in order, from the first one whose output is missing.

        A finished job (``xong``) is left alone unless ``force``; a failed one (``lỗi``) is run
        again only with ``force`` (``kho ingest retry``). A transient failure raises
        :class:`TransientFailure` unless ``final_attempt`` (then the job ends in ``lỗi``).
        ``content``, when given, is the arrived file, whose SHA-256 is ``job_id`` (as
        :meth:`accept` and :meth:`ingest` derive it); without it the original is read back from
        the store, or from the source path (checked against ``job_id``) if not stored yet.
        """
        status = status or self.jobs.get(job_id)
        if status.state.final and not force:
            return status
        # A job found "đang xử lý" was not ended by the run that began it: that process died
        # (a hostile file made pdfium abort or hit the worker's memory limit). Celery puts such
        # a task back on the queue (task_reject_on_worker_lost), so without a count one file
        # would kill a worker process after another for ever and never leave "đang xử lý".
        lost = status.lost_runs + 1 if status.state is JobState.RUNNING else 0
        give_up = lost > self.retry_policy.max_retries
        ctx = JobContext(self, status, content=content)
        ctx.summary.update(status.summary)
        started_status = status.evolve(
            state=JobState.RUNNING, attempts=status.attempts + 1, reason_code=None, reason=None,
            lost_runs=lost,
            # A job with its record that did not end done (a run killed, or one whose removal of
            # the versions naming the file failed) may have left those versions: this run's
            # first write removes them (m63's removal, finished by the job's own re-run instead
            # of only by the scrub; ci57).
            older_named=status.older_named
            or (status.record_id is not None and status.state in (JobState.RUNNING, JobState.FAILED)),
        )
        ctx.status = started_status
        last_write: float | None = None  # the first step always writes the job first
        steps = self.steps
        if until is not None:
            steps = steps[: [s.name for s in steps].index(until) + 1]
        if give_up:
            # Only the store step, which reads no file format (it adopts the record already
            # stored, found by SHA-256): the original is kept and the job names its record.
            steps = [s for s in steps if s.name == "store"]
        started: Future[JobStatus] | None = None
        """The job's first write, sent beside the store step (below)."""
        for step in steps:
            now = time.monotonic()
            if last_write is None or now - last_write >= self.status_interval:
                if step.name == "store" and ctx.status.record_id is None:
                    # ``đang xử lý`` goes to the store while the original is stored (m52): the
                    # store step reads no file format (nothing in it can kill the process for
                    # a file's sake, what the lost-run count is for), and it is waited for
                    # before the next step and before any other write of the job.
                    from repository.storage.group import write_beside

                    ctx.status = ctx.status.evolve(step=step.name).as_stored()
                    started = write_beside(self.jobs.put, ctx.status)
                else:
                    ctx.status = self.jobs.put(ctx.status.evolve(step=step.name))
                last_write = now
            else:
                ctx.status = ctx.status.evolve(step=step.name)
            began = time.perf_counter()
            try:
                outcome = step.run(ctx)
                if started is not None:
                    # (the version it made names the file: the write with the record removes it)
                    ctx.status = replace(ctx.status, named_versions=started.result().named_versions)
                    started = None
                raise_lost_limit()  # the soft limit, if a finalizer swallowed it in the step
            except (Exception, SoftTimeLimit) as exc:
                error = time_limit_error() if is_time_limit(exc) else as_kho_error(exc)
                elapsed = time.perf_counter() - began
                return self._failed(ctx, step, error, elapsed, final_attempt, exc, started=started)
            except BaseException:
                # A run stopped from outside (SystemExit, KeyboardInterrupt) leaves the job as
                # its first write made it (``đang xử lý``) and the derived objects of the steps
                # it finished stored: the next run finds them and counts this one, as when
                # those writes came before the next step.
                if started is not None:
                    _wait_quietly(started)
                ctx.settle_quietly()
                raise
            elapsed = time.perf_counter() - began
            previous = ctx.status.steps.get(step.name)
            record = StepRecord(outcome.state, round(elapsed, 4), outcome.note)
            if outcome.state is StepState.SKIPPED and previous and previous.state is StepState.DONE:
                record = previous  # a re-run found the output: keep the timing of the run that made it
            steps_done = {**ctx.status.steps, step.name: record}
            ctx.status = ctx.status.evolve(steps=steps_done, summary=dict(ctx.summary))
        try:
            ctx.settle()
        except PendingWriteFailed as failed:
            late = next(s for s in steps if s.name == failed.step)
            return self._failed(ctx, late, as_kho_error(failed.error), 0.0, final_attempt, failed.error)
        if give_up:
            return self._lost(ctx.status, lost, last_step=status.step)
        if until is not None and steps[-1] is not self.steps[-1]:
            final = ctx.status.evolve(state=JobState.WAITING, step=None)
        elif ctx.deferred_document is not None:
            self._deferred.append((ctx.status, ctx.deferred_document, time.perf_counter()))
            if ctx.fresh and ctx.record is not None:
                self.created[ctx.status.job_id] = ctx.record
            return ctx.status  # still "đang xử lý": xong once flush_index has committed it
        else:
            final = ctx.status.evolve(state=JobState.DONE, step=None)
        return self.jobs.put(final)

    def flush_index(self) -> list[JobStatus]:
        """Write the search documents of deferred jobs in one commit; their jobs end ``xong``
        (or ``lỗi`` if the index refused them — the stored data stays, a retry re-indexes)."""
        if not self._deferred:
            return []
        deferred, self._deferred = self._deferred, []
        began = time.perf_counter()
        error: KhoError | None = None
        try:
            self.backend().index([doc for _, doc, _ in deferred])
        except Exception as exc:
            error = as_kho_error(exc)
            logger.exception("indexing a batch of %d documents failed", len(deferred))
        share = (time.perf_counter() - began) / len(deferred)
        finals = []
        for status, _, _ in deferred:
            previous = status.steps["index"]
            seconds = round(previous.seconds + share, 4)
            if error is None:
                steps = {**status.steps, "index": StepRecord(StepState.DONE, seconds, previous.note)}
                final = status.evolve(state=JobState.DONE, step=None, steps=steps)
            else:
                steps = {**status.steps, "index": StepRecord(StepState.FAILED, seconds, error.code)}
                final = status.evolve(
                    state=JobState.FAILED, step="index", reason_code=error.code,
                    reason=f"{IndexRecord.label}: {error.message}", steps=steps,
                )
            finals.append(final)
        return self._put_jobs(finals)

    def _put_jobs(self, finals: Sequence[JobStatus]) -> list[JobStatus]:
        """Write the ends of a batch's jobs (m52: side by side, one job per key, none depending
        on another); as written, in order. Every write ends before the first failure (in that
        order) is raised."""
        from repository.storage.group import write_beside

        sent = [write_beside(self.jobs.put, final) for final in finals]
        out: list[JobStatus] = []
        failure: Exception | None = None
        for one in sent:
            try:
                out.append(one.result())
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return out

    def timed_out(self, job_id: str, *, hard: bool = False, waiting: bool = False) -> JobStatus:
        """End in ``lỗi`` (INGEST_TIMEOUT) a job whose run went past the task time limit
        outside a step (the soft limit) or whose process Celery killed (the hard limit: the
        task ``kho.ingest.timed_out`` sent by the worker's main process). Only a job still
        ``đang xử lý`` is written (and, with ``waiting``, one still ``chờ``: the soft limit
        landed in the task before its run started, u11): one that ended meanwhile keeps its end."""
        return end_timed_out(self.jobs, job_id, hard=hard, waiting=waiting)

    def _lost(self, status: JobStatus, lost: int, *, last_step: str | None) -> JobStatus:
        """End in ``lỗi`` a job whose runs died ``lost`` times in a row, at ``last_step`` (the
        last one the dead run wrote). The original and whatever the finished steps stored stay;
        ``kho ingest retry`` runs it again."""
        step = last_step or status.step or "store"
        message = (
            f"Tiến trình xử lý tệp này đã dừng đột ngột {lost} lần liên tiếp (tệp có thể làm thư "
            "viện đọc tệp lỗi hoặc vượt giới hạn bộ nhớ); đã ngừng xử lý. Bản gốc vẫn được giữ."
        )
        logger.error("job %s: %d runs in a row never ended (step %s); failed", status.job_id, lost, step)
        # ``step`` is the last one written (writes are spaced by ``status_interval``): the run
        # died there or in a later step, so the reason names none; the finished steps' records
        # stay as stored.
        return self.jobs.put(status.evolve(
            state=JobState.FAILED, step=step, reason_code=LOST_CODE, reason=message,
            lost_runs=lost,
        ))

    def _failed(
        self,
        ctx: JobContext,
        step: Step,
        error: KhoError,
        elapsed: float,
        final_attempt: bool,
        exc: BaseException,
        *,
        started: Future[JobStatus] | None = None,
    ) -> JobStatus:
        # What is still on its way is waited for before the job is written: the job's first
        # write would land after this one, and a retry would write the derived objects again.
        if started is not None:
            _wait_quietly(started)  # (its failure is the one reported, or one just like it)
            if not started.exception():  # (the version it made: the job's write below removes it)
                ctx.status = replace(ctx.status, named_versions=started.result().named_versions)
        ctx.settle_quietly()  # (a finished step's object missing: the re-run makes it again)
        transient = is_transient(exc) or is_transient(error)
        if transient and not final_attempt:
            status = self.jobs.put(
                ctx.status.evolve(state=JobState.WAITING, reason_code=error.code, reason=error.message)
            )
            raise TransientFailure(status, error) from exc
        if error.code == "INGEST_STEP_FAILED":
            logger.exception("ingest step %s failed for job %s", step.name, ctx.status.job_id, exc_info=exc)
        steps_done = {
            **ctx.status.steps,
            step.name: StepRecord(StepState.FAILED, round(elapsed, 4), error.code),
        }
        return self.jobs.put(
            ctx.status.evolve(
                state=JobState.FAILED,
                step=step.name,
                reason_code=error.code,
                reason=f"{step.label}: {error.message}",
                steps=steps_done,
                summary=dict(ctx.summary),
            )
        )


def prestart_workers(text_memory_mb: int | None = None, *, text: bool = True) -> None:
    """Start this process's verification worker and bounded pdfium text worker now (each a
    fresh interpreter, ~0.3 s of imports), so their start overlaps what the process does before
    its first document instead of delaying that document. Only a head start: the workers are
    those the documents would start (same commands, limits and bounds), and a failure here is
    logged and met again by the first document that needs the worker (a bulk pool's or Celery's
    process initialiser must not die of it). ``text_memory_mb``: the text worker's bound
    (``TextSettings.from_env()``'s by default, as :meth:`Pipeline.from_settings` uses);
    ``text=False``: the verification worker only (a pipeline that reads a PDF once
    (:attr:`Pipeline.read_once`) needs the text worker only for OCR or a fallback, and starts it
    then: ~0.12 s of CPU saved per process that never needs it)."""
    from ingest.signatures import _pool

    try:
        _pool.shared_pool().prestart()
    except Exception as exc:  # any failure is met again by the first document
        logger.warning("signature worker not started ahead: %s", exc)
    if not text:
        return
    try:
        from ingest.text import box

        if text_memory_mb is None:
            from ingest.text import TextSettings

            text_memory_mb = TextSettings.from_env().text_layer_memory_mb
        box.prestart("text", text_memory_mb)
    except Exception as exc:  # any failure is met again by the first PDF
        logger.warning("text worker not started ahead: %s", exc)


# -- trả lại -------------------------------------------------------------------------------------
def return_document(
    repo: Repository, record_id: str, *, actor: Actor, reason: str | None = None
) -> Record:
    """Mark a document returned (trả lại) to its sender with the reason Kho found.

    Without ``reason`` the signature verification's ``return_reason`` is used; a document whose
    signatures passed cannot be returned without a reason given by the person. Returning twice
    changes nothing. The repository writes the audit event (``record:return``).
    """
    current = repo.get(record_id, actor=actor)
    repo.authorize(actor, Action.RECORD_RETURN, current)
    if current.extra.get("returned"):
        return current
    if not blank(reason):
        reason = typed_text(reason, "reason", "Lý do trả lại")
    if reason is None or blank(reason):
        try:
            verification = load_derived(repo.get_derived(record_id, SIGNATURES_DERIVED), SIGNATURES_DERIVED)
        except NotFound as exc:
            from ingest.signatures.rules import no_return_reason_message

            raise KhoError(
                no_return_reason_message(None),
                code="RETURN_REASON_REQUIRED",
                record_id=record_id,
            ) from exc
        reason = verification.get("return_reason")
        if not reason:
            from ingest.signatures.model import Verdict
            from ingest.signatures.rules import no_return_reason_message

            verdict = Verdict.from_dict(verification["verdict"]) if verification.get("verdict") else None
            raise KhoError(
                no_return_reason_message(verdict),
                code="RETURN_REASON_REQUIRED",
                record_id=record_id,
                signature_verdict=verdict.indication.value if verdict else None,
            )
    values = {
        "returned": True,
        "return_reason": nfc(reason.strip()),
        "returned_at": to_iso_utc(utcnow()),
        "returned_by": actor.user,
    }
    try:
        return repo.set_extra(record_id, values, actor=actor, action="record:return")
    except Conflict:
        latest = repo.get(record_id, actor=actor)
        if latest.extra.get("returned"):
            return latest
        raise
