"""A record's page (metadata, versions, signature verdict, hồ sơ, history) and its download."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, redirect, url_for

from kho.errors import KhoError, NotFound, PermissionDenied
from repository.policy import Action
from web.pages.common import actor, kho, login_required, page

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


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip() or "van-ban"
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", folded.encode("ascii", "ignore").decode()) or "van-ban"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/<rid:record_id>")
@login_required
def show(record_id: str) -> Response:
    who = actor()
    service = kho().repo
    record = service.get(record_id, actor=who)
    if record.kind == "hoso":
        return redirect(url_for("files.show", file_id=record_id))  # type: ignore[return-value]
    versions = service.history(record_id, actor=who)
    files = []
    for file_id in service.files_of(record_id):
        try:
            files.append(service.get(file_id, actor=who))
        except (NotFound, PermissionDenied):
            continue
    try:
        events = service.audit_events(actor=who, record_id=record_id)
    except PermissionDenied:
        events = None
    editable_files = []
    if service.may_see(who, record):
        for candidate in service.records():
            if candidate.kind != "hoso" or candidate.record_id in record.documents:
                continue
            try:
                service.authorize(who, Action.FILE_EDIT, candidate)
            except (PermissionDenied, KhoError):
                continue
            editable_files.append(candidate)
    return page(
        "record.html",
        record=record,
        md=record.metadata,
        versions=versions,
        files=files,
        events=events,
        editable_files=editable_files,
    )


@bp.get("/<rid:record_id>/download")
@login_required
def download(record_id: str) -> Response:
    stored, data = kho().repo.read_content(record_id, actor=actor(), action="content:download")
    media_type = stored.media_type if stored.media_type in SAFE_TYPES else "application/octet-stream"
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = content_disposition(stored.original_name or stored.stored_name)
    response.headers["X-Content-SHA256"] = stored.sha256
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response
