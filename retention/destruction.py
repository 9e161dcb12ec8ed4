"""Destruction of records whose value has expired (Luật Lưu trữ 2024 Điều 16, TT 06/2025).

The workflow is one versioned record per case (``retention/destruction/<case id>/v…``):

``proposed`` (lưu trữ viên lists the items with a thuyết minh) → ``council`` (the head sets up the
Hội đồng xác định giá trị tài liệu: quyết định thành lập, members) → members review in Kho →
``reviewed`` (biên bản họp recorded by a member, after every member gave an opinion) → thẩm định
attached → ``decided`` (the head's quyết định hủy) or ``rejected`` → ``executing`` → ``done``.

Execution (a lưu trữ viên re-entering their password, QCVN 12 2.2.12.2.6) re-checks every item
(hold, retention period) before anything is destroyed, then crypto-shreds each item
(:meth:`repository.records.Repository.destroy`), removes its derived data and its index text
(delete + purge), and keeps the whole dossier as a hồ sơ of 20 years. Every step is written
before it is done and is idempotent, so a killed execution, run again, rolls forward to the same
end state.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kho.errors import Conflict, Duplicate, KhoError, NotFound, PermissionDenied
from kho.head import stop_if_head
from kho.timeutil import parse_iso, to_iso_utc, vn_date, vn_display
from repository import formats
from repository.accounts import AccountService
from repository.audit import AuditEvent, EventDraft
from repository.handling import stored_steps
from repository.metadata import FileMetadata
from repository.policy import Action
from repository.records import KIND_FILE, Actor, Record, Repository
from repository.vocabulary import TextKind, blank, nfc, typed_text
from repository.workflow import derive, steps_missing, under_handling
from retention import dossier_docs
from retention.eligibility import RetentionFacts, assess, check_destroyable
from retention.workflow import Versions

DECISION_WINDOW_DAYS = 15
"""TT 06/2025: the destruction is carried out at the latest 15 days after the decision (the
deadline a decision gets when it names none)."""
DOSSIER_RETENTION = "20 năm"
DOSSIER_NAME = "destruction-dossier.json"

STATE_LABELS = {
    "proposed": "Đã lập danh mục đề nghị hủy",
    "council": "Hội đồng đang xem xét",
    "reviewed": "Đã có biên bản họp hội đồng",
    "decided": "Đã có quyết định hủy",
    "rejected": "Không duyệt hủy",
    "executing": "Đang thực hiện hủy",
    "done": "Đã hủy xong",
}


class WorkflowError(KhoError):
    http_status = 409


CLOSED_STATES = frozenset({"closed", "submitted", "archived"})
"""States of a hồ sơ after its closing (:class:`retention.service.FileState`)."""


def closed_on(file: Record) -> date | None:
    """The day a hồ sơ's work ended, once it is closed (Điều 29 k4; ``kho file close``): the one
    place that reads it. An open hồ sơ has none, whatever end date it was given: nothing is
    eligible for destruction or transfer before it is closed."""
    if file.state not in CLOSED_STATES:
        return None
    md = file.metadata
    return md.end_date if isinstance(md, FileMetadata) else None


def is_closed(file: Record) -> bool:
    return file.kind == KIND_FILE and closed_on(file) is not None


def facts_of(repo: Repository, record: Record) -> RetentionFacts:
    """What the eligibility rules need of a hồ sơ, read from the store."""
    md = record.metadata
    return RetentionFacts(
        record_id=record.record_id,
        maintenance=md.maintenance if isinstance(md, FileMetadata) else "",
        start=closed_on(record),
        state=record.state,
        on_hold=bool(repo.holds_on(record.record_id)) or any(repo.holds_on(d) for d in record.documents),
    )


@dataclass(frozen=True)
class Candidate:
    record_id: str
    file_code: str
    title: str
    maintenance: str
    reason: str
    expires_on: date | None


def review_list(repo: Repository, *, actor: Actor, today: date) -> list[Candidate]:
    """The “Xem xét hủy” list: closed hồ sơ the rules say may be destroyed on ``today``."""
    repo.authorize(actor, Action.DISPOSAL_LIST)
    out = []
    for record in repo.records():
        if record.kind != KIND_FILE or record.state == "destroyed" or not repo.may_see(actor, record):
            continue
        verdict = assess(facts_of(repo, record), today)
        if verdict.eligible and isinstance(record.metadata, FileMetadata):
            md = record.metadata
            out.append(
                Candidate(
                    record.record_id,
                    md.file_code,
                    md.title,
                    md.maintenance,
                    str(verdict.reason),
                    verdict.expires_on,
                )
            )
    return out


def decision_deadline(decided_on: date, asked: date | None) -> date:
    """The deadline a destruction decision taken on ``decided_on`` carries: ``asked`` when it is
    within the window, otherwise refused; :data:`DECISION_WINDOW_DAYS` after the decision when
    none is asked. TT 06/2025 (STANDARDS §4.3): the documents are destroyed at the latest 15
    days after the competent decision; a deadline before the decision is none at all."""
    if asked is None:
        return decided_on + timedelta(days=DECISION_WINDOW_DAYS)
    if asked < decided_on:
        raise WorkflowError(
            f"Thời hạn thực hiện hủy {asked:%d/%m/%Y} đã qua (trước ngày quyết định {decided_on:%d/%m/%Y}).",
            code="DEADLINE_PAST",
        )
    latest = decided_on + timedelta(days=DECISION_WINDOW_DAYS)
    if asked > latest:
        raise WorkflowError(
            f"Thời hạn thực hiện hủy {asked:%d/%m/%Y} quá {DECISION_WINDOW_DAYS} ngày kể từ ngày quyết"
            f" định: tài liệu phải được hủy chậm nhất ngày {latest:%d/%m/%Y} (Thông tư 06/2025/TT-BNV).",
            code="DEADLINE_TOO_LATE",
            latest=latest.isoformat(),
        )
    return asked


def deadline_of(case: Mapping[str, Any]) -> date | None:
    """The deadline to execute the decision (None: no decision). A decision stored without one
    (before :data:`DECISION_WINDOW_DAYS` was given to every decision) has those days from the
    day it was made, as a decision made now: it is not executable for ever."""
    decision = case.get("decision") or {}
    if raw := decision.get("deadline"):
        return date.fromisoformat(raw)
    if made := decision.get("at"):
        return vn_date(parse_iso(made)) + timedelta(days=DECISION_WINDOW_DAYS)
    return None


def is_overdue(case: Mapping[str, Any], today: date) -> bool:
    """A decided case (or one whose execution was interrupted) past its deadline (pure)."""
    deadline = deadline_of(case)
    return case["state"] in ("decided", "executing") and deadline is not None and today > deadline


APPROVED = "destruction:approved"
"""The head's approval of one hồ sơ of a case, in the sealed audit log under the hồ sơ's id."""


def approval_details(case: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    """What an approval of ``item`` under ``case``'s decision binds: the case, the decision,
    its deadline and the documents of the hồ sơ the danh mục names."""
    decision = case.get("decision") or {}
    return {
        "case_id": case["case_id"],
        "decision": decision.get("ref"),
        "by": decision.get("by"),
        "deadline": decision.get("deadline"),
        "documents": sorted(item.get("documents") or ()),
    }


def unapproved(case: Mapping[str, Any], approvals: Mapping[str, Sequence[AuditEvent]]) -> list[str]:
    """The records ``case`` would destroy that its decision did not approve (review rv34): each
    hồ sơ of its danh mục needs a trusted approval (``approvals``: its :data:`APPROVED` events the
    log vouches for) binding this case, decision, deadline and documents; and a run under way
    destroys nothing outside the danh mục. A writer of the store added a hồ sơ to a decided case,
    forged a whole decided one, or put a done case back to ``executing`` with any targets."""
    out: list[str] = []
    allowed: set[str] = set()
    for item in case["items"]:
        allowed.add(item["record_id"])
        allowed.update(item.get("documents") or ())
        wanted = approval_details(case, item)
        events = approvals.get(item["record_id"], ())
        if not any(e.action == APPROVED and e.actor == wanted["by"] and e.details == wanted for e in events):
            out.append(item["record_id"])
    execution = case.get("execution")
    if isinstance(execution, dict):
        out.extend(t for t in execution.get("targets") or () if t not in allowed and t not in out)
    return out


ATTESTED = "destruction:attested"
"""A council step of a case as it was stored (the proposal, the council formed with its members,
each member's review with its vote, the minutes, the appraisal), in the sealed audit log under
the id of each hồ sơ of the danh mục (review rv38). :func:`unattested` compares the stored case
with them before the head approves and when execution starts or resumes."""

STEP_LABELS = {
    "proposed": "Đề nghị hủy",
    "council": "Quyết định thành lập hội đồng",
    "review": "Ý kiến của thành viên hội đồng",
    "minutes": "Biên bản họp hội đồng",
    "appraisal": "Văn bản thẩm định",
}
PROBLEM_LABELS = {
    "missing": "chưa có",
    "unrecorded": "không có trong nhật ký kiểm tra",
    "differs": "khác với nhật ký kiểm tra",
    "not_member": "của người không thuộc hội đồng",
}


@dataclass(frozen=True)
class StepProblem:
    """A council step of a case that the sealed log does not vouch for (:func:`unattested`)."""

    record_id: str
    """The hồ sơ of the danh mục whose log lacks the step."""
    step: str
    """A key of :data:`STEP_LABELS`."""
    problem: str
    """A key of :data:`PROBLEM_LABELS`: the case lacks the step (``missing``), the log does
    (``unrecorded``), the two differ (``differs``), or a review by one not on the council."""
    member: str | None = None
    """The member, for a review."""

    def text(self) -> str:
        who = f" {self.member}" if self.member else ""
        return f"{STEP_LABELS[self.step]}{who} ({self.record_id}): {PROBLEM_LABELS[self.problem]}"


def _digest(text: Any) -> str | None:
    """The SHA-256 of a stored text (NFC, UTF-8): the log binds the text without holding it."""
    return hashlib.sha256(nfc(text).encode()).hexdigest() if isinstance(text, str) else None


def _part(case: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = case.get(name)
    return value if isinstance(value, dict) else None


def council_members(case: Mapping[str, Any]) -> list[str]:
    """The members of ``case``'s council as stored (none when it has no council, or one not
    well formed: a case edited in the store)."""
    members = (_part(case, "council") or {}).get("members")
    return [m for m in members if isinstance(m, str)] if isinstance(members, list) else []


def step_details(
    case: Mapping[str, Any], item: Mapping[str, Any], step: str, member: str | None = None
) -> dict[str, Any] | None:
    """What the log records of ``step`` of ``case`` for the hồ sơ ``item`` (pure): the step as
    the case stores it (its texts by their digest) with the hồ sơ's documents; None when the
    case holds no such step."""
    base = {"case_id": case["case_id"], "step": step, "documents": sorted(item.get("documents") or ())}
    if step == "proposed":
        return {
            **base,
            "by": case.get("proposed_by"),
            "at": case.get("created_at"),
            "explanation": _digest(case.get("explanation")),
        }
    if step == "council":
        council = _part(case, "council")
        if council is None:
            return None
        members = council.get("members")
        return {
            **base,
            "by": council.get("by"),
            "at": council.get("at"),
            "members": list(members) if isinstance(members, list) else members,
            "decision_ref": council.get("decision_ref"),
        }
    if step == "review":
        review = (_part(case, "reviews") or {}).get(member)
        if not isinstance(review, dict):
            return None
        return {
            **base,
            "by": member,
            "at": review.get("at"),
            "opinion": review.get("opinion"),
            "note": _digest(review.get("note")),
        }
    part = _part(case, step)  # minutes, appraisal
    if part is None:
        return None
    return {**base, "by": part.get("by"), "at": part.get("at"), "text": _digest(part.get("text"))}


def _required(case: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The council steps a case needs before its approval: proposal, council, every member's
    review, minutes, appraisal."""
    return [
        ("proposed", None),
        ("council", None),
        *(("review", m) for m in council_members(case)),
        ("minutes", None),
        ("appraisal", None),
    ]


