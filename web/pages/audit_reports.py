"""Kiểm toán viên's reports, pure: access statistics for a period (Phụ lục VI III.6.a, b: who
accessed what, counts per person, unit and action) and the audit query with its checkpoint as
CSV or PDF. The events come from ``Repository.audit_events`` (policy-checked, itself audited)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kho.sheets import csv_cell
from repository.records import is_withheld


class _Writer:
    """csv.writer whose text cells cannot run as formulas (:func:`kho.sheets.csv_cell`)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

ACCESS_ACTIONS = frozenset({
    "record:view",
    "record:history",
    "content:read",
    "content:view",
    "content:download",
    "content:print",
    "search",
    "search:export",
    "register:list",
    "register:export",
})
"""Actions that read what Kho holds (the statistics count these)."""


@dataclass(frozen=True)
class AccessStats:
    total: int
    by_person: tuple[tuple[str, int], ...]
    by_unit: tuple[tuple[str, int], ...]
    by_action: tuple[tuple[str, int], ...]
    by_record: tuple[tuple[str, int], ...]
    """The most read records (record id, count)."""
    by_person_action: tuple[tuple[str, str, int], ...]


def access_stats(events: Iterable[Any], units_of: Mapping[str, Sequence[str]], top: int = 50) -> AccessStats:
    """Counts of access events; a person in several units counts in each of them."""
    person: Counter[str] = Counter()
    unit: Counter[str] = Counter()
    action: Counter[str] = Counter()
    record: Counter[str] = Counter()
    pair: Counter[tuple[str, str]] = Counter()
    total = 0
    for event in events:
        if event.action not in ACCESS_ACTIONS:
            continue
        total += 1
        person[event.actor] += 1
        action[event.action] += 1
        pair[(event.actor, event.action)] += 1
        for u in units_of.get(event.actor, ()) or ("(không thuộc đơn vị)",):
            unit[u] += 1
        if event.record_id:
            record[event.record_id] += 1
    return AccessStats(
        total=total,
        by_person=tuple(person.most_common()),
        by_unit=tuple(unit.most_common()),
        by_action=tuple(action.most_common()),
        by_record=tuple(record.most_common(top)),
        by_person_action=tuple((p, a, n) for (p, a), n in sorted(pair.items(), key=lambda i: (-i[1], i[0]))),
    )


def stats_csv(stats: AccessStats, period: str, label: Any, unit_name: Any) -> bytes:
    out = io.StringIO()
    writer = _Writer(out)
    writer.writerow(["Thống kê truy cập", period])
    writer.writerow(["Tổng số lượt truy cập", stats.total])
    writer.writerow([])
    writer.writerow(["Người thực hiện", "Hành động", "Số lượt"])
    for who, action, count in stats.by_person_action:
        writer.writerow([who, label(action), count])
    writer.writerow([])
    writer.writerow(["Đơn vị", "Số lượt"])
    for unit, count in stats.by_unit:
        writer.writerow([unit_name(unit), count])
    writer.writerow([])
    writer.writerow(["Mã văn bản", "Số lượt"])
    for record_id, count in stats.by_record:
        writer.writerow([record_id, count])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 as such


def checkpoint_lines(checkpoint: Mapping[str, Any] | None, *, checked: bool = True) -> tuple[str, ...]:
    """The header lines that cite the newest checkpoint whose signature held
    (:func:`repository.anchor.newest_signed_checkpoint`); ``checked``: whether a key to check
    signatures with is configured (without one, no checkpoint is cited as signed)."""
    if not checked:
        return (
            "Điểm mốc đã ký: không kiểm tra được chữ ký (chưa cấu hình KHO_AUDIT_PUBLIC_KEY hoặc"
            " KHO_AUDIT_SIGNING_KEY); không trích dẫn điểm mốc nào.",
        )
    if checkpoint is None:
        return ("Điểm mốc đã ký: chưa có (hãy tạo bằng “kho audit checkpoint”).",)
    return (
        f"Điểm mốc đã ký số {checkpoint.get('number')} lúc {checkpoint.get('at')}",
        f"Sự kiện đầu chuỗi tại điểm mốc: {checkpoint.get('seq')}, mã băm {checkpoint.get('head')}",
        f"Khóa ký: {checkpoint.get('key_id')}",
    )


EVENT_COLUMNS = (
    "Số thứ tự", "Thời điểm (UTC)", "Người thực hiện", "Hành động", "Mã văn bản", "Nguồn", "Mã băm"
)


WITHHELD_CELL = "(đã ẩn: vượt mức tiếp cận)"


def record_cell(event: Any) -> str:
    """The record column of an exported event: its id, or the mark of an event withheld from
    the reader (:func:`repository.records.withheld`)."""
    if is_withheld(event) and not event.record_id:
        return WITHHELD_CELL
    return event.record_id or ""


def events_csv(events: Sequence[Any], header: Sequence[str], label: Any) -> bytes:
    out = io.StringIO()
    writer = _Writer(out)
    for line in header:
        writer.writerow([line])
    writer.writerow([])
    writer.writerow(EVENT_COLUMNS)
    for e in events:
        writer.writerow([e.seq, e.at, e.actor, label(e.action), record_cell(e), e.source or "", e.hash])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def events_pdf(events: Sequence[Any], header: Sequence[str], label: Any) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from kho.sheets import SPLIT_IN_ROW
    from kho.sheets import escape as _escape
    from kho.sheets import fonts as _fonts

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=7, leading=9)
    head = ParagraphStyle("head", fontName=bold, fontSize=8, leading=10)
    title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=1)
    line = ParagraphStyle("line", fontName=regular, fontSize=9, leading=12)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm, topMargin=10 * mm,
        bottomMargin=10 * mm, title="Nhật ký hệ thống", author="Kho",
    )
    story: list = [Paragraph("TRÍCH XUẤT NHẬT KÝ HỆ THỐNG", title), Spacer(1, 3 * mm)]
    story += [Paragraph(_escape(text), line) for text in header]
    story.append(Spacer(1, 3 * mm))
    data = [[Paragraph(c, head) for c in EVENT_COLUMNS]]
    for e in events:
        row = (str(e.seq), e.at, e.actor, label(e.action), record_cell(e), e.source or "", e.hash)
        data.append([Paragraph(_escape(v), body) for v in row])
    widths = [w * mm for w in (16, 38, 30, 50, 38, 22, 83)]
    grid = Table(data, colWidths=widths, repeatRows=1, splitInRow=SPLIT_IN_ROW)
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ]))
    story.append(grid)
    doc.build(story)
    return out.getvalue()
