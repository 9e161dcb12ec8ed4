"""Closing a hồ sơ (ND30 Điều 29; Phụ lục V; Phụ lục VI III.4.g).

Before a hồ sơ is closed: every document is registered and has the metadata the mục lục needs,
duplicates and drafts are flagged, the retention period is re-checked against the plan, the end
date is sane. Blocking findings refuse the close (with the first one's code); flags are shown
and kept in the closing record. The mục lục văn bản (Phụ lục V columns) and the XML export are
computed here from plain data.

Pure: no store, no clock (``today`` comes from the caller).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kho.errors import KhoError
from kho.xmltext import xml_bytes
from retention.eligibility import RetentionFacts, expiry
from retention.schedule import Retention, RetentionKind

REQUIRED_FIELDS = {
    "so_ky_hieu": "Số, ký hiệu",
    "issued_date": "Ngày tháng văn bản",
    "type_name": "Tên loại văn bản",
    "subject": "Trích yếu",
    "organ_name": "Tác giả (cơ quan ban hành)",
}


HIDDEN_LABEL = "(ẩn: văn bản bạn không được xem)"
"""What a closing finding says of a document the reader may not see (:func:`check_closing`)."""


class ClosingRefused(KhoError):
    """A hồ sơ cannot be closed yet; ``details["findings"]`` lists every blocking finding."""


@dataclass(frozen=True)
class DocumentFacts:
    record_id: str
    registered: bool
    state: str
    fields: Mapping[str, Any]
    """``so_ky_hieu``, ``issued_date`` (date), ``type_name``, ``subject``, ``organ_name``,
    ``description``, ``page_amount``."""
    duplicate_key: str | None = None
    draft: bool = False

    @property
    def label(self) -> str:
        return str(self.fields.get("so_ky_hieu") or self.record_id)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    blocking: bool
    record_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "blocking": self.blocking,
            "record_id": self.record_id,
        }


@dataclass(frozen=True)
class ClosingReport:
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.blocking)

    def raise_if_blocked(self) -> None:
        blocking = self.blocking
        if blocking:
            raise ClosingRefused(
                "Chưa kết thúc được hồ sơ: " + "; ".join(f.message for f in blocking),
                code=blocking[0].code,
                findings=[f.to_dict() for f in self.findings],
            )


@dataclass(frozen=True)
class EarlierClosing:
    """A closing a reopened hồ sơ had before: the period and end date it was closed with."""

    retention: Retention
    end_date: date


def keeps_as_long(retention: Retention, end_date: date, earlier: EarlierClosing) -> bool:
    """Whether closing with ``retention`` on ``end_date`` keeps the hồ sơ at least as long as
    ``earlier`` did (the one rule of a re-closing, review rv34). Permanent keeps longest; a
    number of years is compared by the day it ends (:func:`retention.eligibility.expiry`, so a
    shorter period and an end date moved back are judged alike); "until the document ceases to
    have effect" ends on a day no closing knows, so it is comparable to itself only."""
    if retention.permanent:
        return True
    if earlier.retention.permanent:
        return False
    if RetentionKind.UNTIL_SUPERSEDED in (retention.kind, earlier.retention.kind):
        return retention.kind is earlier.retention.kind
    now = expiry(RetentionFacts("", retention.label, end_date))
    before = expiry(RetentionFacts("", earlier.retention.label, earlier.end_date))
    return now is not None and before is not None and now >= before


