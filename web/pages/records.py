"""A record's page (metadata, versions, signature verdict, hồ sơ, history) and its download."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int
from kho.errors import KhoError, NotFound, PermissionDenied
from kho.timeutil import to_vn
from repository.formats import load_derived
from repository.policy import Action, Principal, RecordFacts, Role, can, may_declassify, sees
from repository.records import NOTE_MAX, Actor, Record, Repository, StoredFile
from repository.vocabulary import Secrecy, without_hidden_characters
from retention.recall import WITHDRAW_REASON_MAX, Recalls
from web.heads import FileHeaders, file_response, file_route
from web.pages import document_view
from web.pages.common import actor, current_account, kho, login_required, page
from web.worklists import indexed_ids

bp = Blueprint("records", __name__, url_prefix="/records")

# Only these types are sent as themselves; anything else is a download of opaque bytes.
SAFE_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/tiff",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
    "application/xml",
}


HISTORY_SHOWN = 50
FILE_CHOICES = 20
"""Hồ sơ offered on a record page to add it to: the newest the person may edit (all: /files)."""


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # A name stored before hidden characters were refused keeps them: not in the header, where
    # U+202E would show "hoa-don\u202exslx.pdf" as "hoa-donfdp.xslx" in the browser's download.
    name = without_hidden_characters(name).replace('"', "").strip() or "van-ban"
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", folded.encode("ascii", "ignore").decode()) or "van-ban"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/<rid:record_id>")
@login_required
def show(record_id: str) -> Response:
    service = kho().repo
    # The view's events (the read, the history read, …) are written together, in one append.
    with service.audit.batch():
        return _show(record_id, service)


def _show(record_id: str, service: Repository) -> Response:
    who = actor()
    # The record, the policy's facts of it and its hồ sơ, read once (u22): every question
    # below is decided on these, as the repository would decide it (no check is skipped).
    record, facts, holders, listed = service.opened(record_id, actor=who)
    if record.kind == "hoso":
        return redirect(url_for("files.show", file_id=record_id))  # type: ignore[return-value]
    versions = service.history(record_id, actor=who, latest=record, facts=facts, listed=listed)
    files = []
    for holder_id in (h.record_id for h in holders):
        try:
            holder = service.get(holder_id, actor=who)
        except (NotFound, PermissionDenied):
            continue
        if record_id in holder.documents:
            files.append(holder)
    events = None
    principal = who.as_principal
    # A kiểm toán viên's page asks no question of the facts (u11): their history, no form.
    asked = None if principal.has(Role.KIEM_TOAN) else facts
    if asked is None or can(principal, Action.RECORD_HISTORY, asked):
        events = service.audit_events(actor=who, record_id=record_id, loaded=record, facts=facts)
    events_total = len(events) if events is not None else 0
    if events is not None:
        events = events[-HISTORY_SHOWN:][::-1]  # the newest first; the rest in the audit query
    editable_files = []
    # ``may_see`` on the facts read above: not the hồ sơ links again (m29).
    if who.system or sees(principal, facts):
        # The newest hồ sơ the person may find (a choice list, not a catalogue: /files has all).
        candidates = indexed_ids(
            kho(), who, direction=("hoso",), state=("active",), limit=FILE_CHOICES
        )
        for candidate in service.visible(candidates, actor=who):
            if candidate.kind != "hoso" or candidate.record_id in record.documents:
                continue
            if can(who.as_principal, Action.FILE_EDIT, service.facts(candidate)):
                editable_files.append(candidate)
    readable, pages, ocr_text = _readable_view(service, who, record, facts)
    return page(
        "record.html",
        record=record,
        md=record.metadata,
        versions=versions,
        changes=document_view.version_changes(versions),
        readable=readable,
        pages=pages,
        ocr_text=ocr_text,
        files=files,
        events=events,
        events_total=events_total,
        editable_files=editable_files,
        recall_open=Recalls(service).withdrawable(record, actor=who, facts=facts),
        lower_to=_lower_to(record, principal, asked),
        # Granting it onward: the policy's rule (a reader by grant does not re-share), asked
        # without acting.
        grantable=who.system or can(principal, Action.RECORD_GRANT, facts),
        note_max=int(NOTE_MAX),
        withdraw_reason_max=int(WITHDRAW_REASON_MAX),
    )


def _lower_to(record: Record, principal: Principal, facts: RecordFacts | None) -> list[Secrecy]:
    """The levels the person may lower the document to (hạ độ mật, giải mật: its unit's lãnh
    đạo, :func:`~repository.policy.may_declassify`); none for anyone else."""
    if facts is None or record.metadata is None or not may_declassify(principal, facts):
        return []
    return [level for level in Secrecy if level < facts.secrecy]


@bp.post("/<rid:record_id>/secrecy")
@login_required
def lower_secrecy(record_id: str) -> Response:
    """Hạ độ mật, giải mật from the record page: the API's ``PATCH /api/records/{id}`` with
    ``{"changes": {"secrecy": n}, "note": căn cứ}``, the same :meth:`Repository.update_metadata`
    with its rule (:func:`~repository.policy.decide_correction`), audit and refusals (shown on
    the error page with their code)."""
    try:  # kho.digits: ASCII digits only ("٠" is not 0; int() of 5,000 digits raises)
        number = ascii_int(request.form.get("secrecy", ""), max_digits=1)
        version = ascii_int(request.form.get("expected_version", ""))
        if number is None or version is None:
            raise ValueError("secrecy or expected_version")
        level = Secrecy(number)
    except ValueError as exc:
        raise KhoError(
            "Độ mật mới hoặc phiên bản không hợp lệ: hãy tải lại trang.", code="FIELD_INVALID"
        ) from exc
    record = kho().repo.update_metadata(
        record_id,
        {"secrecy": int(level)},
        expected_version=version,
        actor=actor(),
        note=request.form.get("reason"),  # trimmed (or none) by the service, as from the API
    )
    flash(
        f"Đã đổi độ mật văn bản thành “{level.label}” (phiên bản {record.version}); quyết định và"
        " căn cứ được ghi vào nhật ký.",
        "info",
    )
    return redirect(url_for("records.show", record_id=record_id))  # type: ignore[return-value]


SANDBOX = {"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox"}


def _download_headers(stored: StoredFile) -> FileHeaders:
    media_type = stored.media_type if stored.media_type in SAFE_TYPES else "application/octet-stream"
    return FileHeaders(media_type, content_disposition(stored.original_name or stored.stored_name), SANDBOX)


@bp.get("/<rid:record_id>/download")
@login_required
@file_route(lambda stop, record_id: _download_headers(stop.described))
def download(record_id: str) -> Response:
    stored, data = kho().repo.read_content(record_id, actor=actor(), action="content:download")
    response = file_response(data, _download_headers(stored))
    response.headers["X-Content-SHA256"] = stored.sha256
    return response


def _text_of(service: Repository, record_id: str) -> dict | None:
    try:
        return load_derived(service.get_derived(record_id, "text.json"), "text.json")
    except (NotFound, KhoError):
        return None


def _readable_view(
    service: Repository, who: Actor, record: Record, facts: RecordFacts
) -> tuple[bool, list[int], str]:
    """Whether the person may read the original, the page numbers to show, and OCR text of
    scanned pages (text that came from Tesseract, shown beside the page images); ``facts``:
    the policy's facts of ``record``, read with it."""
    if not record.files:
        return False, [], ""
    if not can(who.as_principal, Action.RECORD_READ, facts):
        return False, [], ""
    if record.files[0].media_type != "application/pdf":
        return True, [], ""
    text = _text_of(service, record.record_id) or {}
    count = int(text.get("page_count") or 0)
    if not count:
        _stored, data = service.read_content(
            record.record_id, actor=who, action="content:read", loaded=record, facts=facts
        )
        count = document_view.page_count(data)
    ocr = "\n\n".join(
        f"— Trang {part.get('number')} —\n{part.get('text', '')}"
        for part in text.get("parts", ())
        if part.get("source") == "ocr" and part.get("text")
    )
    return True, list(range(1, min(count, document_view.MAX_PAGES_SHOWN) + 1)), ocr


