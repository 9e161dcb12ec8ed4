"""Time: stored in UTC, shown in Vietnam time (UTC+07:00, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. ``2026-11-21T03:04:05.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def to_vn(moment: datetime) -> datetime:
    return moment.astimezone(VN_TZ)


def vn_display(moment: datetime) -> str:
    """Vietnam time as people read it: ``21/11/2026 10:04:05 (GMT+7)``."""
    return to_vn(moment).strftime("%d/%m/%Y %H:%M:%S (GMT+7)")


def vn_date(moment: datetime) -> date:
    """The calendar date in Vietnam of an instant (registers count years in Vietnam time)."""
    return to_vn(moment).date()


def vn_day_start(day: date) -> datetime:
    """Midnight in Vietnam at the start of ``day`` (for date-range filters people type)."""
    return datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