def check_closing(
    documents: Sequence[DocumentFacts],
    *,
    retention: Retention,
    plan_retention: Retention | None,
    start_date: date,
    end_date: date,
    today: date,
    hidden: Collection[str] = (),
    earlier: Sequence[EarlierClosing] = (),
) -> ClosingReport:
    """The findings of closing a hồ sơ of ``documents`` on ``end_date``. ``hidden``: documents of
    it the reader may not see (``repository.policy.sees``): their findings stay, with their code
    and whether they block, but name no document (:data:`HIDDEN_LABEL`, no record id), and the
    end-date finding gives no date of theirs. A Thường chuyên viên who may close the hồ sơ got the
    id, số and ký hiệu of its Mật documents, and the date of the newest (review rv26).

    Of documents sharing a duplicate key, the first one the reader sees is the original and every
    other is flagged ``DOCUMENT_DUPLICATE`` (the same number of flags as for a reader who sees
    all). A visible document whose only twins are hidden is not flagged: the flag would tell the
    reader that a document they may not see carries its số, ký hiệu, cơ quan and năm (review
    rv29); the hidden twin carries the flag, unnamed.

    ``earlier``: the closings a reopened hồ sơ had. It is closed again only with a period and
    an end date that keep it at least as long as each did (:func:`keeps_as_long`): a chuyên
    viên reopened a closed hồ sơ of 20 năm with any reason, cut it to 01 năm (or moved its end
    date back to its last document's day), closed it again, and it was listed for destruction
    at once (review rv34). Re-determining a hồ sơ's value is the Hội đồng's."""
    out: list[Finding] = []
    if not documents:
        out.append(Finding("FILE_EMPTY", "Hồ sơ chưa có văn bản nào.", True))
    if end_date < start_date or end_date > today:
        out.append(
            Finding(
                "FILE_END_DATE_INVALID",
                f"Ngày kết thúc {end_date:%d/%m/%Y} phải từ ngày bắt đầu {start_date:%d/%m/%Y} đến hôm nay.",
                True,
            )
        )
    dated = [d for d in documents if isinstance(d.fields.get("issued_date"), date)]
    issued = [d.fields["issued_date"] for d in dated]
    if issued and end_date < max(issued):
        # The retention period runs from the year the work ended (TT 10/2022): an end date before
        # the hồ sơ's last document would start it years early, and the hồ sơ would be listed
        # for destruction (or become due for transfer) at once.
        shown = [d.fields["issued_date"] for d in dated if d.record_id not in hidden]
        when = f" ({max(issued):%d/%m/%Y})" if shown and max(shown) == max(issued) else ""
        out.append(
            Finding(
                "FILE_END_BEFORE_DOCUMENTS",
                f"Ngày kết thúc {end_date:%d/%m/%Y} sớm hơn ngày của văn bản mới nhất trong hồ sơ"
                f"{when}: công việc chưa thể kết thúc trước ngày đó.",
                True,
            )
        )
    if plan_retention is not None and not retention.at_least(plan_retention):
        out.append(
            Finding(
                "RETENTION_BELOW_PLAN",
                f"Thời hạn bảo quản của hồ sơ ({retention.label}) ngắn hơn thời hạn trong danh mục"
                f" ({plan_retention.label}): hãy xác định lại.",
                True,
            )
        )
    shorter = next((e for e in earlier if not keeps_as_long(retention, end_date, e)), None)
    if shorter is not None:
        out.append(
            Finding(
                "RETENTION_BELOW_EARLIER_CLOSING",
                f"Thời hạn bảo quản {retention.label} với ngày kết thúc {end_date:%d/%m/%Y} giữ hồ sơ"
                f" ngắn hơn khi kết thúc lần trước ({shorter.retention.label}, ngày kết thúc"
                f" {shorter.end_date:%d/%m/%Y}): mở lại hồ sơ không rút ngắn thời hạn bảo quản;"
                " việc xác định lại giá trị tài liệu thuộc Hội đồng xác định giá trị tài liệu.",
                True,
            )
        )
    originals = _originals(documents, hidden)
    for doc in documents:
        label, named = (HIDDEN_LABEL, None) if doc.record_id in hidden else (doc.label, doc.record_id)
        if doc.state == "destroyed":
            out.append(Finding("DOCUMENT_DESTROYED", f"Văn bản {label} đã bị hủy.", True, named))
            continue
        if not doc.registered:
            out.append(Finding("DOCUMENT_NOT_REGISTERED", f"Văn bản {label} chưa được vào sổ.", True, named))
        missing = [wanted for name, wanted in REQUIRED_FIELDS.items() if not doc.fields.get(name)]
        if missing:
            out.append(
                Finding(
                    "DOCUMENT_METADATA_MISSING",
                    f"Văn bản {label} thiếu: {', '.join(missing)}.",
                    True,
                    named,
                )
            )
        if doc.duplicate_key and originals[doc.duplicate_key] != doc.record_id:
            out.append(
                Finding(
                    "DOCUMENT_DUPLICATE",
                    f"Văn bản {label} trùng với một văn bản khác trong hồ sơ.",
                    False,
                    named,
                )
            )
        if doc.draft:
            out.append(Finding("DOCUMENT_DRAFT", f"Văn bản {label} là bản dự thảo.", False, named))
        if not doc.fields.get("page_amount"):
            out.append(
                Finding(
                    "PAGE_COUNT_UNKNOWN",
                    f"Chưa xác định số trang của văn bản {label}.",
                    False,
                    named,
                )
            )
    return ClosingReport(tuple(out))