def _pdf_original(record_id: str, who: Actor, action: str) -> tuple[str, bytes]:
    stored, data = kho().repo.read_content(record_id, actor=who, action=action)
    if stored.media_type != "application/pdf":
        raise NotFound(
            "Văn bản này không phải tệp PDF: hãy tải bản gốc.", code="NOT_A_PDF", record_id=record_id
        )
    return stored.original_name or stored.stored_name, data


@bp.get("/<rid:record_id>/pages/<int:number>.png")
@login_required
@file_route(lambda stop, **_: FileHeaders("image/png", extra=SANDBOX))
def page_image(record_id: str, number: int) -> Response:
    """One page of the original as PNG: the same policy check as a download (record:read),
    the rendering cached as derived data beside the original."""
    if not 1 <= number <= document_view.MAX_PAGES_SHOWN:
        raise NotFound(f"Văn bản không có trang {number}.", code="PAGE_NOT_FOUND", page=number)
    png = kho().repo.read_rendition(
        record_id,
        f"page-{number}.png",
        lambda original: document_view.render_page(original, number),
        actor=actor(),
        details={"page": number},
    )
    response = Response(png, mimetype="image/png")
    response.headers.update(SANDBOX)
    return response


@bp.post("/<rid:record_id>/recall/withdraw")
@login_required
def recall_withdraw(record_id: str) -> Response:
    """Rút lại lệnh thu hồi chưa thực hiện xong: the API's ``POST
    /api/records/{id}/recall/withdraw`` and ``kho archive recall-withdraw`` from the record page
    (u11), the same :meth:`Recalls.withdraw` with its rule, audit and refusals (shown on the
    error page with their code)."""
    k = kho()
    done = Recalls(k.repo, k.backend, k.forget_work).withdraw(
        record_id, request.form.get("reason", ""), actor=actor()
    )
    flash(
        f"Đã rút lại lệnh thu hồi (mã {done['recall_id']}, căn cứ: {done['order_ref']}). Văn bản không"
        " bị thu hồi theo lệnh này; có thể ghi lệnh thu hồi mới nếu cần.",
        "info",
    )
    return redirect(url_for("records.show", record_id=record_id))  # type: ignore[return-value]


@bp.post("/<rid:record_id>/print")
@login_required
def print_copy(record_id: str) -> Response:
    """The original as PDF with a footer naming who printed it and when (Phụ lục VI III.6.k).
    Audited as ``content:print``."""
    who = actor()
    now = kho().repo.clock()
    mark = document_view.print_mark(current_account().full_name, to_vn(now).strftime("%d/%m/%Y %H:%M"))
    original_name, data = _pdf_original(record_id, who, "content:print")
    stamped = document_view.stamp_pdf(data, mark)
    name = original_name.rsplit(".", 1)[0] + "-ban-in.pdf"
    response = Response(stamped, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name).replace("attachment", "inline", 1)
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response
