"""Retention periods (thời hạn bảo quản / thời hạn lưu trữ) and the retention schedule table.

A period is ``Vĩnh viễn``, a number of years, or ``Đến khi văn bản hết hiệu lực`` (ND30 Phụ lục V
I.4; STANDARDS §4.1). The schedule is the agency's table of common periods (TT 10/2022/TT-BNV),
shipped as versioned data (``retention/data/retention_schedule_v1.json``) and edited by a quản
trị: every edit is a new version (stored by :mod:`retention.service`, audited). It *proposes* a
period for a hồ sơ title; the person drafting the plan decides.

Everything here is pure: no store, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kho.errors import FieldError, ValidationFailed
from repository.metadata import MAINTENANCE_PERMANENT, MAINTENANCE_UNTIL_SUPERSEDED, normalize_maintenance
from repository.vocabulary import nfc
from search.analysis import fold

DEFAULT_SCHEDULE_FILE = Path(__file__).with_name("data") / "retention_schedule_v1.json"


class RetentionKind(StrEnum):
    PERMANENT = "permanent"
    YEARS = "years"
    UNTIL_SUPERSEDED = "until_superseded"


@dataclass(frozen=True, order=True)
class Retention:
    """A retention period."""

    kind: RetentionKind
    years: int = 0
    """For :attr:`RetentionKind.YEARS`: 1–99."""

    @property
    def label(self) -> str:
        """The printed form: ``Vĩnh viễn``, ``20 năm``, ``Đến khi văn bản hết hiệu lực``."""
        if self.kind is RetentionKind.PERMANENT:
            return MAINTENANCE_PERMANENT
        if self.kind is RetentionKind.UNTIL_SUPERSEDED:
            return MAINTENANCE_UNTIL_SUPERSEDED
        return f"{self.years:02d} năm"

    @property
    def permanent(self) -> bool:
        return self.kind is RetentionKind.PERMANENT

    def at_least(self, other: Retention) -> bool:
        """Whether this period keeps a hồ sơ at least as long as ``other`` (permanent is the
        longest; "until superseded" is comparable to neither a number of years nor permanent, so
        it only equals itself)."""
        if self.kind is RetentionKind.PERMANENT:
            return True
        if self.kind is RetentionKind.YEARS and other.kind is RetentionKind.YEARS:
            return self.years >= other.years
        return self == other


def parse_retention(text: str, *, field_name: str = "maintenance") -> Retention:
    """A period from its written form (any case, ``20 năm`` or ``20năm``); refused with
    ``RETENTION_INVALID`` otherwise."""
    normal = normalize_maintenance(text) if isinstance(text, str) else None
    if normal is None:
        raise ValidationFailed(
            [
                FieldError(
                    field_name,
                    "RETENTION_INVALID",
                    f"Thời hạn bảo quản “{text}” không hợp lệ: “Vĩnh viễn”, số năm (ví dụ “20 năm”) hoặc"
                    " “Đến khi văn bản hết hiệu lực”.",
                )
            ]
        )
    if normal == MAINTENANCE_PERMANENT:
        return Retention(RetentionKind.PERMANENT)
    if normal == MAINTENANCE_UNTIL_SUPERSEDED:
        return Retention(RetentionKind.UNTIL_SUPERSEDED)
    return Retention(RetentionKind.YEARS, int(normal.split()[0]))


@dataclass(frozen=True)
class ScheduleEntry:
    code: str
    """The entry's code in the table (``TCCB.02``)."""
    title: str
    retention: Retention
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "maintenance": self.retention.label,
            "keywords": list(self.keywords),
        }


@dataclass(frozen=True)
class Schedule:
    """One version of the retention schedule table."""

    version: int
    entries: tuple[ScheduleEntry, ...]
    source: str = ""
    edited_by: str = ""
    edited_at: str = ""
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "edited_by": self.edited_by,
            "edited_at": self.edited_at,
            "note": self.note,
            "entries": [e.to_dict() for e in self.entries],
        }