def unattested(
    case: Mapping[str, Any], events: Mapping[str, Sequence[AuditEvent]]
) -> tuple[StepProblem, ...]:
    """The council steps of ``case`` the sealed log does not vouch for (pure; review rv38).
    ``events``: each hồ sơ's trusted events. Every required step (:func:`_required`) must be in
    the case, and its latest :data:`ATTESTED` event for the case (for a review: the member's
    latest) must be by its author and equal to it as stored. A review by someone not on the
    council is a problem too. A writer of the store marked a case reviewed, turned a vote,
    rewrote the minutes, added a hồ sơ to a reviewed case or left a member silent: each shows
    here. Empty: the case is as its council made it."""
    out: list[StepProblem] = []
    members = set(council_members(case))
    for item in case["items"]:
        record_id = item["record_id"]
        latest: dict[tuple[str, str | None], AuditEvent] = {}
        for event in events.get(record_id, ()):
            if event.action != ATTESTED or event.details.get("case_id") != case["case_id"]:
                continue
            step = event.details.get("step")
            key = (step, event.details.get("by") if step == "review" else None)
            latest[key] = event  # in log order: the last one stands
        for step, member in _required(case):
            wanted = step_details(case, item, step, member)
            if wanted is None:
                out.append(StepProblem(record_id, step, "missing", member))
                continue
            event = latest.get((step, member))
            if event is None:
                out.append(StepProblem(record_id, step, "unrecorded", member))
            elif event.details != wanted or event.actor != wanted["by"]:
                out.append(StepProblem(record_id, step, "differs", member))
        for voter in _part(case, "reviews") or {}:
            if voter not in members:
                out.append(StepProblem(record_id, "review", "not_member", str(voter)))
    return tuple(out)


