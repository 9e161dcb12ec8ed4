"""Nộp lưu (ND30 Điều 30–31; Luật Lưu trữ 2024 Điều 17): due dates, alerts, keeping, checks.

* **Due date.** ND30 Điều 30 k2: within 01 year *from the day* the work ended (XDCB: 03 months
  after quyết toán). Luật 2024 Điều 17: at most 01 year *from the year* the work ended, i.e. by
  31 December of the next year. Kho applies the stricter (earlier) of the two, which satisfies
  both (STANDARDS §1.7, §4.2).
* **Alert** 30 days before the due date (Phụ lục VI III.5.b).
* **Keeping** a due hồ sơ needs the head's approval and lasts at most 02 years past the due date
  (Điều 31 k3 d).
* **Acceptance** by a lưu trữ viên who did not submit it, once authenticity, integrity, format
  and completeness pass; otherwise it is returned with a reason.

Pure: every function takes the day it is (``today``) from its caller's clock.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from kho.errors import KhoError
from kho.sentences import clause, sentences
from repository.accounts import RECORD_REFERENCE
from repository.vocabulary import TextKind, blank, refuse_line_breaks, typed_text

ALERT_DAYS = 30
KEEP_MAX_YEARS = 2
CONSTRUCTION_MONTHS = 3


class SubmissionError(KhoError):
    """A nộp lưu step refused (its code says which rule)."""


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (the 31st becomes the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


@dataclass(frozen=True)
class DueDate:
    due: date
    """The last day to submit."""
    rule: str
    """Which rule set it: ``nd30`` (from the day the work ended), ``luat2024`` (from the year),
    ``xdcb`` (03 months after quyết toán)."""

    @property
    def alert_from(self) -> date:
        return self.due - timedelta(days=ALERT_DAYS)


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 2, 28)


def due_date(end_date: date, *, settled: date | None = None) -> DueDate:
    """The nộp lưu due date of a hồ sơ whose work ended on ``end_date``: the stricter of ND30
    (one year from the day; for XDCB, ``settled`` = the quyết toán date, three months after it)
    and Luật Lưu trữ 2024 (by 31 December of the year after the work ended)."""
    if settled is None:
        # One year from the day is never later than 31 December of the next year.
        return DueDate(_one_year_after(end_date), "nd30")
    law = date(end_date.year + 1, 12, 31)
    decree = add_months(settled, CONSTRUCTION_MONTHS)
    return DueDate(decree, "xdcb") if decree <= law else DueDate(law, "luat2024")


def due_day(end_date: date, settled: date | None = None) -> date:
    """:func:`due_date`'s day alone (the alert loop's fast path)."""
    if settled is None:
        return _one_year_after(end_date)
    return min(add_months(settled, CONSTRUCTION_MONTHS), date(end_date.year + 1, 12, 31))


class AlertLevel(StrEnum):
    NOT_DUE = "not_due"
    SOON = "soon"
    """Within :data:`ALERT_DAYS` of the due date."""
    OVERDUE = "overdue"
    KEPT = "kept"
    """Kept by the unit with an approval, until a date not yet passed."""
    KEEP_EXPIRED = "keep_expired"


@dataclass(frozen=True, slots=True)
class DueItem:
    """What the alert rule needs of a closed hồ sơ not yet accepted by the lưu trữ."""

    file_id: str
    end_date: date
    settled: date | None = None
    kept_until: date | None = None
    holder: str = ""
    title: str = ""
    file_notation: str = ""


@dataclass(frozen=True, slots=True)
class Alert:
    file_id: str
    level: AlertLevel
    due: date
    days_left: int
    """Negative once overdue."""
    holder: str = ""
    title: str = ""
    file_notation: str = ""

    @property
    def message(self) -> str:
        return self.worded(f"“{self.title}”")

    @property
    def notice(self) -> str:
        """The message as it is stored in a notification: the hồ sơ by reference, not by title
        (:data:`repository.accounts.RECORD_REFERENCE`)."""
        return self.worded(RECORD_REFERENCE)

    def worded(self, named: str) -> str:
        if self.level is AlertLevel.OVERDUE:
            return f"Hồ sơ {named} đã quá hạn nộp lưu {-self.days_left} ngày (hạn {self.due:%d/%m/%Y})."
        if self.level is AlertLevel.KEEP_EXPIRED:
            return f"Hồ sơ {named} đã hết thời gian được giữ lại: phải nộp lưu ngay."
        return f"Hồ sơ {named} đến hạn nộp lưu ngày {self.due:%d/%m/%Y} (còn {self.days_left} ngày)."


def _level(left: int, kept_until: date | None, today: date) -> AlertLevel:
    if kept_until is not None:
        return AlertLevel.KEPT if today <= kept_until else AlertLevel.KEEP_EXPIRED
    if left < 0:
        return AlertLevel.OVERDUE
    return AlertLevel.SOON if left <= ALERT_DAYS else AlertLevel.NOT_DUE


def alert_for(item: DueItem, today: date) -> Alert:
    due = due_day(item.end_date, item.settled)
    left = (due - today).days
    level = _level(left, item.kept_until, today)
    return Alert(item.file_id, level, due, left, item.holder, item.title, item.file_notation)


_RAISED = frozenset({AlertLevel.SOON, AlertLevel.OVERDUE, AlertLevel.KEEP_EXPIRED})


def due_alerts(items: Iterable[DueItem], today: date) -> list[Alert]:
    """The alerts to raise today: hồ sơ due within 30 days, overdue, or kept past their approval
    (most urgent first)."""
    out = []
    for item in items:
        due = due_day(item.end_date, item.settled)
        left = (due - today).days
        if item.kept_until is None and left > ALERT_DAYS:
            continue
        level = _level(left, item.kept_until, today)
        if level in _RAISED:
            out.append(Alert(item.file_id, level, due, left, item.holder, item.title, item.file_notation))
    out.sort(key=lambda a: (a.days_left, a.file_id))
    return out


def check_keep(end_date: date, until: date, today: date, *, settled: date | None = None) -> date:
    """The date a due hồ sơ may be kept until (Điều 31 k3 d): after its due date, at most two
    years past it, and not already passed. Refused with ``KEEP_TOO_LONG`` / ``KEEP_INVALID``."""
    due = due_date(end_date, settled=settled).due
    limit = add_years(due, KEEP_MAX_YEARS)
    if until > limit:
        raise SubmissionError(
            f"Chỉ được giữ lại hồ sơ đến hạn tối đa 02 năm: đến ngày {limit:%d/%m/%Y} (Điều 31 khoản 3"
            " điểm d Nghị định 30/2020/NĐ-CP).",
            code="KEEP_TOO_LONG",
            limit=limit.isoformat(),
        )
    if until <= max(due, today):
        raise SubmissionError(
            f"Ngày giữ lại hồ sơ phải sau hạn nộp lưu ({due:%d/%m/%Y}) và sau hôm nay.",
            code="KEEP_INVALID",
            due=due.isoformat(),
        )
    return until


class CheckName(StrEnum):
    AUTHENTICITY = "authenticity"
    INTEGRITY = "integrity"
    FORMAT = "format"
    COMPLETENESS = "completeness"


CHECK_LABELS = {
    CheckName.AUTHENTICITY: "Tính xác thực (chữ ký số)",
    CheckName.INTEGRITY: "Tính toàn vẹn (mã băm)",
    CheckName.FORMAT: "Định dạng",
    CheckName.COMPLETENESS: "Tính đầy đủ (so với danh mục hồ sơ)",
}


@dataclass(frozen=True)
class CheckResult:
    name: CheckName
    passed: bool
    detail: str = ""

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.name]


@dataclass(frozen=True)
class DocumentEvidence:
    """What the lưu trữ viên's checks read of one document of a submitted hồ sơ."""

    record_id: str
    label: str
    signature_verdict: str | None
    """The stored verdict summary (``VALID``, ``INDETERMINATE``, ``FAILED``; None: not checked)."""
    fixity_ok: bool
    media_type: str


