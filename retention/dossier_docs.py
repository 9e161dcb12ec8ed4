"""The documents of a destruction dossier (Luật Lưu trữ 2024 Điều 16, TT 05/2025 Chương VII) as
tables built from the case record alone: danh mục tài liệu hủy, biên bản họp hội đồng, văn bản
thẩm định, quyết định hủy, biên bản hủy tài liệu.

The builders are pure (the case in, a :class:`DossierDocument` out); :func:`render` lays one out
as PDF (reportlab) or XLSX (openpyxl) with the same writers as the other retention outputs, so
both formats always come from the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kho.errors import KhoError, NotFound
from kho.timeutil import parse_iso, vn_display

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class DossierDocument:
    name: str
    """Stable slug (``danh-muc`` …), used in routes and in the kept file names."""
    title: str
    header_lines: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer_lines: tuple[str, ...] = ()
    widths_mm: tuple[float, ...] = ()
    landscape: bool = False


class DossierDocumentNotReady(KhoError):
    code = "DOSSIER_DOCUMENT_NOT_READY"
    http_status = 409


def _when(value: str | None) -> str:
    return vn_display(parse_iso(value)) if value else ""


def _day(value: str | None) -> str:
    return f"{date.fromisoformat(value):%d/%m/%Y}" if value else ""


def _head(case: Mapping[str, Any], agency: str) -> tuple[str, ...]:
    return tuple(x for x in (agency, f"Hồ sơ hủy tài liệu số {case['case_id']}") if x)


def danh_muc(case: Mapping[str, Any], agency: str = "") -> DossierDocument:
    items = case["items"]
    rows = tuple(
        (
            str(n),
            i["file_code"],
            i["title"],
            str(len(i["documents"])),
            i["maintenance"],
            i.get("reason", ""),
        )
        for n, i in enumerate(items, start=1)
    )
    total = sum(len(i["documents"]) for i in items)
    return DossierDocument(
        "danh-muc",
        "Danh mục tài liệu hết giá trị đề nghị hủy",
        _head(case, agency),
        ("STT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Số văn bản", "Thời hạn bảo quản", "Lý do hủy"),
        rows,
        (
            f"Tổng số: {len(items):02d} hồ sơ, {total:02d} văn bản.",
            f"Thuyết minh: {case['explanation']}",
            f"Người lập: {case['proposed_by']} — {_when(case['created_at'])}",
        ),
        (12, 40, 70, 20, 28, 40),
        landscape=True,
    )


OPINIONS = {"agree": "Đồng ý hủy", "disagree": "Không đồng ý"}


def bien_ban_hop(case: Mapping[str, Any], agency: str = "") -> DossierDocument:
    council, minutes = case.get("council"), case.get("minutes")
    if not council or not minutes:
        raise DossierDocumentNotReady("Hội đồng chưa có biên bản họp.")
    reviews = case.get("reviews") or {}
    rows = tuple(
        (
            str(n),
            member,
            OPINIONS.get((reviews.get(member) or {}).get("opinion", ""), "Chưa có ý kiến"),
            (reviews.get(member) or {}).get("note", ""),
        )
        for n, member in enumerate(council["members"], start=1)
    )
    agree = sum(1 for r in reviews.values() if r.get("opinion") == "agree")
    return DossierDocument(
        "bien-ban-hop",
        "Biên bản họp Hội đồng xác định giá trị tài liệu",
        (*_head(case, agency), f"Hội đồng thành lập theo {council['decision_ref']}"),
        ("STT", "Thành viên", "Ý kiến", "Ghi chú"),
        rows,
        (
            f"Số thành viên đồng ý hủy: {agree}/{len(council['members'])}.",
            f"Nội dung biên bản: {minutes['text']}",
            f"Người ghi biên bản: {minutes['by']} — {_when(minutes['at'])}",
        ),
        (12, 50, 40, 80),
    )


def tham_dinh(case: Mapping[str, Any], agency: str = "") -> DossierDocument:
    appraisal = case.get("appraisal")
    if not appraisal:
        raise DossierDocumentNotReady("Chưa có văn bản thẩm định.")
    return DossierDocument(
        "tham-dinh",
        "Văn bản thẩm định tài liệu hết giá trị",
        _head(case, agency),
        ("Nội dung", "Thông tin"),
        (
            ("Ý kiến thẩm định", appraisal["text"]),
            ("Số hồ sơ được thẩm định", str(len(case["items"]))),
            ("Người đính kèm", appraisal["by"]),
            ("Thời điểm", _when(appraisal["at"])),
        ),
        (),
        (60, 120),
    )


def quyet_dinh_huy(case: Mapping[str, Any], agency: str = "") -> DossierDocument:
    decision = case.get("decision")
    if not decision:
        raise DossierDocumentNotReady("Chưa có quyết định hủy.")
    deadline = _day(decision.get("deadline")) or "Không ghi"
    return DossierDocument(
        "quyet-dinh-huy",
        "Quyết định hủy tài liệu hết giá trị" if decision["approve"] else "Quyết định không duyệt hủy",
        (*_head(case, agency), decision["ref"]),
        ("STT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Số văn bản"),
        tuple(
            (str(n), i["file_code"], i["title"], str(len(i["documents"])))
            for n, i in enumerate(case["items"], start=1)
        ),
        (
            f"Thời hạn thực hiện hủy: {deadline}.",
            f"Người quyết định: {decision['by']} — {_when(decision['at'])}",
        ),
        (12, 40, 100, 25),
    )


def bien_ban_huy(case: Mapping[str, Any], agency: str = "") -> DossierDocument:
    execution = case.get("execution") or {}
    if not execution.get("finished_at"):
        raise DossierDocumentNotReady("Việc hủy chưa hoàn tất.")
    titles = {d: i for i in case["items"] for d in [i["record_id"], *i["documents"]]}
    rows = tuple(
        (
            str(n),
            rid,
            "Hồ sơ" if rid in {i["record_id"] for i in case["items"]} else "Văn bản",
            titles[rid]["file_code"] if rid in titles else "",
        )
        for n, rid in enumerate(execution["targets"], start=1)
    )
    return DossierDocument(
        "bien-ban-huy",
        "Biên bản hủy tài liệu hết giá trị",
        (*_head(case, agency), f"Theo {case['decision']['ref']}"),
        ("STT", "Mã tài liệu", "Loại", "Thuộc hồ sơ"),
        rows,
        (
            "Phương thức: crypto-shredding (hủy khóa mã hóa của từng tài liệu, xóa mọi bản trong kho"
            " và mục chỉ mục; khóa trong bản sao lưu bị xóa sau thời hạn sao lưu khóa).",
            f"Bắt đầu: {_when(execution.get('started_at'))}; hoàn tất: {_when(execution['finished_at'])}.",
            f"Người thực hiện (đã xác thực lại): {execution['by']}.",
        ),
        (12, 60, 25, 60),
    )


BUILDERS: dict[str, Callable[[Mapping[str, Any], str], DossierDocument]] = {
    "danh-muc": danh_muc,
    "bien-ban-hop": bien_ban_hop,
    "tham-dinh": tham_dinh,
    "quyet-dinh-huy": quyet_dinh_huy,
    "bien-ban-huy": bien_ban_huy,
}
"""Every document of the dossier, in the order of the procedure."""


def build(case: Mapping[str, Any], name: str, agency: str = "") -> DossierDocument:
    builder = BUILDERS.get(name)
    if builder is None:
        raise NotFound(f"Không có tài liệu “{name[:40]}” trong hồ sơ hủy.", code="NOT_FOUND")
    return builder(case, agency)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise KhoError("Định dạng phải là “pdf” hoặc “xlsx”.", code="FORMAT_INVALID", format=fmt[:10])
    return fmt


def file_name(name: str, fmt: str) -> str:
    return f"destruction-{name}.{fmt}"


def render(document: DossierDocument, fmt: str, *, printed_by: str, printed_at: str) -> bytes:
    """The document as PDF or XLSX (same rows in both)."""
    from kho.sheets import Sheet, to_pdf, to_xlsx

    sheet = Sheet(
        document.title,
        document.header_lines,
        document.columns,
        document.rows,
        document.footer_lines,
        document.widths_mm,
        document.landscape,
    )
    if check_format(fmt) == "pdf":
        return to_pdf(sheet, printed_by, printed_at)
    return to_xlsx(sheet)


def available(case: Mapping[str, Any], agency: str = "") -> list[DossierDocument]:
    """The documents the case has reached so far."""
    out = []
    for builder in BUILDERS.values():
        try:
            out.append(builder(case, agency))
        except DossierDocumentNotReady:
            continue
    return out
