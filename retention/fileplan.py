"""Danh mục hồ sơ (ND30 Điều 28, Phụ lục V): the agency's file plan for a year.

A plan has đề mục (large ones numbered in Roman numerals, small ones in Arabic numerals) and
hồ sơ rows: số và ký hiệu hồ sơ (``01.TCCB``: a two-digit number + the abbreviation of its large
đề mục; numbered across the whole plan or within each large đề mục, from 01), tiêu đề, thời hạn
bảo quản, người lập, ghi chú. It is drafted (văn thư / lưu trữ), approved by the head (lãnh đạo,
never a person who drafted or re-saved any version of it) and issued at the start of the year.
Its footer counts permanent and time-limited hồ sơ.

Pure: parsing, validation and state transitions; :mod:`retention.service` stores the versions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from kho.errors import FieldError, KhoError, ValidationFailed
from repository.vocabulary import nfc
from retention.schedule import Retention, RetentionKind, counts, parse_retention
from retention.submission import due_date


class PlanState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"

    @property
    def label(self) -> str:
        return {"draft": "Dự thảo", "approved": "Đã duyệt", "issued": "Đã ban hành"}[self.value]


class PlanError(KhoError):
    """A step of the plan's workflow refused."""


ROMAN = re.compile(r"^(?=[MDCLXVI])M{0,3}(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")
ARABIC = re.compile(r"^[1-9][0-9]{0,2}$")  # ASCII digits: "０2" prints like "02"
NOTATION = re.compile(r"^([0-9]{2,3})\.([A-ZĐ][A-ZĐ0-9]{0,15})$")
ABBREVIATION = re.compile(r"^[A-ZĐ][A-ZĐ0-9]{0,15}$")


@dataclass(frozen=True)
class Heading:
    """A đề mục: ``number`` Roman (large, with its abbreviation) or Arabic (small, inside the
    large one before it)."""

    number: str
    title: str
    abbreviation: str = ""

    @property
    def large(self) -> bool:
        return ROMAN.match(self.number) is not None


@dataclass(frozen=True)
class PlanItem:
    notation: str
    """Số và ký hiệu hồ sơ, e.g. ``01.TCCB``."""
    title: str
    retention: Retention
    creator: str
    heading: str
    """The number of the large đề mục it belongs to (``I``)."""
    note: str = ""
    schedule_code: str = ""
    """The retention schedule entry that proposed the period, if any."""

    @property
    def number(self) -> int:
        return int(self.notation.split(".", 1)[0])


@dataclass(frozen=True)
class FilePlan:
    """One version of a year's Danh mục hồ sơ."""

    year: int
    organ_id: str
    headings: tuple[Heading, ...]
    items: tuple[PlanItem, ...]
    state: PlanState = PlanState.DRAFT
    version: int = 1
    drafted_by: str = ""
    """Who saved the newest draft version."""
    drafters: tuple[str, ...] | None = ()
    """Everyone who saved a draft version (wrote or changed its content), in order: none of them
    approves it (:func:`approve`). None: a plan stored in format 1, which kept only the last
    drafter; :class:`retention.service.RetentionService` reads them from its stored versions."""
    approved_by: str = ""
    approved_at: str = ""
    issued_by: str = ""
    issued_at: str = ""
    updated_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def item(self, notation: str) -> PlanItem | None:
        return next((i for i in self.items if i.notation == notation), None)

    @property
    def footer(self) -> dict[str, int]:
        return counts(i.retention for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "organ_id": self.organ_id,
            "headings": [h.__dict__ for h in self.headings],
            "items": [
                {
                    "notation": i.notation,
                    "title": i.title,
                    "maintenance": i.retention.label,
                    "creator": i.creator,
                    "heading": i.heading,
                    "note": i.note,
                    "schedule_code": i.schedule_code,
                }
                for i in self.items
            ],
            "state": self.state.value,
            "version": self.version,
            "drafted_by": self.drafted_by,
            "drafters": None if self.drafters is None else list(self.drafters),
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "issued_by": self.issued_by,
            "issued_at": self.issued_at,
            "updated_at": self.updated_at,
        }


