"""Hồ sơ: create, add documents, list with the mục lục văn bản (Phụ lục V columns)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.errors import Conflict, KhoError, NotFound, PermissionDenied, ValidationFailed
from kho.timeutil import utcnow, vn_date
from repository.metadata import DocumentMetadata
from repository.policy import Action, can
from repository.records import Record
from web.pages.common import actor, current_account, kho, login_required, page, typed_int
from web.worklists import indexed_page, visible_document_counts

bp = Blueprint("files", __name__, url_prefix="/files")

FIELDS = (
    ("file_notation", "Số và ký hiệu hồ sơ (ví dụ 01.TCCB)", True),
    ("title", "Tiêu đề hồ sơ", True),
    ("maintenance", "Thời hạn bảo quản (Vĩnh viễn hoặc số năm, ví dụ 20 năm)", True),
    ("creator", "Người lập hồ sơ", True),
    ("start_date", "Thời gian bắt đầu (dd/mm/yyyy)", True),
    ("description", "Ghi chú", False),
)
INDEX_COLUMNS = (
    "STT",
    "Số, ký hiệu văn bản",
    "Ngày tháng năm văn bản",
    "Tên loại và trích yếu nội dung",
    "Tác giả văn bản",
    "Tờ số/Trang số",
    "Ghi chú",
)


PAGE_SIZE = 50


def _visible_files(number: int) -> tuple[list[Record], dict[str, int], int, bool]:
    """One page of the hồ sơ the person may see (each checked against the policy again), how
    many of each one's documents they may see, the total the index counts, and whether there
    is a next page."""
    who, service = actor(), kho().repo
    ids, total, has_next = indexed_page(
        kho(), who, direction=("hoso",), page=number, page_size=PAGE_SIZE
    )
    files = service.visible(ids, actor=who)
    return files, visible_document_counts(kho(), who, files), total, has_next


def _defaults() -> dict[str, Any]:
    return {
        "creator": current_account().full_name,
        "start_date": vn_date(utcnow()).strftime("%d/%m/%Y"),
        "maintenance": "10 năm",
    }


@bp.get("")
@login_required
def index() -> Response:
    return _index_page()


def _index_page(
    values: dict[str, Any] | None = None, errors: list[str] | None = None, status: int = 200
) -> Response:
    number = max(1, typed_int(request.args, "page", 1, label="Trang", code="PAGE_INVALID", max_digits=9) or 1)
    files, counts, total, has_next = _visible_files(number)
    return page(
        "files.html",
        status,
        files=files,
        counts=counts,
        total=total,
        page_number=number,
        has_next=has_next,
        fields=FIELDS,
        values=values or _defaults(),
        errors=errors or [],
    )


@bp.post("")
@login_required
def create() -> Response:
    # As typed (shown again after a refusal): the metadata rules decide a blank field (u21).
    values = {name: request.form.get(name, "") for name, _label, _req in FIELDS}
    try:
        record = kho().repo.create_file({k: v for k, v in values.items() if v}, actor())
    except ValidationFailed as exc:
        return _index_page(values, [e.message for e in exc.errors], 422)
    except KhoError as exc:
        return _index_page(values, [exc.message], exc.http_status)
    flash("Đã tạo hồ sơ.", "info")
    return redirect(url_for("files.show", file_id=record.record_id))  # type: ignore[return-value]


def index_rows(documents: list[Record]) -> list[tuple[str, ...]]:
    """Mục lục văn bản, tài liệu trong hồ sơ (Phụ lục V): one row per document, in order."""
    rows = []
    page_no = 1
    for ordinal, doc in enumerate(documents, start=1):
        md = doc.metadata
        if not isinstance(md, DocumentMetadata):
            continue
        pages = md.page_amount or 0
        sheet = f"{page_no}-{page_no + pages - 1}" if pages > 1 else (str(page_no) if pages else "")
        page_no += pages
        rows.append(
            (
                str(ordinal),
                md.so_ky_hieu or "",
                md.issued_date.strftime("%d/%m/%Y") if md.issued_date else "",
                f"{md.type_name}: {md.subject}",
                md.organ_name,
                sheet,
                md.description or "",
            )
        )
    return rows


@bp.get("/<rid:file_id>")
@login_required
def show(file_id: str) -> Response:
    who, service = actor(), kho().repo
    record = service.get(file_id, actor=who)
    if record.kind != "hoso":
        return redirect(url_for("records.show", record_id=file_id))  # type: ignore[return-value]
    documents = []
    for doc_id in record.documents:
        try:
            document = service.get(doc_id, actor=who)
        except (NotFound, PermissionDenied):
            continue
        if isinstance(document.metadata, DocumentMetadata):  # one row of the mục lục each
            documents.append(document)
    try:
        service.authorize(who, Action.FILE_EDIT, record)
        editable = True
    except PermissionDenied:
        editable = False
    # Keeping a due hồ sơ is its holder's head's (policy.HOLDER_STEPS): asked without acting.
    keepable = can(who.as_principal, Action.FILE_KEEP_APPROVE, service.facts(record))
    return page(
        "file.html",
        record=record,
        md=record.metadata,
        columns=INDEX_COLUMNS,
        rows=index_rows(documents),
        documents=documents,
        editable=editable,
        keepable=keepable,
    )


def _add(file_id: str, document_id: str) -> Response:
    service = kho().repo
    current = service.get(file_id, actor=actor())
    service.add_to_file(file_id, document_id, expected_version=current.version, actor=actor())
    flash("Đã thêm văn bản vào hồ sơ.", "info")
    return redirect(url_for("files.show", file_id=file_id))  # type: ignore[return-value]


@bp.post("/<rid:file_id>/documents")
@login_required
def add(file_id: str) -> Response:
    document_id = request.form.get("document_id", "").strip().lower()
    if len(document_id) != 24 or any(c not in "0123456789abcdef" for c in document_id):
        flash("Mã văn bản không hợp lệ (24 chữ số thập lục phân, xem ở trang văn bản).", "error")
        return redirect(url_for("files.show", file_id=file_id))  # type: ignore[return-value]
    return _add(file_id, document_id)


@bp.post("/<rid:file_id>/documents/<rid:document_id>/remove")
@login_required
def remove(file_id: str, document_id: str) -> Response:
    """Bỏ một văn bản ra khỏi hồ sơ (a new version of the hồ sơ; the document stays)."""
    service = kho().repo
    expected = typed_int(request.form, "expected_version", None, label="Phiên bản")
    if expected is None:
        current = service.get(file_id, actor=actor())
        expected = current.version
    try:
        service.remove_from_file(
            file_id,
            document_id,
            expected_version=expected,
            actor=actor(),
            reason=request.form.get("reason", ""),
        )
    except Conflict as exc:  # closed hồ sơ, or changed meanwhile: say so on the hồ sơ page
        flash(exc.message, "error")
        return redirect(url_for("files.show", file_id=file_id))  # type: ignore[return-value]
    except NotFound as exc:
        if exc.code != "FILE_DOCUMENT_ABSENT":
            raise
        flash(exc.message, "error")
        return redirect(url_for("files.show", file_id=file_id))  # type: ignore[return-value]
    flash("Đã bỏ văn bản ra khỏi hồ sơ.", "info")
    return redirect(url_for("files.show", file_id=file_id))  # type: ignore[return-value]


@bp.post("/add")
@login_required
def add_from_record() -> Response:
    file_id = request.form.get("file_id", "")
    document_id = request.form.get("document_id", "")
    for value in (file_id, document_id):
        if len(value) != 24 or any(c not in "0123456789abcdef" for c in value):
            raise NotFound("Không tìm thấy hồ sơ hoặc văn bản.")
    return _add(file_id, document_id)