ACCEPTED_FORMATS = frozenset({"application/pdf"})
"""Formats accepted for nộp lưu (PDF; PDF/A is what TT 05/2025 Điều 8 asks of digitised paper)."""


def run_checks(
    documents: Sequence[DocumentEvidence], *, file_notation: str, plan_notations: Iterable[str] | None
) -> tuple[CheckResult, ...]:
    """The four checks of Điều 30 k3: authenticity (no signature FAILED; every document
    verified), integrity (every original matches its SHA-256), format, completeness (the hồ sơ
    is in the issued plan, and not empty)."""
    unsigned = [d.label for d in documents if d.signature_verdict in (None, "TOTAL-FAILED")]
    broken = [d.label for d in documents if not d.fixity_ok]
    odd = [f"{d.label} ({d.media_type})" for d in documents if d.media_type not in ACCEPTED_FORMATS]
    planned = plan_notations is None or file_notation in set(plan_notations)
    return (
        CheckResult(
            CheckName.AUTHENTICITY,
            not unsigned,
            "Chữ ký số không hợp lệ hoặc chưa kiểm tra: " + ", ".join(unsigned) if unsigned else "",
        ),
        CheckResult(CheckName.INTEGRITY, not broken, "Sai mã băm: " + ", ".join(broken) if broken else ""),
        CheckResult(
            CheckName.FORMAT, not odd, "Định dạng không được chấp nhận: " + ", ".join(odd) if odd else ""
        ),
        CheckResult(
            CheckName.COMPLETENESS,
            planned and bool(documents),
            ""
            if planned and documents
            else (
                "Hồ sơ không có văn bản."
                if planned
                else f"Hồ sơ {file_notation} không có trong danh mục hồ sơ đã ban hành."
            ),
        ),
    )


