"""The retention workflow over the store: the schedule table, the Danh mục hồ sơ, closing hồ sơ
and nộp lưu. The rules are the pure functions of :mod:`retention.schedule`,
:mod:`retention.fileplan`, :mod:`retention.closing` and :mod:`retention.submission`; this module
reads and writes through :class:`~repository.records.Repository` (access decided by its one
policy, every step an audit event) and keeps its own versioned objects:

* ``retention/schedule/v<n>.json`` — the retention schedule table (format ``retention-schedule``);
* ``retention/plans/<year>/v<n>.json`` — the Danh mục hồ sơ of a year (format ``file-plan``);
* the nộp lưu state of a hồ sơ lives in the hồ sơ itself (its ``state`` and, under
  ``extra["submission"]``, a ``submission``-format object), so a step is one atomic write.

Versions are created with ``put_if_absent``: two people editing the same version cannot both win
(``VERSION_CONFLICT``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kho.digits import ascii_int
from kho.errors import AlreadyExists, Conflict, IntegrityError, KhoError, NotFound, ValidationFailed
from kho.timeutil import parse_iso, to_iso_utc, vn_date
from repository import formats
from repository.due_notices import ALERT_PREFIX
from repository.metadata import DocumentMetadata, FileMetadata
from repository.policy import Action, Role, decide
from repository.records import KIND_FILE, RECALL_KEY, Actor, Record, Repository, duplicate_key
from repository.vocabulary import blank, refuse_line_breaks, typed_text
from retention import closing, fileplan, submission
from retention.closing import ClosingReport, DocumentFacts
from retention.destruction import CLOSED_STATES
from retention.fileplan import FilePlan, PlanState
from retention.schedule import (
    Retention,
    Schedule,
    ScheduleEntry,
    default_schedule,
    parse_entries,
    parse_retention,
    propose,
)
from retention.submission import Alert, CheckResult, DueItem, SubmissionError, SubmissionState

RETENTION_ACTOR = Actor(user="system", source="retention", system=True)
"""Kho's own retention process (page counts, fixity checks, alerts): trusted code."""

SCHEDULE_PREFIX = "retention/schedule/"
PLAN_PREFIX = "retention/plans/"

ALERT_CLAIM_ABANDONED = timedelta(hours=1)
"""A due alert's claim this old is taken over by the next run (:meth:`RetentionService.send_alerts`):
the default hard time limit of a periodic task (``KHO_PERIODIC_TIME_LIMIT``), past which the run
that claimed it has ended."""


class FileState:
    """States of a hồ sơ along its life (``Record.state``)."""

    OPEN = "active"
    CLOSED = "closed"
    SUBMITTED = "submitted"
    ARCHIVED = "archived"
    """Accepted by the lưu trữ: under archival management (lưu trữ cơ quan / hiện hành)."""


FILE_STATE_LABELS = {
    "active": "Đang lập",
    "closed": "Đã kết thúc",
    "submitted": "Chờ tiếp nhận nộp lưu",
    "archived": "Lưu trữ cơ quan",
}


def _vkey(prefix: str, version: int) -> str:
    return f"{prefix}v{version:06d}.json"


def page_count(data: bytes) -> int | None:
    """Pages of a PDF (pypdfium2), None when it is not one Kho can open (a decompression bomb
    included: the stream-bomb guard runs before pdfium)."""
    import pypdfium2 as pdfium

    from ingest.text.errors import FileBomb
    from ingest.text.guards import refuse_pdf_bomb

    try:
        refuse_pdf_bomb(data)
        pdf = pdfium.PdfDocument(data)
    except (pdfium.PdfiumError, FileBomb):
        return None
    try:
        return len(pdf)
    finally:
        pdf.close()


