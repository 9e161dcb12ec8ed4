"""Which records are due for review for destruction (“Xem xét hủy”): pure rules, clock given.

Luật Lưu trữ 2024 Điều 16, TT 06/2025: a record whose retention period (thời hạn bảo quản) has
ended, or a duplicate of a record kept, is listed for the council to review; nothing kept
“Vĩnh viễn”, nothing whose period is still running, nothing on legal hold, nothing already
destroyed. Listing is not deciding: the check is repeated at execution time
(:func:`check_destroyable`).

The retention period runs from the closing of the hồ sơ (its ``end_date``; part A's closing state
when it lands — :func:`closed_on` is the one place that reads it), or, for a loose document, from
its issue/arrival date.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kho.errors import KhoError
from kho.sentences import sentences
from repository.metadata import MAINTENANCE_PERMANENT, MAINTENANCE_UNTIL_SUPERSEDED


class Reason(StrEnum):
    EXPIRED = "expired"
    """The retention period ended."""
    DUPLICATE = "duplicate"
    """A copy of a record kept elsewhere (the same original, SHA-256)."""


REASON_LABELS = {Reason.EXPIRED: "Hết thời hạn bảo quản", Reason.DUPLICATE: "Tài liệu trùng"}


@dataclass(frozen=True)
class RetentionFacts:
    """What the rules need to know of one record or hồ sơ (read from the store by the caller)."""

    record_id: str
    maintenance: str
    """Thời hạn bảo quản: ``Vĩnh viễn``, ``NN năm`` or ``Đến khi văn bản hết hiệu lực``."""
    start: date | None
    """The day the period runs from (closing of the hồ sơ, else the document's date)."""
    state: str = "active"
    on_hold: bool = False
    superseded_on: date | None = None
    """For “đến khi văn bản hết hiệu lực”: the day the document ceased to have effect."""
    duplicate_of: str | None = None
    """The record kept, when this one is a copy of it."""


@dataclass(frozen=True)
class Eligibility:
    """The verdict on one record."""

    record_id: str
    eligible: bool
    reason: Reason | None = None
    """Why it is listed (when eligible)."""
    expires_on: date | None = None
    """The last day of the retention period (None: permanent or not computable)."""
    code: str = ""
    """Why it is not (stable code), when not eligible."""


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@functools.lru_cache(maxsize=256)
def retention_years(maintenance: str) -> int | None:
    """The period in years (None: permanent, or until the document ceases to have effect)."""
    text = maintenance.strip()
    if text.endswith("năm"):
        try:
            return int(text.split()[0])
        except ValueError:
            return None
    return None


def expiry(facts: RetentionFacts) -> date | None:
    """The first day the record may be destroyed (None: never, or not yet known)."""
    if facts.maintenance == MAINTENANCE_PERMANENT:
        return None
    if facts.maintenance == MAINTENANCE_UNTIL_SUPERSEDED:
        return facts.superseded_on
    years = retention_years(facts.maintenance)
    if years is None or facts.start is None:
        return None
    # Counted from 1 January of the year after the closing year (TT 10/2022 Điều 3).
    return date(facts.start.year + 1 + years, 1, 1)


def _verdict(facts: RetentionFacts, today: date) -> tuple[Reason | None, date | None, str]:
    """(reason when eligible, expiry, refusal code when not): the rule, without allocations."""
    if facts.state == "destroyed":
        return None, None, "ALREADY_DESTROYED"
    if facts.on_hold:
        return None, None, "LEGAL_HOLD"
    if facts.duplicate_of is not None and facts.duplicate_of != facts.record_id:
        return Reason.DUPLICATE, None, ""
    if facts.maintenance == MAINTENANCE_PERMANENT:
        return None, None, "RETENTION_PERMANENT"
    ends = expiry(facts)
    if ends is None:
        return None, None, "RETENTION_UNKNOWN"
    if today < ends:
        return None, ends, "RETENTION_NOT_EXPIRED"
    return Reason.EXPIRED, ends, ""


def assess(facts: RetentionFacts, today: date) -> Eligibility:
    """Whether ``facts`` may be listed for destruction on ``today`` (pure)."""
    reason, ends, code = _verdict(facts, today)
    return Eligibility(facts.record_id, reason is not None, reason, ends, code)


def eligible(items: Iterable[RetentionFacts], today: date) -> list[Eligibility]:
    """The “Xem xét hủy” list: every eligible item, in input order (the rule of :func:`assess`)."""
    out = []
    for facts in items:
        reason, ends, _ = _verdict(facts, today)
        if reason is not None:
            out.append(Eligibility(facts.record_id, True, reason, ends))
    return out


_REFUSALS = {
    "ALREADY_DESTROYED": "Tài liệu đã bị hủy.",
    "LEGAL_HOLD": "Tài liệu đang bị phong tỏa: không được hủy.",
    "RETENTION_PERMANENT": "Tài liệu bảo quản vĩnh viễn: không được hủy.",
    "RETENTION_UNKNOWN": "Chưa xác định được thời hạn bảo quản của tài liệu: không được hủy.",
    "RETENTION_NOT_EXPIRED": "Tài liệu còn trong thời hạn bảo quản: không được hủy.",
}


class NotDestroyable(KhoError):
    http_status = 409


def check_destroyable(facts: RetentionFacts, today: date) -> Eligibility:
    """:func:`assess`, raising :class:`NotDestroyable` with its code when the item may not be
    destroyed (called at execution time, not only when listing)."""
    verdict = assess(facts, today)
    if not verdict.eligible:
        message = _REFUSALS[verdict.code]
        if verdict.expires_on is not None:
            message = sentences(message, f"Hết hạn từ ngày {verdict.expires_on:%d/%m/%Y}")
        raise NotDestroyable(message, code=verdict.code, record_id=facts.record_id)
    return verdict