def _originals(documents: Sequence[DocumentFacts], hidden: Collection[str]) -> dict[str, str]:
    """Duplicate key -> the document counted as the original: the first the reader sees, else
    the first (destroyed documents are not compared)."""
    out: dict[str, str] = {}
    for doc in documents:
        key = doc.duplicate_key
        if not key or doc.state == "destroyed":
            continue
        if key not in out or (out[key] in hidden and doc.record_id not in hidden):
            out[key] = doc.record_id
    return out


CATALOGUE_COLUMNS = (
    "STT",
    "Số, ký hiệu văn bản",
    "Ngày tháng năm văn bản",
    "Tên loại và trích yếu nội dung",
    "Tác giả văn bản",
    "Tờ số/Trang số",
    "Ghi chú",
)


@dataclass(frozen=True)
class CatalogueRow:
    ordinal: int
    so_ky_hieu: str
    issued: str
    type_subject: str
    author: str
    pages: str
    note: str
    record_id: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            str(self.ordinal),
            self.so_ky_hieu,
            self.issued,
            self.type_subject,
            self.author,
            self.pages,
            self.note,
        )


def catalogue(documents: Sequence[DocumentFacts]) -> tuple[CatalogueRow, ...]:
    """Mục lục văn bản, tài liệu trong hồ sơ: documents in chronological order (Phụ lục VI
    III.4.g), page ranges running through the hồ sơ."""
    ordered = sorted(enumerate(documents), key=lambda p: (p[1].fields.get("issued_date") or date.max, p[0]))
    rows: list[CatalogueRow] = []
    page = 1
    for ordinal, (_, doc) in enumerate(ordered, start=1):
        f = doc.fields
        pages = int(f.get("page_amount") or 0)
        span = f"{page}-{page + pages - 1}" if pages > 1 else (str(page) if pages else "")
        page += pages
        issued = f.get("issued_date")
        rows.append(
            CatalogueRow(
                ordinal,
                str(f.get("so_ky_hieu") or ""),
                issued.strftime("%d/%m/%Y") if isinstance(issued, date) else "",
                f"{f.get('type_name') or ''}: {f.get('subject') or ''}".strip(": "),
                str(f.get("organ_name") or ""),
                span,
                str(f.get("description") or ""),
                doc.record_id,
            )
        )
    return tuple(rows)


def page_total(documents: Sequence[DocumentFacts]) -> int:
    return sum(int(d.fields.get("page_amount") or 0) for d in documents)


def file_xml(file_fields: Mapping[str, Any], documents: Sequence[DocumentFacts]) -> bytes:
    """The hồ sơ and its documents' metadata as XML (Phụ lục VI Phần II, III element names),
    documents in chronological order (Phụ lục VI III.4.g)."""
    root = ET.Element("HoSo")
    ET.SubElement(root, "FormatVersion").text = "1"
    code = ET.SubElement(root, "FileCode")
    for name in ("OrganId", "FileCatalog", "FileNotation"):
        ET.SubElement(code, name).text = str(file_fields.get(name, ""))
    for name in (
        "Title",
        "Maintenance",
        "Rights",
        "Creator",
        "Language",
        "StartDate",
        "EndDate",
        "DocTotal",
        "PageTotal",
        "Description",
    ):
        ET.SubElement(root, name).text = str(file_fields.get(name) or "")
    docs = ET.SubElement(root, "Documents")
    by_id = {d.record_id: d for d in documents}
    for row in catalogue(documents):
        f = by_id[row.record_id].fields
        el = ET.SubElement(docs, "Document", {"id": row.record_id})
        doc_code = ET.SubElement(el, "FileCode")
        for name in ("OrganId", "FileCatalog", "FileNotation"):
            ET.SubElement(doc_code, name).text = str(file_fields.get(name, ""))
        ET.SubElement(el, "DocOrdinal").text = str(row.ordinal)
        ET.SubElement(el, "TypeName").text = str(f.get("type_name") or "")
        ET.SubElement(el, "CodeNumber").text = str(f.get("code_number") or "")
        ET.SubElement(el, "CodeNotation").text = str(f.get("code_notation") or "")
        issued = f.get("issued_date")
        ET.SubElement(el, "IssuedDate").text = issued.isoformat() if isinstance(issued, date) else ""
        ET.SubElement(el, "OrganName").text = str(f.get("organ_name") or "")
        ET.SubElement(el, "Subject").text = str(f.get("subject") or "")
        ET.SubElement(el, "Language").text = str(f.get("language") or "vi")
        ET.SubElement(el, "PageAmount").text = str(f.get("page_amount") or "")
        ET.SubElement(el, "Description").text = str(f.get("description") or "")
    return xml_bytes(root)  # well-formed whatever old stored text it carries (kho.xmltext)