@dataclass(frozen=True)
class Review:
    """What the lưu trữ viên sees of a submitted (or archived) hồ sơ: its checks and the
    catalogue facts of its documents (the review page's mục lục), read under the one rule of
    the archive (:func:`~repository.policy.receives_submission`)."""

    file: Record
    checks: tuple[CheckResult, ...]
    documents: tuple[DocumentFacts, ...] = ()
    recalled: frozenset[str] = frozenset()
    """Ids of the documents the reader may not open because their issuer recalled them (thu hồi:
    the policy's ``RECORD_RECALLED``): the mục lục marks them instead of linking to a refusal."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


class RetentionService:
    def __init__(self, repo: Repository, *, clock: Callable[[], datetime] | None = None) -> None:
        self.repo = repo
        self.store = repo.store
        self.clock = clock or repo.clock

    def today(self) -> date:
        return vn_date(self.clock())

    def _now(self) -> str:
        return to_iso_utc(self.clock())

    # -- versioned objects -------------------------------------------------------------------
    def _latest(self, prefix: str) -> int:
        last = 0
        for info in self.store.list(prefix):
            name = info.key[len(prefix) :]
            if name.startswith("v") and name.endswith(".json") and name[1:-5].isdigit():
                last = max(last, int(name[1:-5]))
        return last

    def _read(self, prefix: str, version: int, kind: formats.Kind) -> dict[str, Any]:
        return formats.unstamped(kind.name, formats.loads(kind.name, self.store.get(_vkey(prefix, version))))

    def _write(
        self, prefix: str, version: int, kind: formats.Kind, data: Mapping[str, Any], what: str
    ) -> None:
        try:
            self.store.put_if_absent(
                _vkey(prefix, version), formats.dumps(kind.name, dict(data), ensure_ascii=False)
            )
        except AlreadyExists as exc:
            raise Conflict(
                f"{what} vừa được người khác cập nhật (phiên bản {version} đã có). Hãy tải lại.",
                version=version,
            ) from exc

    @staticmethod
    def _expect(current: int, expected: int | None, what: str) -> None:
        if expected is not None and expected != current:
            raise Conflict(
                f"{what} đã thay đổi (phiên bản hiện tại {current}, bạn sửa phiên bản {expected})."
                " Hãy tải lại.",
                version=current,
                expected_version=expected,
            )

    # -- retention schedule ----------------------------------------------------------------
    def schedule(self) -> Schedule:
        """The current schedule table (the shipped one until a quản trị edits it)."""
        latest = self._latest(SCHEDULE_PREFIX)
        if latest == 0:
            return default_schedule()
        data = self._read(SCHEDULE_PREFIX, latest, formats.RETENTION_SCHEDULE)
        from retention.schedule import schedule_from_dict

        return schedule_from_dict(data)

    def edit_schedule(self, entries: Any, *, expected_version: int, note: str, actor: Actor) -> Schedule:
        self.repo.authorize_for_agency(actor, Action.SCHEDULE_EDIT)
        current = self.schedule()
        self._expect(current.version, expected_version, "Bảng thời hạn bảo quản")
        parsed = parse_entries(entries)
        # Kept whole: typed_text's NOTE limit is the one rule (r34: it was cut at 500 silently).
        text = " ".join(typed_text(note or "", "note", "Căn cứ, lý do sửa bảng").split())
        if blank(text):
            raise KhoError("Cần ghi căn cứ/lý do sửa bảng thời hạn bảo quản.", code="REASON_REQUIRED")
        new = Schedule(current.version + 1, parsed, current.source, actor.user, self._now(), text)
        self._write(
            SCHEDULE_PREFIX, new.version, formats.RETENTION_SCHEDULE, new.to_dict(), "Bảng thời hạn bảo quản"
        )
        self.repo.audit.append(
            actor.user,
            "retention:schedule-edit",
            source=actor.source,
            details={"version": new.version, "entries": len(parsed), "note": new.note},
        )
        return new

    def propose(self, title: str) -> ScheduleEntry | None:
        return propose(self.schedule(), title)

    # -- Danh mục hồ sơ --------------------------------------------------------------------
    @staticmethod
    def _plan_prefix(year: int) -> str:
        return f"{PLAN_PREFIX}{year:04d}/"

    def plan(self, year: int) -> FilePlan:
        latest = self._latest(self._plan_prefix(year))
        if latest == 0:
            raise NotFound(f"Chưa có danh mục hồ sơ năm {year}.", code="PLAN_NOT_FOUND", year=year)
        return fileplan.plan_from_dict(self._read(self._plan_prefix(year), latest, formats.FILE_PLAN))

    def _with_drafters(self, plan: FilePlan) -> FilePlan:
        """``plan`` with its drafters known: a version stored in format 1 kept only its last
        drafter, so every earlier draft version of the year is read for the others."""
        if plan.drafters is not None:
            return plan
        prefix = self._plan_prefix(plan.year)
        versions = [
            fileplan.plan_from_dict(self._read(prefix, n, formats.FILE_PLAN)) for n in range(1, plan.version)
        ]
        names = [v.drafted_by for v in (*versions, plan) if v.state is PlanState.DRAFT and v.drafted_by]
        return replace(plan, drafters=tuple(dict.fromkeys(names)))

    def plan_years(self) -> list[int]:
        years = {info.key[len(PLAN_PREFIX) :].split("/", 1)[0] for info in self.store.list(PLAN_PREFIX)}
        return sorted((y for y in map(ascii_int, years) if y is not None), reverse=True)

    def plans(self) -> list[FilePlan]:
        return [self.plan(y) for y in self.plan_years()]

    def _save_plan(self, plan: FilePlan, actor: Actor, action: str) -> FilePlan:
        self._write(
            self._plan_prefix(plan.year),
            plan.version,
            formats.FILE_PLAN,
            plan.to_dict(),
            f"Danh mục hồ sơ năm {plan.year}",
        )
        self.repo.audit.append(
            actor.user,
            action,
            source=actor.source,
            details={
                "year": plan.year,
                "version": plan.version,
                "state": plan.state.value,
                "items": len(plan.items),
            },
        )
        return plan

    def draft_plan(
        self, raw: Mapping[str, Any], *, actor: Actor, expected_version: int | None = None
    ) -> FilePlan:
        """Create or revise the draft of a year's plan (the agency's văn thư or lưu trữ viên:
        ``policy.AGENCY_ACTIONS``, ND30 Điều 28)."""
        self.repo.authorize_for_agency(actor, Action.PLAN_DRAFT)
        new = fileplan.parse_plan(raw, organ_id=self.repo.agency_id)
        try:
            current = self.plan(new.year)
        except NotFound:
            if expected_version not in (None, 0):
                raise Conflict(f"Chưa có danh mục hồ sơ năm {new.year} để sửa.", version=0) from None
            return self._save_plan(
                fileplan.first_draft(new, by=actor.user, at=self._now()), actor, "plan:draft"
            )
        if expected_version is None:
            raise Conflict(
                f"Danh mục hồ sơ năm {new.year} đã có (phiên bản {current.version}): gửi kèm phiên bản"
                " đang sửa.",
                version=current.version,
            )
        self._expect(current.version, expected_version, f"Danh mục hồ sơ năm {new.year}")
        revised = fileplan.revise(self._with_drafters(current), new, by=actor.user, at=self._now())
        return self._save_plan(revised, actor, "plan:draft")

    def approve_plan(self, year: int, *, expected_version: int, actor: Actor) -> FilePlan:
        """The head of the agency approves the year's draft (ND30 Điều 28: the agency's own unit's
        lãnh đạo, :func:`~repository.policy.decide_for_agency`; never one of its drafters)."""
        self.repo.authorize_for_agency(actor, Action.PLAN_APPROVE)
        current = self.plan(year)
        self._expect(current.version, expected_version, f"Danh mục hồ sơ năm {year}")
        approved = fileplan.approve(self._with_drafters(current), by=actor.user, at=self._now())
        return self._save_plan(approved, actor, "plan:approve")

    def issue_plan(self, year: int, *, expected_version: int, actor: Actor) -> FilePlan:
        """The head of the agency issues the approved plan (the same rule as :meth:`approve_plan`)."""
        self.repo.authorize_for_agency(actor, Action.PLAN_APPROVE)
        current = self.plan(year)
        self._expect(current.version, expected_version, f"Danh mục hồ sơ năm {year}")
        known = self._with_drafters(current)
        issued = fileplan.issue(known, by=actor.user, at=self._now(), today=self.today())
        return self._save_plan(issued, actor, "plan:issue")

    def is_plan_author(self, plan: FilePlan, actor: Actor) -> bool:
        """Whether ``actor`` drafted or re-saved ``plan`` (:func:`fileplan.is_author`): the plan
        page offers them neither approval nor issue."""
        return fileplan.is_author(self._with_drafters(plan), actor.user)

    def export_plan(self, year: int, *, actor: Actor, fmt: str) -> FilePlan:
        """The plan to print or export (audited as ``plan:export``)."""
        plan = self.plan(year)
        self.repo.audit_export(actor, "plan", {"year": year, "version": plan.version, "format": fmt})
        return plan

    # -- lập hồ sơ -------------------------------------------------------------------------
    def open_file(
        self, year: int, notation: str, *, actor: Actor, start_date: date | None = None, description: str = ""
    ) -> Record:
        """Open a hồ sơ from an issued plan's row: its số và ký hiệu, title and period come from
        the plan (ND30 Điều 29 k1); documents added to it carry its file code."""
        plan = self.plan(year)
        if plan.state is not PlanState.ISSUED:
            raise KhoError(
                f"Danh mục hồ sơ năm {year} chưa được ban hành.", code="PLAN_NOT_ISSUED", year=year
            )
        item = plan.item(notation.strip().upper())
        if item is None:
            raise NotFound(
                f"Không có hồ sơ “{notation}” trong danh mục hồ sơ năm {year}.", code="PLAN_ITEM_UNKNOWN"
            )
        metadata: dict[str, Any] = {
            "file_catalog": year,
            "file_notation": item.notation,
            "title": item.title,
            "maintenance": item.retention.label,
            "creator": item.creator,
            "start_date": (start_date or self.today()).isoformat(),
        }
        if description:
            metadata["description"] = description
        return self.repo.create_file(metadata, actor)

    def _documents(self, file: Record) -> list[Record]:
        out = []
        for doc_id in file.documents:
            try:
                out.append(self.repo._load(doc_id))
            except NotFound:
                continue
        return out

    @staticmethod
    def facts_of(doc: Record, *, page_amount: int | None = None) -> DocumentFacts:
        md = doc.metadata
        fields: dict[str, Any] = {}
        dup = None
        if isinstance(md, DocumentMetadata):
            fields = {
                "so_ky_hieu": md.so_ky_hieu,
                "code_number": md.code_number,
                "code_notation": md.code_notation,
                "issued_date": md.issued_date,
                "type_name": md.type_name,
                "subject": md.subject,
                "organ_name": md.organ_name,
                "description": md.description,
                "language": md.language,
                "page_amount": md.page_amount or page_amount,
            }
            dup = duplicate_key(md, md.issued_date.year) if md.issued_date else None
        draft = bool(doc.extra.get("draft")) or "dự thảo" in str(fields.get("type_name") or "").casefold()
        return DocumentFacts(doc.record_id, doc.registration is not None, doc.state, fields, dup, draft)

    def _pages(self, documents: Iterable[Record]) -> dict[str, int]:
        """Page counts of documents that lack one (PageAmount, Phụ lục VI auto-filled field)."""
        out: dict[str, int] = {}
        for doc in documents:
            md = doc.metadata
            if (
                not isinstance(md, DocumentMetadata)
                or md.page_amount
                or not doc.files
                or doc.state == "destroyed"
            ):
                continue
            try:
                _, data = self.repo.read_content(
                    doc.record_id, actor=RETENTION_ACTOR, action="retention:page-count"
                )
            except (NotFound, IntegrityError):
                continue
            pages = page_count(data)
            if pages:
                out[doc.record_id] = min(pages, 999)
        return out

    def closing_report(
        self, file_id: str, *, end_date: date, actor: Actor
    ) -> tuple[Record, ClosingReport, dict[str, int]]:
        """The findings of closing the hồ sơ on ``end_date``, as ``actor`` may read them: those of
        a document they may not see (``policy.sees``) name no document (``closing.check_closing``'s
        ``hidden``), and the page counts of the documents."""
        file, _whole, shown, pages = self._closing_reports(file_id, end_date=end_date, actor=actor)
        return file, shown, pages

    def _closing_reports(
        self, file_id: str, *, end_date: date, actor: Actor
    ) -> tuple[Record, ClosingReport, ClosingReport, dict[str, int]]:
        """:meth:`closing_report` with the whole report beside the one shown to ``actor`` (what a
        closed hồ sơ keeps in ``closing_flags``: shown to each reader by ``as_seen_by``)."""
        file = self.repo.get(file_id, actor=actor)
        if file.kind != KIND_FILE:
            raise NotFound(f"“{file_id}” không phải là hồ sơ.", record_id=file_id)
        self.repo.authorize(actor, Action.FILE_EDIT, file)
        md = file.metadata
        assert isinstance(md, FileMetadata)
        documents = self._documents(file)
        pages = self._pages(documents)
        facts = [self.facts_of(d, page_amount=pages.get(d.record_id)) for d in documents]
        check = functools.partial(
            closing.check_closing,
            facts,
            retention=parse_retention(md.maintenance),
            plan_retention=self._plan_retention(file),
            start_date=md.start_date,
            end_date=end_date,
            today=self.today(),
            earlier=self._earlier_closings(file),
        )
        whole = check()
        hidden = {d.record_id for d in documents if not self.repo.may_see(actor, d)}
        return file, whole, check(hidden=hidden) if hidden else whole, pages

    def _earlier_closings(self, file: Record) -> tuple[closing.EarlierClosing, ...]:
        """The closings a reopened hồ sơ had (its earlier versions in a closed state), each
        period with its end date, newest first; none for a hồ sơ never reopened (no read). A
        period no longer readable is left out (it was validated when written)."""
        if "reopened_at" not in file.extra:
            return ()
        out: list[closing.EarlierClosing] = []
        for number in range(file.version - 1, 0, -1):
            version = self.repo._load(file.record_id, number)
            md = version.metadata
            if version.state not in CLOSED_STATES or not isinstance(md, FileMetadata) or md.end_date is None:
                continue
            try:
                earlier = closing.EarlierClosing(parse_retention(md.maintenance), md.end_date)
            except ValidationFailed:
                continue
            if earlier not in out:
                out.append(earlier)
        return tuple(out)

    def _plan_retention(self, file: Record) -> Retention | None:
        """The thời hạn bảo quản the Danh mục hồ sơ gives a hồ sơ (None: not in an issued plan):
        the longest of the plan rows it was opened under (its first version) and the row it
        names now. Moving the start date (hence the plan year) or the số, ký hiệu to a row or a
        year without a plan does not drop the plan's period and let a shorter one be closed."""
        versions = [file] if file.version == 1 else [self.repo._load(file.record_id, 1), file]
        longest: Retention | None = None
        for version in versions:
            md = version.metadata
            if not isinstance(md, FileMetadata):
                continue
            try:
                item = self.plan(md.file_catalog).item(md.file_notation)
            except NotFound:
                continue
            if item is not None and (longest is None or not longest.at_least(item.retention)):
                longest = item.retention
        return longest

    def close_file(self, file_id: str, *, end_date: date, expected_version: int, actor: Actor) -> Record:
        """Kết thúc hồ sơ (Điều 29 k4): refused with the first blocking finding's code (nothing
        written); otherwise page counts are filled, then the hồ sơ is closed in one version."""
        file, report, shown, pages = self._closing_reports(file_id, end_date=end_date, actor=actor)
        if file.state != FileState.OPEN:
            raise KhoError("Hồ sơ đã kết thúc.", code="FILE_STATE_INVALID", state=file.state)
        if file.version != expected_version:
            self._expect(file.version, expected_version, f"Hồ sơ “{file_id}”")
        shown.raise_if_blocked()
        for doc_id, count in pages.items():
            doc = self.repo._load(doc_id)
            self.repo.update_metadata(
                doc_id,
                {"page_amount": count},
                expected_version=doc.version,
                actor=RETENTION_ACTOR,
                note="Số trang tính từ tệp PDF khi kết thúc hồ sơ",
            )
        documents = self._documents(file)
        facts = [self.facts_of(d) for d in documents]
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.FILE_EDIT,
            action="file:close",
            state=FileState.CLOSED,
            changes={"end_date": end_date.isoformat()},
            extra={
                "closed_at": self._now(),
                "closed_by": actor.user,
                "doc_total": len(facts),
                "page_total": closing.page_total(facts),
                "closing_flags": [f.to_dict() for f in report.flags],
            },
            details={"flags": [f.code for f in report.flags], "documents": len(facts)},
        )

    def reopen_file(self, file_id: str, *, reason: str, expected_version: int, actor: Actor) -> Record:
        """Mở lại a closed hồ sơ (not one submitted or archived) with a reason: audited."""
        file = self.repo.get(file_id, actor=actor)
        refuse_line_breaks(reason, "reason", "Lý do mở lại hồ sơ")
        text = " ".join(typed_text(reason or "", "reason", "Lý do mở lại hồ sơ").split())
        if blank(text):
            raise KhoError("Cần ghi lý do mở lại hồ sơ.", code="REASON_REQUIRED")
        if file.state != FileState.CLOSED:
            raise KhoError(
                "Chỉ mở lại được hồ sơ đã kết thúc (trạng thái hiện tại:"
                f" {FILE_STATE_LABELS.get(file.state, file.state)}).",
                code="FILE_STATE_INVALID",
                state=file.state,
            )
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.FILE_EDIT,
            action="file:reopen",
            state=FileState.OPEN,
            extra={"reopened_at": self._now(), "reopen_reason": text},
            details={"reason": text},
        )

    def catalogue(self, file_id: str, *, actor: Actor) -> tuple[Record, list[DocumentFacts]]:
        """A hồ sơ and its documents (those the person may see), for the mục lục and exports."""
        file = self.repo.get(file_id, actor=actor)
        if file.kind != KIND_FILE:
            raise NotFound(f"“{file_id}” không phải là hồ sơ.", record_id=file_id)
        docs = [d for d in self._documents(file) if self.repo.may_see(actor, d)]
        return file, [self.facts_of(d) for d in docs]

    def file_fields(self, file: Record, documents: list[DocumentFacts]) -> dict[str, Any]:
        md = file.metadata
        assert isinstance(md, FileMetadata)
        return {
            "OrganId": md.organ_id,
            "FileCatalog": md.file_catalog,
            "FileNotation": md.file_notation,
            "Title": md.title,
            "Maintenance": md.maintenance,
            "Rights": md.rights,
            "Creator": md.creator,
            "Language": md.language,
            "StartDate": md.start_date.isoformat(),
            "EndDate": md.end_date.isoformat() if md.end_date else "",
            "DocTotal": len(documents),
            "PageTotal": closing.page_total(documents),
            "Description": md.description or "",
        }

    def export_file_xml(self, file_id: str, *, actor: Actor) -> bytes:
        file, docs = self.catalogue(file_id, actor=actor)
        self.repo.audit_export(actor, "file", {"record_id": file_id, "format": "xml"})
        return closing.file_xml(self.file_fields(file, docs), docs)

    # -- nộp lưu ---------------------------------------------------------------------------
    @staticmethod
    def holder(file: Record) -> str:
        return str(file.extra.get("holder") or file.created_by)

    @staticmethod
    def due_item(file: Record) -> DueItem | None:
        md = file.metadata
        if (
            file.kind != KIND_FILE
            or file.state != FileState.CLOSED
            or not isinstance(md, FileMetadata)
            or md.end_date is None
        ):
            return None
        kept = file.extra.get("kept_until")
        return DueItem(
            file.record_id,
            md.end_date,
            None,
            date.fromisoformat(kept) if kept else None,
            RetentionService.holder(file),
            md.title,
            md.file_notation,
        )

    def _files(self) -> Iterable[Record]:
        """Every hồ sơ (latest versions): the catalog marker names each record's kind, so
        documents are never opened."""
        for info in self.store.list("catalog/records/"):
            try:
                kind = formats.loads(formats.CATALOG_MARKER.name, self.store.get(info.key)).get("kind")
                if kind != KIND_FILE:
                    continue
                record = self.repo._load(info.key.rsplit("/", 1)[1])
            except NotFound:
                continue
            if record.kind == KIND_FILE:
                yield record

    def all_alerts(self, today: date | None = None) -> list[Alert]:
        items = [i for i in (self.due_item(f) for f in self._files()) if i is not None]
        return submission.due_alerts(items, today or self.today())

    def alerts(self, *, actor: Actor) -> list[Alert]:
        """Alerts the person should see: those of the hồ sơ they hold; a lưu trữ viên sees every
        hồ sơ they may see (the lưu trữ is alerted too, Phụ lục VI III.5.b)."""
        return [alert for alert in self.all_alerts() if self.told(actor, alert)]

    def told(self, actor: Actor, alert: Alert, file: Record | None = None) -> bool:
        """Whether ``actor`` is told of ``alert`` (the list above, and its notification): the hồ
        sơ's holder, and a lưu trữ viên who may see the hồ sơ (``file``: the hồ sơ, when read
        already). One rule for both: the notification went to every lưu trữ viên of every unit,
        naming the id, due date and overdue days of hồ sơ the list (and the record's page) kept
        from them (review rv58)."""
        if alert.holder == actor.user:
            return True
        if not actor.as_principal.has(Role.LUU_TRU):
            return False
        return self.repo.may_see(actor, file if file is not None else self.repo._load(alert.file_id))

    def send_alerts(
        self,
        notify: Callable[[str, str, str, str], None],
        archivists: Iterable[Actor],
        *,
        abandoned_after: timedelta = ALERT_CLAIM_ABANDONED,
    ) -> list[Alert]:
        """The beat task's step: notify the holder and each of ``archivists`` told of it
        (:meth:`told`) of each alert once per hồ sơ, level and due date. A run claims an alert
        (``.claim``), sends it, then marks it sent (``.json``, which a rerun skips). An alert
        interrupted before it is sent whole (the task's time limit, a store error) gives its
        claim back; a claim that could not be given back (the store down at that moment) is
        taken over by a run ``abandoned_after`` later (past the task's hard time limit its run
        is over): a person told twice, never nobody."""
        sent = []
        people = list(archivists)
        for alert in self.all_alerts():
            marker = f"{ALERT_PREFIX}{alert.file_id}/{alert.level.value}-{alert.due.isoformat()}"
            if self.store.exists(f"{marker}.json"):
                continue  # sent (or, before rv28, claimed)
            if not self._claim_alert(f"{marker}.claim", abandoned_after):
                continue
            try:
                file = self.repo._load(alert.file_id)
                told = [a.user for a in people if self.told(a, alert, file)]
                for user in dict.fromkeys([alert.holder, *told]):
                    if user:
                        notify(user, "retention:due", alert.notice, alert.file_id)
                self.repo.audit.append(
                    "system",
                    "retention:alert",
                    record_id=alert.file_id,
                    source="retention",
                    details={
                        "level": alert.level.value,
                        "due": alert.due.isoformat(),
                        "holder": alert.holder,
                    },
                )
            except BaseException:
                self.store.delete(f"{marker}.claim")
                raise
            with contextlib.suppress(AlreadyExists):
                self.store.put_if_absent(f"{marker}.json", b'{"sent": true}')
            self.store.delete(f"{marker}.claim")
            sent.append(alert)
        return sent

    def _claim_alert(self, key: str, abandoned_after: timedelta) -> bool:
        """Claim an alert for this run; False when another run holds a claim younger than
        ``abandoned_after`` (an older one is taken over)."""
        claim = json.dumps({"at": self._now()}).encode()
        try:
            self.store.put_if_absent(key, claim)
            return True
        except AlreadyExists:
            pass
        try:
            at = parse_iso(str(json.loads(self.store.get(key))["at"]))
        except NotFound:
            at = None  # given back meanwhile
        except (ValueError, KeyError, TypeError):
            at = datetime.min.replace(tzinfo=UTC)  # unreadable: not a live run's
        if at is not None and self.clock() - at < abandoned_after:
            return False
        self.store.delete(key)
        try:
            self.store.put_if_absent(key, claim)
        except AlreadyExists:
            return False
        return True

    def _submission(self, file: Record) -> dict[str, Any]:
        raw = file.extra.get("submission")
        if not raw:
            return {"state": "", "history": []}
        return formats.unstamped(formats.SUBMISSION.name, formats.upcast(formats.SUBMISSION.name, raw))

    def submission_of(self, file: Record) -> dict[str, Any]:
        return self._submission(file)

    def shown_to(self, file: Record, actor: Actor, *, acted_on: Record | None = None) -> Record:
        """``file`` in the answer to a retention act or list (API and CLI): whole to the lưu trữ
        viên who receives it (:meth:`Repository.receives_submission`: the sight the archive's
        work needs, which :func:`~repository.policy.sees` does not give for the hồ sơ of a phòng
        below theirs), otherwise as :meth:`Repository.shown_to` shows it. ``acted_on``: the
        version the act was decided on (:meth:`version_acted_on`): the answer to a return shows
        the archivist what they read to return it, though the hồ sơ is no longer the archive's."""
        if not self.repo.may_see(actor, file) and self._receives(file, actor, acted_on):
            return file
        return self.repo.shown_to(file, actor)

    def sees(self, file: Record, actor: Actor, *, acted_on: Record | None = None) -> bool:
        """Whether ``actor`` sees ``file`` in a retention answer (:meth:`shown_to` shows it
        whole): a reader of it, or the lưu trữ viên who receives it. Its nộp lưu (who submitted
        it, each step) is shown to them only."""
        return self.repo.may_see(actor, file) or self._receives(file, actor, acted_on)

    def _receives(self, file: Record, actor: Actor, acted_on: Record | None) -> bool:
        if self.repo.receives_submission(actor, file):
            return True
        return (
            acted_on is not None
            and acted_on.record_id == file.record_id
            and bool(self.repo.receives_submission(actor, acted_on))
        )

    def version_acted_on(self, file: Record, version: int) -> Record:
        """The version ``version`` of ``file`` that an act just succeeded on (its
        ``expected_version``), for :meth:`shown_to`'s ``acted_on``."""
        return self.repo._load(file.record_id, version)

    def _step(self, file: Record, state: str, by: str, **more: Any) -> dict[str, Any]:
        current = self._submission(file)
        entry = {"state": state, "by": by, "at": self._now(), **more}
        data = {**current, "state": state, "history": [*current.get("history", []), entry]}
        if state == SubmissionState.SUBMITTED:
            data["submitted_by"] = by
            data["submitted_at"] = entry["at"]
        return formats.stamp(formats.SUBMISSION.name, data)

    def submit(self, file_id: str, *, expected_version: int, actor: Actor) -> Record:
        """The holder submits a closed hồ sơ for nộp lưu."""
        file = self.repo.get(file_id, actor=actor)
        if file.state != FileState.CLOSED:
            raise SubmissionError(
                "Chỉ nộp lưu được hồ sơ đã kết thúc.", code="FILE_NOT_CLOSED", state=file.state
            )
        due = self.due_item(file)
        assert due is not None
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.FILE_EDIT,
            action="submission:submit",
            state=FileState.SUBMITTED,
            extra={"submission": self._step(file, SubmissionState.SUBMITTED, actor.user)},
        )

    def inbox(self, *, actor: Actor) -> list[Record]:
        """Hồ sơ waiting for the lưu trữ viên: those they receive as Lưu trữ cơ quan
        (:func:`~repository.policy.receives_submission`: their units and the units below, and
        nothing above their clearance)."""
        return self._received(actor, FileState.SUBMITTED)

    def _received(self, actor: Actor, state: str) -> list[Record]:
        self.repo.authorize(actor, Action.SUBMISSION_REVIEW)
        return [f for f in self._files() if f.state == state and self.repo.receives_submission(actor, f)]

    def _evidence(self, doc: Record) -> submission.DocumentEvidence:
        label = doc.so_ky_hieu or doc.record_id
        if not doc.files or doc.state == "destroyed":
            return submission.DocumentEvidence(doc.record_id, label, None, False, "")
        stored = doc.files[0]
        ok = True
        try:
            _, data = self.repo.read_content(doc.record_id, actor=RETENTION_ACTOR, action="retention:fixity")
            ok = hashlib.sha256(data).hexdigest() == stored.sha256
        except (IntegrityError, NotFound, KhoError):
            ok = False
        return submission.DocumentEvidence(
            doc.record_id, label, doc.extra.get("signature_verdict"), ok, stored.media_type
        )

    def review(self, file_id: str, *, actor: Actor) -> Review:
        """The four checks of a submitted hồ sơ, with the catalogue facts of its documents (the
        lưu trữ viên; audited as a view). Who reads it is decided by the archive's one rule
        (:meth:`Repository.authorize_submission`): the hồ sơ of a phòng below the lưu trữ viên's
        unit, which :func:`~repository.policy.sees` does not give them, included (review rv40:
        the review page read it by the ordinary rule and answered 404)."""
        self.repo.authorize(actor, Action.SUBMISSION_REVIEW)
        file = self.repo._load(file_id)
        self.repo.authorize_submission(actor, file)
        if file.kind != KIND_FILE:
            raise NotFound(f"“{file_id}” không phải là hồ sơ.", record_id=file_id)
        md = file.metadata
        assert isinstance(md, FileMetadata)
        try:
            plan = self.plan(md.file_catalog)
            notations: list[str] | None = (
                [i.notation for i in plan.items] if plan.state is PlanState.ISSUED else []
            )
        except NotFound:
            notations = []
        documents = self._documents(file)
        checks = submission.run_checks(
            [self._evidence(d) for d in documents],
            file_notation=md.file_notation,
            plan_notations=notations,
        )
        self.repo.audit.append(
            actor.user,
            "submission:review",
            record_id=file_id,
            source=actor.source,
            details={c.name.value: c.passed for c in checks},
        )
        return Review(
            file, checks, tuple(self.facts_of(d) for d in documents), self._recalled(actor, documents)
        )

    def _recalled(self, actor: Actor, documents: Iterable[Record]) -> frozenset[str]:
        """The documents the one access policy refuses ``actor`` as recalled (``RECORD_RECALLED``;
        a recipient's hồ sơ at the archive: :func:`~repository.policy.recalled_from_archive`).
        Only a recalled văn bản đi is asked: nothing else can be refused so."""
        if actor.system:
            return frozenset()
        return frozenset(
            d.record_id
            for d in documents
            if d.extra.get(RECALL_KEY)
            and decide(actor.as_principal, Action.RECORD_VIEW, self.repo.facts(d)).code == "RECORD_RECALLED"
        )

    def accept(self, file_id: str, *, expected_version: int, actor: Actor) -> Record:
        """The lưu trữ viên accepts: the hồ sơ passes to archival management (lưu trữ cơ quan)."""
        review = self.review(file_id, actor=actor)
        file = review.file
        sub = self._submission(file)
        if file.state != FileState.SUBMITTED:
            raise SubmissionError(
                "Hồ sơ không ở trạng thái chờ tiếp nhận nộp lưu.", code="SUBMISSION_STATE_INVALID"
            )
        submission.check_accept(
            sub.get("state", ""),
            submitted_by=sub.get("submitted_by", ""),
            by=actor.user,
            checks=review.checks,
        )
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.SUBMISSION_REVIEW,
            action="submission:accept",
            state=FileState.ARCHIVED,
            extra={
                "submission": self._step(
                    file,
                    SubmissionState.ACCEPTED,
                    actor.user,
                    checks={c.name.value: c.passed for c in review.checks},
                ),
                "archived_at": self._now(),
            },
        )

    def return_file(self, file_id: str, *, reason: str, expected_version: int, actor: Actor) -> Record:
        """The lưu trữ viên returns a submitted hồ sơ to its holder with a reason (it is closed
        again: the holder reopens it to fix it, or submits it again)."""
        self.repo.authorize(actor, Action.SUBMISSION_REVIEW)
        file = self.repo._load(file_id)
        self.repo.authorize_submission(actor, file)
        sub = self._submission(file)
        text = submission.check_return(
            sub.get("state", "") if file.state == FileState.SUBMITTED else "", reason
        )
        if actor.user == sub.get("submitted_by"):
            raise SubmissionError(
                "Người nộp lưu không được tự xử lý hồ sơ của mình.", code="SUBMISSION_SELF_ACCEPT"
            )
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.SUBMISSION_REVIEW,
            action="submission:return",
            state=FileState.CLOSED,
            extra={"submission": self._step(file, SubmissionState.RETURNED, actor.user, reason=text)},
            details={"reason": text},
        )

    def keep(self, file_id: str, *, until: date, reason: str, expected_version: int, actor: Actor) -> Record:
        """The head approves keeping a due hồ sơ in the unit until ``until`` (≤ 2 years past
        the due date; Điều 31 k3 d)."""
        self.repo.authorize(actor, Action.FILE_KEEP_APPROVE)
        file = self.repo.get(file_id, actor=actor)
        item = self.due_item(file)
        if item is None:
            raise SubmissionError("Chỉ giữ lại được hồ sơ đã kết thúc, chưa nộp lưu.", code="FILE_NOT_CLOSED")
        refuse_line_breaks(reason, "reason", "Lý do giữ lại hồ sơ")
        text = " ".join(typed_text(reason or "", "reason", "Lý do giữ lại hồ sơ").split())
        if blank(text):
            raise KhoError("Cần ghi lý do giữ lại hồ sơ.", code="REASON_REQUIRED")
        submission.check_keep(item.end_date, until, self.today())
        return self.repo.transition_file(
            file_id,
            expected_version=expected_version,
            actor=actor,
            permission=Action.FILE_KEEP_APPROVE,
            action="file:keep",
            extra={"kept_until": until.isoformat(), "keep_approved_by": actor.user, "keep_reason": text},
            details={"until": until.isoformat(), "reason": text},
        )

    def handover(self, from_user: str, to_user: str, *, actor: Actor) -> list[str]:
        """A person leaving hands over their hồ sơ (Điều 31 k3 đ): every hồ sơ they hold and
        that is not yet with the lưu trữ gets ``to_user`` as holder and a grant, in one version
        each (lãnh đạo or quản trị; audited per hồ sơ). Every hồ sơ is decided before any is
        handed over, so a refusal leaves them all with ``from_user``; a process killed midway
        leaves each hồ sơ with one keeper, the old or the new, and the same handover run again
        hands over the rest."""
        if from_user == to_user or not to_user:
            raise KhoError("Người nhận bàn giao phải khác người bàn giao.", code="HANDOVER_INVALID")
        files = [f for f in self._files() if self.holder(f) == from_user and f.state != FileState.ARCHIVED]
        for file in files:
            self.repo.authorize_hand_over(file.record_id, to_user, actor=actor)
        for file in files:
            self.repo.hand_over(
                file.record_id,
                to_user,
                actor=actor,
                extra={"holder": to_user},
                details={"from": from_user, "to": to_user},
            )
        return [f.record_id for f in files]

    # -- outputs ---------------------------------------------------------------------------
    def archived(self, *, actor: Actor) -> list[Record]:
        """Hồ sơ in the archive's keeping, as :meth:`inbox` decides who sees them."""
        return self._received(actor, FileState.ARCHIVED)


SUBMISSION_COLUMNS = (
    "Số TT",
    "Số, ký hiệu hồ sơ",
    "Tiêu đề hồ sơ",
    "Thời gian tài liệu",
    "Thời hạn bảo quản",
    "Số tờ/Số trang",
    "Ghi chú",
)


def submission_rows(files: Iterable[Record]) -> list[tuple[str, ...]]:
    """Mục lục hồ sơ, tài liệu nộp lưu (Phụ lục V)."""
    rows = []
    for n, file in enumerate(files, start=1):
        md = file.metadata
        assert isinstance(md, FileMetadata)
        span = md.start_date.strftime("%d/%m/%Y") + (f" - {md.end_date:%d/%m/%Y}" if md.end_date else "")
        rows.append(
            (
                str(n),
                md.file_notation,
                md.title,
                span,
                md.maintenance,
                str(file.extra.get("page_total", "")),
                md.description or "",
            )
        )
    return rows


def handover_totals(files: Iterable[Record]) -> dict[str, int]:
    """Biên bản giao nhận, electronic: total hồ sơ, total files (tệp tin)."""
    files = list(files)
    return {"files": len(files), "documents": sum(len(f.documents) for f in files)}