def parse_entries(raw: Any) -> tuple[ScheduleEntry, ...]:
    """Schedule entries from their JSON form, every bad one listed (``SCHEDULE_INVALID``,
    ``RETENTION_INVALID``, ``SCHEDULE_CODE_DUPLICATE``)."""
    errors: list[FieldError] = []
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(
            [FieldError("entries", "SCHEDULE_INVALID", "Bảng thời hạn bảo quản phải có ít nhất một mục.")]
        )
    out: list[ScheduleEntry] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        where = f"entries[{index}]"
        if not isinstance(item, Mapping):
            errors.append(FieldError(where, "SCHEDULE_INVALID", f"Mục {index} của bảng không hợp lệ."))
            continue
        code = nfc(str(item.get("code") or "")).strip()
        title = nfc(str(item.get("title") or "")).strip()
        if not code or not title or len(code) > 30 or len(title) > 500:
            errors.append(
                FieldError(
                    where, "SCHEDULE_INVALID", f"Mục {index}: cần mã (≤ 30 ký tự) và tên (≤ 500 ký tự)."
                )
            )
            continue
        if code in seen:
            errors.append(FieldError(where, "SCHEDULE_CODE_DUPLICATE", f"Mã “{code}” bị trùng trong bảng."))
            continue
        seen.add(code)
        try:
            retention = parse_retention(str(item.get("maintenance") or ""), field_name=where)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            continue
        keywords = item.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            errors.append(
                FieldError(where, "SCHEDULE_INVALID", f"Mục {index}: từ khóa phải là danh sách chuỗi.")
            )
            continue
        out.append(
            ScheduleEntry(code, title, retention, tuple(nfc(k).strip() for k in keywords if k.strip()))
        )
    if errors:
        raise ValidationFailed(errors)
    return tuple(out)


def schedule_from_dict(data: Mapping[str, Any]) -> Schedule:
    return Schedule(
        version=int(data["version"]),
        entries=parse_entries(data["entries"]),
        source=str(data.get("source", "")),
        edited_by=str(data.get("edited_by", "")),
        edited_at=str(data.get("edited_at", "")),
        note=str(data.get("note", "")),
    )


def default_schedule() -> Schedule:
    """The schedule Kho ships (version 1)."""
    return schedule_from_dict(json.loads(DEFAULT_SCHEDULE_FILE.read_text(encoding="utf-8")))


def _folded(text: str) -> str:
    """Lower case, without diacritics, words separated by one space (punctuation dropped)."""
    return " ".join(re.findall(r"\w+", fold(nfc(text).casefold())))


def _words(text: str) -> set[str]:
    return set(_folded(text).split())


def propose(schedule: Schedule, title: str) -> ScheduleEntry | None:
    """The schedule entry whose keywords best match a hồ sơ title (accent- and case-insensitive;
    a whole keyword phrase found in the title wins over shared words), or None."""
    folded = f" {_folded(title)} "
    words = _words(title)
    best: tuple[int, int, ScheduleEntry] | None = None
    for entry in schedule.entries:
        phrase_hits = sum(len(k.split()) for k in map(_folded, entry.keywords) if f" {k} " in folded)
        overlap = len(words & _words(entry.title))
        score = (phrase_hits * 10 + overlap, -len(entry.title))
        if phrase_hits == 0 and overlap < 2:
            continue
        if best is None or score > best[:2]:
            best = (score[0], score[1], entry)
    return best[2] if best else None


def counts(periods: Iterable[Retention]) -> dict[str, int]:
    """Footer counts: permanent, time-limited (years), until superseded, total."""
    out = {"permanent": 0, "years": 0, "until_superseded": 0, "total": 0}
    for period in periods:
        out[period.kind.value if period.kind is not RetentionKind.YEARS else "years"] += 1
        out["total"] += 1
    return out


def labels(entries: Sequence[ScheduleEntry]) -> list[tuple[str, str, str]]:
    return [(e.code, e.title, e.retention.label) for e in entries]