class SubmissionState(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


def check_accept(state: str, *, submitted_by: str, by: str, checks: Sequence[CheckResult]) -> None:
    if state != SubmissionState.SUBMITTED:
        raise SubmissionError(
            "Hồ sơ không ở trạng thái chờ tiếp nhận nộp lưu.", code="SUBMISSION_STATE_INVALID"
        )
    if by == submitted_by:
        raise SubmissionError(
            "Người nộp lưu không được tự tiếp nhận hồ sơ của mình.", code="SUBMISSION_SELF_ACCEPT"
        )
    failed = [c for c in checks if not c.passed]
    if failed:
        raise SubmissionError(
            sentences(
                "Hồ sơ chưa đạt yêu cầu nộp lưu: "
                + "; ".join(f"{c.label}: {clause(c.detail)}" for c in failed),
                "Hãy trả lại hồ sơ kèm lý do",
            ),
            code="SUBMISSION_CHECKS_FAILED",
            failed=[c.name.value for c in failed],
        )


def check_return(state: str, reason: str) -> str:
    if state != SubmissionState.SUBMITTED:
        raise SubmissionError(
            "Hồ sơ không ở trạng thái chờ tiếp nhận nộp lưu.", code="SUBMISSION_STATE_INVALID"
        )
    refuse_line_breaks(reason, "reason", "Lý do trả lại hồ sơ")
    text = " ".join(typed_text(reason, "reason", "Lý do trả lại hồ sơ", kind=TextKind.DOCUMENT).split())
    if blank(text):
        raise SubmissionError("Cần ghi lý do trả lại hồ sơ.", code="REASON_REQUIRED")
    if len(text) > 1000:
        raise SubmissionError("Lý do trả lại quá dài (tối đa 1000 ký tự).", code="REASON_TOO_LONG")
    return text