def is_proposer(case: Mapping[str, Any], user: str) -> bool:
    """Whether ``user`` proposed ``case``: the one rule that keeps them from the head's steps on
    it (:meth:`Destructions._refuse_proposer`); the case page offers them neither step."""
    return user == case["proposed_by"]


def _seated(case: Mapping[str, Any], actor: Actor) -> bool:
    """Whether ``actor`` sits on ``case``'s council."""
    return actor.user in council_members(case)


class Destructions:
    """Destruction cases of one installation."""

    def __init__(
        self,
        repo: Repository,
        accounts: AccountService | None = None,
        backend: Any = None,
        *,
        on_step: Callable[[str, str], None] | None = None,
        forget: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.repo = repo
        self.accounts = accounts
        self.backend = backend
        self.forget = forget
        """Drops what derived indexes outside the search index (the handling work index:
        :meth:`web.context.Kho.forget_work`) hold of the destroyed records, after shredding."""
        self.cases = Versions(repo.store, "destruction", formats.DESTRUCTION_CASE.name, "hồ sơ hủy tài liệu")
        self.on_step = on_step
        """Called with (case id, step) after each execution step (tests stop a process there)."""

    def _now(self) -> str:
        return to_iso_utc(self.repo.clock())

    def _today(self) -> date:
        return vn_date(self.repo.clock())

    def _event(self, actor: Actor, what: str, case: dict[str, Any], **details: Any) -> None:
        self.repo.audit.append(
            actor.user, what, source=actor.source, details={"case_id": case["case_id"], **details}
        )

    def get(self, case_id: str, *, actor: Actor) -> dict[str, Any]:
        """A case: for the lưu trữ and lãnh đạo, and for the members of its council, as they may
        see it (:meth:`shown`)."""
        return self.shown(self._whole(case_id, actor), actor)

    def _whole(self, case_id: str, actor: Actor) -> dict[str, Any]:
        """The stored case, for a member of its council or a holder of the role who may see one
        of its hồ sơ (:meth:`shown`); to anyone else with the role, an absent case."""
        case = self.cases.latest(case_id)
        if not _seated(case, actor):
            self.repo.authorize(actor, Action.DISPOSAL_LIST)
            if not self.shown(case, actor)["items"]:
                raise self.cases.absent(case_id)
        return case

    def list(self, *, actor: Actor) -> list[dict[str, Any]]:
        self.repo.authorize(actor, Action.DISPOSAL_LIST)
        seen: dict[str, bool] = {}
        shown = [self.shown(c, actor, seen) for c in sorted(self.cases.all(), key=lambda c: c["created_at"])]
        return [c for c in shown if c["items"]]

    def shown(
        self, case: dict[str, Any], actor: Actor, seen: dict[str, bool] | None = None
    ) -> dict[str, Any]:
        """``case`` as an answer, page or export to ``actor``: each hồ sơ's documents, and the
        execution's targets, only those they may see (:meth:`Repository.may_see`; a destroyed
        document by its "đã hủy" row, which keeps its secrecy). Reading a case needs a role
        (:attr:`Action.DISPOSAL_LIST`) or a seat on its council, not sight of its documents: a
        Thường council member or a lãnh đạo of another phòng got the id of every document of
        every hồ sơ, Mật ones included, and counts that included them. The hồ sơ themselves are
        listed to a council member (the seat is the sight of the case), and to anyone else only
        those they may see: the role alone gave a phòng's lưu trữ viên or lãnh đạo every hồ sơ
        of the agency's cases, with its code and title (rv14). The steps themselves work on the
        whole stored case."""
        if actor.system:
            return case
        seen = {} if seen is None else seen

        def sees(record_id: str) -> bool:
            if record_id not in seen:
                seen[record_id] = self.repo.may_see_listed(actor, record_id)
            return seen[record_id]

        seated = _seated(case, actor)
        items = [
            {**i, "documents": [d for d in i.get("documents", ()) if sees(d)]}
            for i in case["items"]
            if seated or sees(i["record_id"])
        ]
        shown = {**case, "items": items}
        execution = case.get("execution")
        if isinstance(execution, dict) and execution.get("targets"):
            files = {i["record_id"] for i in items}
            targets = [t for t in execution["targets"] if t in files or sees(t)]
            shown["execution"] = {**execution, "targets": targets}
        return shown if shown != case else case

    def _step(
        self,
        case: dict[str, Any],
        actor: Actor,
        action: str,
        changes: dict[str, Any],
        *,
        attest: tuple[str, str | None] | None = None,
        **details: Any,
    ) -> dict[str, Any]:
        """Write the case's next version, then its event; a council step (``attest``: the step
        and, for a review, the member) also writes, in the same append, one :data:`ATTESTED`
        event per hồ sơ recording the step as stored (:func:`step_details`)."""
        body = {**case, **changes}
        body.pop(formats.FORMAT_KEY, None)
        new = self.cases.write(case["case_id"], body, expected=case["version"])
        if attest is None:
            self._event(actor, action, new, **details)
        else:
            self._attest(
                new,
                actor,
                attest,
                EventDraft(
                    actor.user, action, None, None, actor.source, {"case_id": new["case_id"], **details}
                ),
            )
        return new

    def _attest(
        self, case: dict[str, Any], actor: Actor, attest: tuple[str, str | None], event: EventDraft
    ) -> None:
        """``event`` and the step ``attest`` of ``case`` per hồ sơ, in one append to the log."""
        step, member = attest
        drafts = [event] + [
            EventDraft(
                actor.user, ATTESTED, i["record_id"], None, actor.source, step_details(case, i, step, member)
            )
            for i in case["items"]
        ]
        self.repo.audit.append_many(drafts)

    def _answer(
        self,
        case: dict[str, Any],
        actor: Actor,
        action: str,
        changes: dict[str, Any],
        *,
        attest: tuple[str, str | None] | None = None,
        **details: Any,
    ) -> dict[str, Any]:
        """:meth:`_step`, answered as ``actor`` may see the case (:meth:`shown`)."""
        return self.shown(self._step(case, actor, action, changes, attest=attest, **details), actor)

    def _refuse_unattested(self, case: dict[str, Any], actor: Actor, step: str) -> None:
        """Refuse ``step`` (the head's approval, an execution started or resumed) of a case whose
        council steps the sealed log does not vouch for (:func:`unattested`): the refusal audited
        for the auditor, nothing written or destroyed. A case whose steps were recorded before
        the log held them is refused too (a writer could forge one): it is rejected and proposed
        again."""
        events = {
            i["record_id"]: self.repo.audit.record_events(i["record_id"], trusted_only=True)
            for i in case["items"]
        }
        problems = unattested(case, events)
        if not problems:
            return
        self._event(
            actor,
            "access:denied",
            case,
            action=step,
            code="DESTRUCTION_STEPS_UNRECORDED",
            problems=[p.text() for p in problems],
        )
        shown = "; ".join(p.text() for p in problems[:5])
        more = f" và {len(problems) - 5} bước khác" if len(problems) > 5 else ""
        raise WorkflowError(
            "Các bước của Hội đồng xác định giá trị tài liệu trong hồ sơ hủy không khớp với nhật ký"
            f" kiểm tra (thiếu bước hoặc đã bị sửa ngoài Kho): {shown}{more}. Không phê duyệt, không"
            " hủy; hãy từ chối hồ sơ hủy này và lập đề nghị hủy mới.",
            code="DESTRUCTION_STEPS_UNRECORDED",
            problems=[p.text() for p in problems],
        )

    @staticmethod
    def _require(case: dict[str, Any], *states: str) -> None:
        if case["state"] not in states:
            raise WorkflowError(
                f"Hồ sơ hủy đang ở bước “{STATE_LABELS.get(case['state'], case['state'])}”: không"
                " thực hiện được thao tác này.",
                code="DESTRUCTION_WRONG_STATE",
                state=case["state"],
            )

    def _authorize_items(self, case: dict[str, Any], actor: Actor, action: Action) -> None:
        """The step is the actor's to take on every hồ sơ of the danh mục and every document in
        it (the policy's destruction rule: its own unit, not a grant, and no document above the
        actor's clearance; audited refusal, nothing written)."""
        for item in case["items"]:
            file = self.repo._load(item["record_id"])
            self.repo.authorize_destruction(actor, action, file, item.get("documents", ()))

    def _refuse_proposer(self, case: dict[str, Any], actor: Actor, step: str, what: str) -> None:
        """Separation of duties (TT 06/2025: the lưu trữ proposes, the head sets up the Hội đồng
        and decides; QCVN 12:2026/BCA 3.7.2.8.1 "phân tách nhiệm vụ"): the person who proposed
        the case takes none of the head's steps on it, whatever roles they hold. One holding
        both lưu trữ viên and lãnh đạo was refused only the decision, so they chose the council
        that judged their own proposal (rv14). Audited refusal, nothing written."""
        if not is_proposer(case, actor.user):
            return
        self._event(actor, "access:denied", case, action=step, code="SELF_APPROVAL")
        raise PermissionDenied(
            f"Người lập đề nghị hủy không tự {what} cho đề nghị của mình.", code="SELF_APPROVAL"
        )

    # -- steps --------------------------------------------------------------------------------
    def propose(self, record_ids: Sequence[str], explanation: str, *, actor: Actor) -> dict[str, Any]:
        """Open a case with its danh mục (the items) and thuyết minh; each item must be eligible
        now (:class:`~retention.eligibility.NotDestroyable` otherwise, nothing written)."""
        self.repo.authorize(actor, Action.DESTRUCTION_PROPOSE)
        explanation = typed_text(explanation, "explanation", "Bản thuyết minh", kind=TextKind.DOCUMENT)
        if blank(explanation):
            raise WorkflowError("Cần có bản thuyết minh tài liệu đề nghị hủy.", code="EXPLANATION_REQUIRED")
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            raise WorkflowError("Danh mục tài liệu đề nghị hủy đang trống.", code="ITEMS_REQUIRED")
        items = []
        for record_id in ids:
            record = self.repo.get(record_id, actor=actor)
            self.repo.authorize_destruction(actor, Action.DESTRUCTION_PROPOSE, record)
            if record.kind != KIND_FILE:
                raise WorkflowError(
                    "Chỉ hủy theo hồ sơ: hãy chọn hồ sơ chứa văn bản.",
                    code="FILE_REQUIRED",
                    record_id=record_id,
                )
            verdict = check_destroyable(facts_of(self.repo, record), self._today())
            self._refuse_under_handling(record)
            md = record.metadata
            assert isinstance(md, FileMetadata)
            items.append(
                {
                    "record_id": record_id,
                    "file_code": md.file_code,
                    "title": md.title,
                    "maintenance": md.maintenance,
                    "reason": str(verdict.reason),
                    "documents": list(record.documents),
                }
            )
        case_id = uuid.uuid4().hex[:16]
        body = {
            "case_id": case_id,
            "state": "proposed",
            "created_at": self._now(),
            "proposed_by": actor.user,
            "explanation": nfc(explanation.strip()),
            "items": items,
            "council": None,
            "reviews": {},
            "minutes": None,
            "appraisal": None,
            "decision": None,
            "execution": None,
        }
        case = self.cases.write(case_id, body, expected=0)
        self._attest(
            case,
            actor,
            ("proposed", None),
            EventDraft(
                actor.user,
                "destruction:propose",
                None,
                None,
                actor.source,
                {"case_id": case_id, "items": [i["record_id"] for i in items]},
            ),
        )
        return self.shown(case, actor)

    def _refuse_under_handling(self, file: Record) -> None:
        """Refuse a hồ sơ holding a document whose handling (xử lý, giải quyết) is not finished
        (:func:`repository.workflow.under_handling`; NĐ 30/2020 Điều 29, Phụ lục VI III.5): it
        is neither proposed nor destroyed until the handling ends (done, or "để biết, lưu"). A
        step the sealed log names and the store lacks (deleted by a hand in the store: the
        handling would read earlier than it is) refuses too, ``HANDLING_STEPS_MISSING``
        (:func:`repository.workflow.steps_missing`, review rv41)."""
        for document_id in file.documents:
            if not self.repo.keys.exists(document_id):
                continue  # destroyed: no handling left
            steps = stored_steps(self.repo, document_id)
            logged = self.repo.audit.record_events(document_id, trusted_only=True)
            missing = steps_missing((step.seq for step in steps), logged)
            if missing:
                raise WorkflowError(
                    f"Nhật ký kiểm tra ghi bước xử lý số {', '.join(map(str, missing))} của văn bản"
                    f" “{document_id}” (hồ sơ “{file.record_id}”) nhưng kho lưu trữ không còn bước đó:"
                    " không biết việc xử lý văn bản đã kết thúc hay chưa, nên chưa được đề nghị hủy hay"
                    " hủy. Hãy báo quản trị hệ thống kiểm tra kho (kho fsck).",
                    code="HANDLING_STEPS_MISSING",
                    record_id=document_id,
                    file_id=file.record_id,
                    seqs=list(missing),
                )
            if under_handling(derive(document_id, steps)):
                raise WorkflowError(
                    f"Văn bản “{document_id}” của hồ sơ “{file.record_id}” đang trong quá trình xử lý,"
                    " giải quyết: chưa được đề nghị hủy hay hủy. Hãy kết thúc việc xử lý văn bản"
                    " trước (hoàn thành, hoặc để biết, lưu).",
                    code="DOCUMENT_UNDER_HANDLING",
                    record_id=document_id,
                    file_id=file.record_id,
                )

    def establish_council(
        self, case_id: str, members: Sequence[str], decision_ref: str, *, actor: Actor
    ) -> dict[str, Any]:
        """The head's quyết định thành lập hội đồng and its members (usernames)."""
        self.repo.authorize(actor, Action.DESTRUCTION_DECIDE)
        decision_ref = typed_text(
            decision_ref, "decision_ref", "Quyết định thành lập hội đồng", line_breaks=False
        )
        case = self.cases.latest(case_id)
        self._require(case, "proposed")
        self._authorize_items(case, actor, Action.DESTRUCTION_DECIDE)
        self._refuse_proposer(case, actor, "destruction:council", "thành lập hội đồng")
        people = list(dict.fromkeys(m.strip().lower() for m in members if m.strip()))
        if len(people) < 3 or blank(decision_ref):
            raise WorkflowError(
                "Hội đồng cần quyết định thành lập và ít nhất 3 thành viên.", code="COUNCIL_INVALID"
            )
        if self.accounts is not None:
            for username in people:
                self.accounts.get(username)  # ACCOUNT_NOT_FOUND for a name that is no one
        council = {
            "members": people,
            "decision_ref": nfc(decision_ref.strip()),
            "by": actor.user,
            "at": self._now(),
        }
        return self._answer(
            case,
            actor,
            "destruction:council",
            {"state": "council", "council": council},
            attest=("council", None),
            members=people,
        )

    def review(self, case_id: str, opinion: str, note: str = "", *, actor: Actor) -> dict[str, Any]:
        """A council member's opinion: ``agree`` or ``disagree`` (with a note)."""
        case = self.cases.latest(case_id)
        self._require(case, "council")
        if actor.user not in council_members(case):
            self._event(
                actor, "access:denied", case, action="destruction:review", code="COUNCIL_MEMBER_REQUIRED"
            )
            raise PermissionDenied(
                "Chỉ thành viên Hội đồng xác định giá trị tài liệu mới được cho ý kiến.",
                code="COUNCIL_MEMBER_REQUIRED",
            )
        if opinion not in ("agree", "disagree"):
            raise WorkflowError("Ý kiến phải là “đồng ý” hoặc “không đồng ý”.", code="OPINION_INVALID")
        reviews = {
            **case["reviews"],
            actor.user: {"opinion": opinion, "note": typed_text(note, "note", "Ý kiến"), "at": self._now()},
        }
        return self._answer(
            case,
            actor,
            "destruction:review",
            {"reviews": reviews},
            attest=("review", actor.user),
            opinion=opinion,
        )

    def record_minutes(self, case_id: str, text: str, *, actor: Actor) -> dict[str, Any]:
        """Biên bản họp hội đồng, by a member, once every member has given an opinion."""
        case = self.cases.latest(case_id)
        self._require(case, "council")
        if actor.user not in council_members(case):
            raise PermissionDenied(
                "Chỉ thành viên hội đồng mới được ghi biên bản họp.", code="COUNCIL_MEMBER_REQUIRED"
            )
        missing = [m for m in council_members(case) if m not in (case.get("reviews") or {})]
        if missing:
            raise WorkflowError(
                "Biên bản họp chỉ được ghi khi mọi thành viên đã cho ý kiến.",
                code="REVIEWS_INCOMPLETE",
                missing=missing,
            )
        if blank(text):  # every opinion is in: what is missing is the minutes themselves (rv42)
            raise WorkflowError(
                "Chưa có nội dung biên bản họp hội đồng: hãy ghi biên bản trước khi lưu.",
                code="MINUTES_REQUIRED",  # its own code: a client tells it from missing opinions (u21)
            )
        text = typed_text(text, "text", "Biên bản họp", kind=TextKind.DOCUMENT)
        minutes = {"text": text, "by": actor.user, "at": self._now()}
        return self._answer(
            case,
            actor,
            "destruction:minutes",
            {"state": "reviewed", "minutes": minutes},
            attest=("minutes", None),
        )

    def attach_appraisal(self, case_id: str, text: str, *, actor: Actor) -> dict[str, Any]:
        """Ý kiến thẩm định of the competent archive authority."""
        self.repo.authorize(actor, Action.DESTRUCTION_PROPOSE)
        case = self._whole(case_id, actor)
        self._require(case, "reviewed")
        self._authorize_items(case, actor, Action.DESTRUCTION_PROPOSE)
        if blank(text):
            raise WorkflowError("Cần nội dung văn bản thẩm định.", code="APPRAISAL_REQUIRED")
        text = typed_text(text, "text", "Văn bản thẩm định", kind=TextKind.DOCUMENT)
        appraisal = {"text": text, "by": actor.user, "at": self._now()}
        return self._answer(
            case, actor, "destruction:appraisal", {"appraisal": appraisal}, attest=("appraisal", None)
        )

    def decide(
        self, case_id: str, decision_ref: str, *, approve: bool, deadline: date | None = None, actor: Actor
    ) -> dict[str, Any]:
        """The head's quyết định hủy (or refusal). Needs the minutes, the appraisal and a majority
        of the council agreeing."""
        self.repo.authorize(actor, Action.DESTRUCTION_DECIDE)
        decision_ref = typed_text(decision_ref, "decision_ref", "Số, ngày của quyết định", line_breaks=False)
        case = self.cases.latest(case_id)
        if not (case["state"] == "decided" and self._lapsed(case)):  # a lapsed one is decided anew
            self._require(case, "reviewed")
        self._authorize_items(case, actor, Action.DESTRUCTION_DECIDE)
        if case.get("appraisal") is None:
            raise WorkflowError("Chưa có ý kiến thẩm định.", code="APPRAISAL_REQUIRED")
        if approve:  # every council step as its author took it, before anything else is read
            self._refuse_unattested(case, actor, "destruction:decide")
        self._refuse_proposer(case, actor, "destruction:decide", "quyết định hủy")
        members = council_members(case)
        reviews = case.get("reviews") or {}
        agree = sum(1 for m, r in reviews.items() if m in members and r["opinion"] == "agree")
        if approve and agree * 2 <= len(members):
            raise WorkflowError("Hội đồng chưa có đa số thành viên đồng ý hủy.", code="COUNCIL_NOT_AGREED")
        if blank(decision_ref):
            raise WorkflowError("Cần số, ngày của quyết định.", code="DECISION_REQUIRED")
        deadline = decision_deadline(self._today(), deadline)
        decision = {
            "ref": nfc(decision_ref.strip()),
            "approve": approve,
            "by": actor.user,
            "at": self._now(),
            "deadline": deadline.isoformat(),
        }
        new = self._step(
            case,
            actor,
            "destruction:decide",
            {"state": "decided" if approve else "rejected", "decision": decision},
            approve=approve,
        )
        if approve:  # after the decision; one killed between the two lapses and is decided anew
            self.repo.audit.append_many(
                [
                    EventDraft(
                        actor.user, APPROVED, i["record_id"], None, actor.source, approval_details(new, i)
                    )
                    for i in new["items"]
                ]
            )
        return self.shown(new, actor)

    def _unapproved(self, case: dict[str, Any]) -> list[str]:
        """:func:`unapproved`, with each hồ sơ's approvals read from the audit log (its index by
        record: a few reads), only those the log vouches for (sealed when a seal key is set)."""
        approvals = {
            i["record_id"]: self.repo.audit.record_events(i["record_id"], trusted_only=True)
            for i in case["items"]
        }
        return unapproved(case, approvals)

    def _lapsed(self, case: dict[str, Any]) -> bool:
        """A decided case whose deadline passed before its execution started: the decision no
        longer authorises a destruction (the head decides again, or refuses)."""
        deadline = deadline_of(case)
        return case["state"] == "decided" and deadline is not None and self._today() > deadline

    # -- execution ----------------------------------------------------------------------------
    def _reauthenticate(self, actor: Actor, password: str) -> None:
        if actor.system:
            return
        if self.accounts is None:
            raise WorkflowError("Không xác thực lại được người thực hiện.", code="REAUTH_UNAVAILABLE")
        self.accounts.authenticate(actor.user, password, actor.source)  # LOGIN_FAILED, audited

    def _targets(self, case: dict[str, Any]) -> list[str]:
        """Every record the case destroys: each hồ sơ and its documents, documents first (a
        document that sits in another hồ sơ not destroyed here is kept)."""
        files = {i["record_id"] for i in case["items"]}
        out: list[str] = []
        for item in case["items"]:
            for document_id in item["documents"]:
                if set(self.repo.files_of(document_id)) <= files and document_id not in out:
                    out.append(document_id)
            out.append(item["record_id"])
        return out

    def _check_all(self, case: dict[str, Any]) -> None:
        """Every item may still be destroyed: each hồ sơ eligible and not held, and each document
        of the decided danh mục not held and still in a hồ sơ of the case. A document taken out
        after the decision (reopen, remove, close) and held by no other hồ sơ is no longer what
        was decided: ``DESTRUCTION_DOCUMENT_REMOVED``, nothing destroyed (put it back, or
        propose its destruction anew). One held by another hồ sơ is kept (:meth:`_targets`)."""
        today = self._today()
        for item in case["items"]:
            record = self.repo._load(item["record_id"])
            if record.state == "destroyed":
                continue
            check_destroyable(facts_of(self.repo, record), today)
            self.repo.refuse_if_held(record, "destroy")
            added = [d for d in record.documents if d not in item["documents"]]
            if added:  # the approval binds the documents: one added since was never appraised
                raise WorkflowError(
                    f"Hồ sơ “{item['record_id']}” có văn bản được thêm vào sau khi lập đề nghị hủy"
                    f" ({', '.join(added)}), chưa được hội đồng xem xét và thẩm định: không hủy. Hãy"
                    " rút văn bản đó khỏi hồ sơ, hoặc lập đề nghị hủy mới.",
                    code="DESTRUCTION_DOCUMENT_ADDED",
                    record_id=item["record_id"],
                    document_ids=added,
                )
            self._refuse_under_handling(record)
            for document_id in item["documents"]:
                self.repo.refuse_if_held(self.repo._load(document_id), "destroy")
                if not self.repo.files_of(document_id):
                    raise WorkflowError(
                        f"Văn bản “{document_id}” đã được rút khỏi hồ sơ “{item['record_id']}” sau"
                        " quyết định hủy và không còn thuộc hồ sơ nào: không hủy. Hãy đưa văn bản"
                        " trở lại hồ sơ, hoặc lập đề nghị hủy mới.",
                        code="DESTRUCTION_DOCUMENT_REMOVED",
                        record_id=document_id,
                        file_id=item["record_id"],
                    )

    def _refuse_unexecutable(self, case: dict[str, Any], actor: Actor) -> None:
        """Refuse a case that may not be carried out now: not decided (nor interrupted),
        its decision lapsed, or, before it starts, an item that may not be destroyed
        (:meth:`_check_all`)."""
        self._require(case, "decided", "executing")
        if self._lapsed(case):  # an old approval is not replayed (an interrupted execution is finished)
            raise WorkflowError(
                f"Quyết định hủy “{case['decision']['ref']}” đã hết thời hạn thực hiện ngày"
                f" {deadline_of(case):%d/%m/%Y}: không hủy. Cần quyết định hủy mới.",
                code="DESTRUCTION_DECISION_LAPSED",
                deadline=str(deadline_of(case)),
            )
        if stray := self._unapproved(case):  # a tamper: the auditor's to see, not only the caller's
            self._event(
                actor,
                "access:denied",
                case,
                action="destruction:execute",
                code="DESTRUCTION_NOT_APPROVED",
                record_ids=stray,
            )
            raise WorkflowError(
                "Hồ sơ hủy không khớp với quyết định hủy đã phê duyệt (đã bị sửa ngoài Kho):"
                f" {', '.join(stray)} không có trong quyết định. Không hủy; cần kiểm tra và quyết định lại.",
                code="DESTRUCTION_NOT_APPROVED",
                record_ids=stray,
            )
        self._refuse_unattested(case, actor, "destruction:execute")
        if case["state"] == "decided":
            self._check_all(case)  # nothing destroyed unless everything may be

    def execute(self, case_id: str, password: str, *, actor: Actor) -> dict[str, Any]:
        """Carry out a decided case (or resume one interrupted): re-authentication, every item
        re-checked, then shredded; the dossier kept as a hồ sơ of 20 years."""
        self.repo.authorize(actor, Action.DESTRUCTION_EXECUTE)
        case = self.cases.latest(case_id)
        self._authorize_items(case, actor, Action.DESTRUCTION_EXECUTE)
        # A request that could not succeed is refused before the password is judged, the same
        # answer whatever was typed: a wrong password on an undecided case was a failed login,
        # counted towards the lock (rv14), and told a right password from a wrong one.
        self._refuse_unexecutable(case, actor)
        self._reauthenticate(actor, password)
        case = self.cases.latest(case_id)  # as it is now, after the password
        self._refuse_unexecutable(case, actor)
        if case["state"] == "decided":
            execution = {
                "by": actor.user,
                "started_at": self._now(),
                "targets": self._targets(case),
                "dossier_file_id": None,
                "finished_at": None,
            }
            case = self._step(
                case, actor, "destruction:execute-start", {"state": "executing", "execution": execution}
            )
        else:
            self._event(actor, "destruction:execute-resume", case)
        decision = case["decision"]["ref"]
        shredder = Actor(user=actor.user, source=actor.source, system=True)
        files = {i["record_id"] for i in case["items"]}
        for record_id in case["execution"]["targets"]:
            record = self.repo._load(record_id)
            if record.state != "destroyed":
                self.repo.refuse_if_held(record, "destroy")
                try:  # a document put in another hồ sơ since execution started is kept
                    self.repo.destroy(
                        record_id,
                        decision=decision,
                        actor=shredder,
                        only_in=None if record_id in files else files,
                    )
                except Conflict as exc:
                    if exc.code != "DOCUMENT_IN_ANOTHER_FILE":
                        raise
                    self._event(
                        actor,
                        "destruction:keep",
                        case,
                        document_id=record_id,
                        file_ids=exc.details["file_ids"],
                    )
                    continue
            self._step_hook(case_id, f"destroyed:{record_id}")
            for info in list(self.repo.store.list(f"records/{record_id}/derived/")):
                self.repo.store.delete(info.key)
        if self.backend is not None:
            # The "đã hủy" rows replace the indexed documents in one write (idempotent), then
            # what the replaced documents left in the index is purged.
            from ingest.indexing import to_index_document

            rows = [self.repo.destroyed(r) for r in case["execution"]["targets"]]
            self.backend.index([to_index_document(self.repo, t, holders=[]) for t in rows if t is not None])
            self.backend.purge_deleted()
        if self.forget is not None:
            self.forget(case["execution"]["targets"])
        self._step_hook(case_id, "shredded")
        finished = self._now()
        dossier_id = self._keep_dossier(case, actor, finished)
        execution = {**case["execution"], "dossier_file_id": dossier_id, "finished_at": finished}
        return self._answer(
            case,
            actor,
            "destruction:done",
            {"state": "done", "execution": execution},
            dossier_file_id=dossier_id,
        )

    def _step_hook(self, case_id: str, step: str) -> None:
        if self.on_step is not None:
            self.on_step(case_id, step)

    def _keep_dossier(self, case: dict[str, Any], actor: Actor, finished: str) -> str:
        """The dossier (danh mục, thuyết minh, quyết định thành lập hội đồng, biên bản họp, thẩm
        định, quyết định hủy, biên bản hủy) as a hồ sơ kept 20 years; idempotent."""
        today = self._today()
        notation = f"00.HUY.{case['case_id'][:8].upper()}"
        keeper = Actor(user=actor.user, source=actor.source, system=True)
        metadata = {
            "file_notation": notation,
            "title": f"Hồ sơ hủy tài liệu hết giá trị theo {case['decision']['ref']}",
            "maintenance": DOSSIER_RETENTION,
            "creator": actor.user,
            "start_date": today.isoformat(),
            "end_date": today.isoformat(),
        }
        try:
            file_id = self.repo.create_file(metadata, keeper).record_id
        except Duplicate as exc:
            file_id = exc.details["existing_record_id"]
        dossier = {
            "danh_muc": case["items"],
            "thuyet_minh": case["explanation"],
            "quyet_dinh_thanh_lap_hoi_dong": case["council"],
            "y_kien_thanh_vien": case["reviews"],
            "bien_ban_hop": case["minutes"],
            "tham_dinh": case["appraisal"],
            "quyet_dinh_huy": case["decision"],
            "bien_ban_huy": {
                "by": actor.user,
                "at": self._now(),
                "records": case["execution"]["targets"],
                "method": "crypto-shredding (hủy khóa mã hóa của từng tài liệu)",
            },
        }
        self.repo.put_derived(file_id, DOSSIER_NAME, formats.dump_derived(dossier, DOSSIER_NAME))
        # The printable documents (PDF and XLSX from the same rows) are kept in the hồ sơ too.
        finished_case = {
            **case,
            "execution": {**case["execution"], "dossier_file_id": file_id, "finished_at": finished},
        }
        printed_at = vn_display(parse_iso(finished))
        for document in dossier_docs.available(finished_case, self.repo.agency_name):
            for fmt in dossier_docs.FORMATS:
                data = dossier_docs.render(document, fmt, printed_by=actor.user, printed_at=printed_at)
                self.repo.put_derived(file_id, dossier_docs.file_name(document.name, fmt), data)
        kept = self.repo._load(file_id)
        if kept.state == "active":
            # Closed on the day of the destruction: its title and 20 years are frozen from now
            # (a change needs a reopening, with its reason, audited), and they run from today.
            self.repo.transition_file(
                file_id,
                expected_version=kept.version,
                actor=keeper,
                permission=Action.FILE_EDIT,
                action="file:close",
                state="closed",
                changes={"end_date": today.isoformat()},
                extra={"closed_at": self._now(), "closed_by": actor.user},
                details={"destruction_case": case["case_id"]},
            )
        return file_id

    def document(
        self, case_id: str, name: str, fmt: str, *, actor: Actor
    ) -> tuple[dossier_docs.DossierDocument, bytes]:
        """One document of the case's dossier as PDF or XLSX: the copy kept in the dossier hồ
        sơ once the destruction is done, rendered from the case data before. Audited."""
        dossier_docs.check_format(fmt)
        whole = self._whole(case_id, actor)
        case = self.shown(whole, actor)
        document = dossier_docs.build(case, name, self.repo.agency_name)
        file_id = (case.get("execution") or {}).get("dossier_file_id")
        data = None
        # The copy kept at execution counts and lists every document: only for who sees them all.
        if file_id and case["state"] == "done" and case is whole:
            self.repo.get(file_id, actor=actor)
        stop_if_head()  # decided: a HEAD gets the headers, nothing rendered or recorded
        if file_id and case["state"] == "done" and case is whole:
            try:
                data = self.repo.get_derived(file_id, dossier_docs.file_name(name, fmt))
            except NotFound:
                data = None  # a case executed before the documents were kept
        if data is None:
            data = dossier_docs.render(
                document, fmt, printed_by=actor.user, printed_at=vn_display(self.repo.clock())
            )
        self._event(actor, "destruction:export", case, document=name, format=fmt)
        return document, data

    def overdue(self, *, actor: Actor, today: date) -> list[dict[str, Any]]:
        """Decided cases not carried out by their deadline (see :func:`is_overdue`)."""
        return [c for c in self.list(actor=actor) if is_overdue(c, today)]

    def dossier(self, case_id: str, *, actor: Actor) -> dict[str, Any]:
        case = self.get(case_id, actor=actor)
        file_id = (case.get("execution") or {}).get("dossier_file_id")
        if not file_id:
            raise NotFound("Hồ sơ hủy chưa hoàn tất.", code="DOSSIER_NOT_READY")
        self.repo.get(file_id, actor=actor)
        dossier = formats.unstamped(
            formats.DERIVED_DESTRUCTION_DOSSIER.name,
            formats.load_derived(self.repo.get_derived(file_id, DOSSIER_NAME), DOSSIER_NAME),
        )
        # The same documents as the case shows this reader (:meth:`shown`).
        dossier["danh_muc"] = case["items"]
        if isinstance(dossier.get("bien_ban_huy"), dict):
            dossier["bien_ban_huy"] = {**dossier["bien_ban_huy"], "records": case["execution"]["targets"]}
        return dossier