def _text(
    raw: Mapping[str, Any],
    name: str,
    where: str,
    errors: list[FieldError],
    limit: int,
    *,
    required: bool = True,
) -> str:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(f"{where}.{name}", "FIELD_REQUIRED", f"{where}: thiếu “{name}”."))
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(f"{where}.{name}", "FIELD_INVALID", f"{where}: “{name}” phải là chuỗi."))
        return ""
    text = " ".join(nfc(value).split())
    if len(text) > limit:
        errors.append(
            FieldError(f"{where}.{name}", "FIELD_TOO_LONG", f"{where}: “{name}” dài quá {limit} ký tự.")
        )
    return text


def parse_plan(raw: Mapping[str, Any], *, organ_id: str) -> FilePlan:
    """A draft plan from its submitted form (JSON), every problem listed at once."""
    errors: list[FieldError] = []
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        errors.append(
            FieldError("year", "PLAN_YEAR_INVALID", "Năm của danh mục hồ sơ không hợp lệ (2000–2100).")
        )
        year = 0
    headings: list[Heading] = []
    raw_headings = raw.get("headings")
    if not isinstance(raw_headings, list) or not raw_headings:
        errors.append(
            FieldError("headings", "PLAN_HEADINGS_REQUIRED", "Danh mục cần ít nhất một đề mục lớn.")
        )
        raw_headings = []
    for index, h in enumerate(raw_headings, start=1):
        where = f"Đề mục {index}"
        if not isinstance(h, Mapping):
            errors.append(FieldError(f"headings[{index}]", "FIELD_INVALID", f"{where} không hợp lệ."))
            continue
        number = _text(h, "number", where, errors, 10).upper()
        title = _text(h, "title", where, errors, 300)
        abbreviation = _text(h, "abbreviation", where, errors, 16, required=False).upper()
        if number and not (ROMAN.match(number) or ARABIC.match(number)):
            errors.append(
                FieldError(
                    f"headings[{index}].number",
                    "PLAN_HEADING_NUMBER_INVALID",
                    f"{where}: số “{number}” phải là chữ số La Mã (đề mục lớn) hoặc Ả Rập (đề mục nhỏ).",
                )
            )
        if ROMAN.match(number) and not ABBREVIATION.match(abbreviation):
            errors.append(
                FieldError(
                    f"headings[{index}].abbreviation",
                    "PLAN_ABBREVIATION_INVALID",
                    f"{where}: đề mục lớn cần chữ viết tắt in hoa (ví dụ TCCB).",
                )
            )
        headings.append(Heading(number, title, abbreviation))
    large = {h.number: h for h in headings if h.large}
    if len(large) != sum(1 for h in headings if h.large):
        errors.append(FieldError("headings", "PLAN_HEADING_DUPLICATE", "Số đề mục lớn bị trùng."))
    items: list[PlanItem] = []
    raw_items = raw.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        errors.append(FieldError("items", "PLAN_ITEMS_REQUIRED", "Danh mục cần ít nhất một hồ sơ."))
        raw_items = []
    seen: set[str] = set()
    for index, it in enumerate(raw_items, start=1):
        where = f"Hồ sơ dòng {index}"
        if not isinstance(it, Mapping):
            errors.append(FieldError(f"items[{index}]", "FIELD_INVALID", f"{where} không hợp lệ."))
            continue
        notation = _text(it, "notation", where, errors, 20).upper()
        title = _text(it, "title", where, errors, 500)
        creator = _text(it, "creator", where, errors, 30)
        note = _text(it, "note", where, errors, 500, required=False)
        heading = _text(it, "heading", where, errors, 10).upper()
        schedule_code = _text(it, "schedule_code", where, errors, 30, required=False)
        try:
            retention = parse_retention(
                str(it.get("maintenance") or ""), field_name=f"items[{index}].maintenance"
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            retention = Retention(RetentionKind.PERMANENT)
        match = NOTATION.match(notation)
        if notation and not match:
            errors.append(
                FieldError(
                    f"items[{index}].notation",
                    "PLAN_NOTATION_INVALID",
                    f"{where}: số và ký hiệu hồ sơ “{notation}” phải có dạng 01.TCCB.",
                )
            )
        if heading and heading not in large:
            errors.append(
                FieldError(
                    f"items[{index}].heading",
                    "PLAN_HEADING_UNKNOWN",
                    f"{where}: không có đề mục lớn “{heading}”.",
                )
            )
        elif match and heading and match.group(2) != large[heading].abbreviation:
            errors.append(
                FieldError(
                    f"items[{index}].notation",
                    "PLAN_NOTATION_INVALID",
                    f"{where}: ký hiệu “{match.group(2)}” phải là chữ viết tắt của đề mục {heading}"
                    f" ({large[heading].abbreviation}).",
                )
            )
        if notation in seen:
            errors.append(
                FieldError(
                    f"items[{index}].notation", "PLAN_NOTATION_DUPLICATE", f"{where}: “{notation}” bị trùng."
                )
            )
        seen.add(notation)
        items.append(PlanItem(notation, title, retention, creator, heading, note, schedule_code))
    if not errors:
        numbering = numbering_error(items)
        if numbering:
            errors.append(FieldError("items", "PLAN_NUMBERING_INVALID", numbering))
    if errors:
        raise ValidationFailed(errors)
    return FilePlan(year=int(year), organ_id=organ_id, headings=tuple(headings), items=tuple(items))


def numbering_error(items: Sequence[PlanItem]) -> str:
    """Numbers run from 01 either across the whole plan or within each large đề mục
    (Phụ lục V I.2); "" when they do."""
    numbers = [i.number for i in items]
    if sorted(numbers) == list(range(1, len(numbers) + 1)):
        return ""
    by_heading: dict[str, list[int]] = {}
    for item in items:
        by_heading.setdefault(item.heading, []).append(item.number)
    if all(sorted(n) == list(range(1, len(n) + 1)) for n in by_heading.values()):
        return ""
    return (
        "Số hồ sơ phải đánh liên tục từ 01, trong toàn danh mục hoặc trong từng đề mục lớn"
        " (Phụ lục V Nghị định 30/2020/NĐ-CP)."
    )


def _known_drafters(plan: FilePlan) -> tuple[str, ...]:
    if plan.drafters is None:
        raise ValueError("the drafters of a plan stored in format 1 are read from its versions first")
    return plan.drafters


def first_draft(new: FilePlan, *, by: str, at: str) -> FilePlan:
    """The first version of a year's plan, drafted by ``by``."""
    return replace(new, version=1, drafted_by=by, drafters=(by,), updated_at=at)


def revise(current: FilePlan, new: FilePlan, *, by: str, at: str) -> FilePlan:
    """A new draft version replacing ``current``'s content (only a draft can be edited); ``by``
    joins its drafters."""
    if current.state is not PlanState.DRAFT:
        raise PlanError(
            f"Danh mục hồ sơ năm {current.year} đã {current.state.label.lower()}: không sửa được.",
            code="PLAN_NOT_DRAFT",
        )
    drafters = tuple(dict.fromkeys((*_known_drafters(current), by)))
    return replace(new, version=current.version + 1, drafted_by=by, drafters=drafters, updated_at=at)


def is_author(plan: FilePlan, user: str) -> bool:
    """Whether ``user`` drafted or re-saved ``plan`` (its drafters known): the one rule that keeps
    them from approving or issuing it (separation of duties: who drafts does not approve or
    issue; QCVN 12:2026/BCA 3.7.2.8.1 "phân tách nhiệm vụ"). The plan page asks it too."""
    return user == plan.drafted_by or user in _known_drafters(plan)


def approve(plan: FilePlan, *, by: str, at: str) -> FilePlan:
    """The head approves a draft. No one who saved a version of the draft approves it: the last
    drafter alone was checked, so its author had it re-saved by someone else and approved it
    themselves (rv14)."""
    if plan.state is not PlanState.DRAFT:
        raise PlanError("Chỉ phê duyệt được danh mục hồ sơ đang ở dạng dự thảo.", code="PLAN_STATE_INVALID")
    if is_author(plan, by):
        raise PlanError(
            "Người lập hoặc đã sửa dự thảo danh mục hồ sơ không được tự phê duyệt.",
            code="PLAN_SELF_APPROVAL",
        )
    return replace(
        plan,
        state=PlanState.APPROVED,
        approved_by=by,
        approved_at=at,
        version=plan.version + 1,
        updated_at=at,
    )


def issue(plan: FilePlan, *, by: str, at: str, today: date) -> FilePlan:
    """Issue an approved plan. A plan whose hồ sơ would already be past their nộp lưu due date
    (those of a year whose due dates have all passed) is refused: ``PLAN_DUE_DATE_PAST``. Its
    author (anyone who saved a draft version, :func:`is_author`) does not issue it, even after
    another lãnh đạo approved it: ``PLAN_SELF_ISSUE`` (u12's open item)."""
    if plan.state is not PlanState.APPROVED:
        raise PlanError("Chỉ ban hành được danh mục hồ sơ đã được phê duyệt.", code="PLAN_STATE_INVALID")
    if is_author(plan, by):
        raise PlanError(
            "Người lập hoặc đã sửa dự thảo danh mục hồ sơ không được tự ban hành danh mục đó.",
            code="PLAN_SELF_ISSUE",
        )
    latest_due = due_date(date(plan.year, 12, 31)).due
    if latest_due < today:
        raise PlanError(
            f"Danh mục hồ sơ năm {plan.year} có hạn nộp lưu ({latest_due:%d/%m/%Y}) đã qua: không ban hành"
            " được.",
            code="PLAN_DUE_DATE_PAST",
            due=latest_due.isoformat(),
        )
    return replace(
        plan, state=PlanState.ISSUED, issued_by=by, issued_at=at, version=plan.version + 1, updated_at=at
    )


def plan_from_dict(data: Mapping[str, Any]) -> FilePlan:
    return FilePlan(
        year=int(data["year"]),
        organ_id=str(data["organ_id"]),
        headings=tuple(Heading(**h) for h in data["headings"]),
        items=tuple(
            PlanItem(
                i["notation"],
                i["title"],
                parse_retention(i["maintenance"]),
                i["creator"],
                i["heading"],
                i.get("note", ""),
                i.get("schedule_code", ""),
            )
            for i in data["items"]
        ),
        state=PlanState(data["state"]),
        version=int(data["version"]),
        drafted_by=data.get("drafted_by", ""),
        drafters=None if data.get("drafters") is None else tuple(data["drafters"]),
        approved_by=data.get("approved_by", ""),
        approved_at=data.get("approved_at", ""),
        issued_by=data.get("issued_by", ""),
        issued_at=data.get("issued_at", ""),
        updated_at=data.get("updated_at", ""),
    )


PLAN_COLUMNS = (
    "Số và ký hiệu hồ sơ",
    "Tên đề mục và tiêu đề hồ sơ",
    "Thời hạn bảo quản",
    "Người lập hồ sơ",
    "Ghi chú",
)


def plan_rows(plan: FilePlan) -> list[tuple[str, ...]]:
    """The Danh mục table (Phụ lục V): each large đề mục, then its hồ sơ."""
    rows: list[tuple[str, ...]] = []
    for heading in plan.headings:
        if not heading.large:
            continue
        rows.append(("", f"{heading.number}. {heading.title.upper()}", "", "", ""))
        for item in plan.items:
            if item.heading == heading.number:
                rows.append((item.notation, item.title, item.retention.label, item.creator, item.note))
    return rows


def footer_lines(plan: FilePlan) -> list[str]:
    f = plan.footer
    return [
        f"Bản danh mục hồ sơ năm {plan.year} có tổng số {f['total']:02d} hồ sơ, bao gồm:",
        f"- {f['permanent']:02d} hồ sơ bảo quản vĩnh viễn;",
        f"- {f['years']:02d} hồ sơ bảo quản có thời hạn;",
        f"- {f['until_superseded']:02d} hồ sơ bảo quản đến khi văn bản hết hiệu lực.",
    ]
