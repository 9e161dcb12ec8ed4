"""Văn thư: receive files, review each (signature verdict beside suggested metadata), confirm →
số đến / số đi, or trả lại."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int, ascii_int_or
from kho.errors import KhoError, ValidationFailed
from repository.vocabulary import Secrecy, Urgency
from web.app import takes_upload
from web.pages.common import actor, kho, login_required, page
from web.worklists import intake_queue

bp = Blueprint("intake", __name__, url_prefix="/intake")

# (field, label, input type, required) — the metadata a văn thư confirms (Phụ lục VI names).
FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("type_name", "Tên loại văn bản", "text", True),
    ("code_number", "Số văn bản", "text", False),
    ("code_notation", "Ký hiệu văn bản", "text", True),
    ("issued_date", "Ngày tháng văn bản (dd/mm/yyyy)", "text", True),
    ("organ_name", "Cơ quan ban hành (tác giả)", "text", True),
    ("subject", "Trích yếu nội dung", "textarea", True),
    ("signer_position", "Chức vụ người ký", "text", True),
    ("signer_full_name", "Người ký", "text", True),
    ("arrival_date", "Ngày đến (dd/mm/yyyy, để trống: hôm nay)", "text", False),
    ("to_places", "Đơn vị hoặc người nhận", "text", False),
    ("page_amount", "Số trang", "number", False),
    ("description", "Ghi chú", "text", False),
)
URGENCY = [(int(u), u.label) for u in Urgency]
SECRECY = [(int(s), s.label) for s in Secrecy]


def typed_metadata(form: Any, fields: Sequence[tuple[str, str, str, bool]]) -> dict[str, Any]:
    """The metadata a văn thư typed in a form of ``fields`` (this page's, the outgoing page's):
    empty fields left out, the rest stripped; a number field, and the urgency and secrecy
    levels, an integer when it reads as one (:func:`ascii_int`), else kept as typed for the
    metadata validation to refuse by name."""
    values: dict[str, Any] = {}
    for name, _label, kind, _required in fields:
        value = (form.get(name) or "").strip()
        if value:
            number = ascii_int(value) if kind == "number" else None
            values[name] = value if number is None else number
    for name in ("urgency", "secrecy"):
        value = form.get(name, "0")
        number = ascii_int(value)
        values[name] = value if number is None else number
    return values


def _metadata(form: Any) -> dict[str, Any]:
    return typed_metadata(form, FIELDS)


REASONS = ("override_reason", "duplicate_reason")
"""The reasons a văn thư types beside the metadata; shown again, as typed, after a refusal."""


def typed_reasons(form: Any) -> dict[str, str]:
    return {name: value for name in REASONS if (value := (form.get(name) or "").strip())}


def registered_message(record: Any) -> str:
    """What the văn thư is told once a document is in its register: the số đến of a văn bản đến,
    the số with its ký hiệu (the number they write on the document) of a văn bản đi."""
    registration, md = record.registration, record.metadata
    if record.kind == "den":
        return f"Đã vào sổ văn bản đến. Số đến: {registration.display_number}."
    number = md.so_ky_hieu if md is not None and md.so_ky_hieu else registration.display_number
    return f"Đã vào sổ văn bản đi. Số, ký hiệu: {number}."


@bp.get("")
@login_required
def index() -> Response:
    queue = intake_queue(kho(), actor())
    return page("intake.html", queue=queue, limit_mb=kho().repo.max_file_bytes // (1024 * 1024))


@bp.post("")
@login_required
@takes_upload
def upload() -> Response:
    direction = request.form.get("direction", "den")
    uploads = [f for f in request.files.getlist("files") if f.filename]
    # The page's script sends one file per request and shows each outcome beside its progress bar.
    scripted = request.headers.get("X-Kho-Upload") == "1"
    if not uploads:
        flash("Chưa chọn tệp nào.", "error")
        return redirect(url_for("intake.index"))  # type: ignore[return-value]
    outcomes: list[dict[str, Any]] = []
    for upload in uploads:
        name = upload.filename or ""
        try:
            review = kho().receive.receive(upload.read(), name, direction, actor())
        except KhoError as exc:
            outcomes.append({"name": name, "ok": False, "message": f"{name}: {exc.message}"})
            continue
        url = url_for("intake.review", record_id=review.record.record_id)
        outcomes.append({"name": name, "ok": True, "message": f"Đã tiếp nhận {name}.", "url": url})
    if scripted:
        return Response(json.dumps({"files": outcomes}, ensure_ascii=False), mimetype="application/json")
    if len(outcomes) == 1 and outcomes[0]["ok"]:
        return redirect(outcomes[0]["url"])  # type: ignore[return-value]
    for outcome in outcomes:
        flash(outcome["message"], "info" if outcome["ok"] else "error")
    return redirect(url_for("intake.index"))  # type: ignore[return-value]


REASON_ASKED = {
    "METADATA_MISMATCH": (
        "Lý do vẫn vào sổ dù thông tin nhập không khớp với tệp văn bản (bắt buộc, được ghi nhật ký)"
    ),
    "SIGNER_MISMATCH": "Lý do vẫn vào sổ dù người ký không khớp với chữ ký số (bắt buộc, được ghi nhật ký)",
}
"""A refusal the văn thư may go past with a written reason: the reason field the page then shows."""


def _review_page(
    record_id: str,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    field_errors: dict[str, str] | None = None,
    status: int = 200,
    refused: str = "",
) -> Response:
    review = kho().receive.review(record_id, actor())
    if values is None:
        values = dict(review.suggested)
        if isinstance(values.get("issued_date"), str) and "-" in values["issued_date"]:
            y, m, d = values["issued_date"].split("-")[:3]
            values["issued_date"] = f"{d[:2]}/{m}/{y}"
    return page(
        "review.html",
        status,
        review=review,
        values=values,
        fields=FIELDS,
        urgency=URGENCY,
        secrecy=SECRECY,
        errors=errors or [],
        field_errors=field_errors or {},
        reason_label=REASON_ASKED.get(refused, ""),
    )


@bp.get("/<rid:record_id>")
@login_required
def review(record_id: str) -> Response:
    return _review_page(record_id)


@bp.post("/<rid:record_id>/confirm")
@login_required
def confirm(record_id: str) -> Response:
    values = _metadata(request.form)
    try:
        record = kho().receive.confirm(
            record_id,
            values,
            expected_version=ascii_int_or(request.form.get("expected_version"), 0),
            actor=actor(),
            # As typed: the service decides a blank reason (repository.vocabulary.blank) and trims it.
            override_reason=request.form.get("override_reason"),
            duplicate_reason=request.form.get("duplicate_reason"),
        )
    except ValidationFailed as exc:
        shown = {**values, **typed_reasons(request.form)}
        return _review_page(
            record_id, shown, [e.message for e in exc.errors], {e.field: e.message for e in exc.errors}, 422
        )
    except KhoError as exc:
        shown = {**values, **typed_reasons(request.form)}
        try:
            return _review_page(record_id, shown, [exc.message], status=exc.http_status, refused=exc.code)
        except KhoError as unseen:
            # The refusal may have left the record where the văn thư no longer sees it (r32: a
            # killed confirmation typed it Mật, INTAKE_NUMBERED_BEFORE rolled it forward for a
            # Thường văn thư): the refusal itself is the answer, on the error page, not the 403
            # of a review they may not read.
            raise exc from unseen
    if record.registration is not None:
        flash(registered_message(record), "info")
    return redirect(url_for("records.show", record_id=record.record_id))  # type: ignore[return-value]


@bp.post("/<rid:record_id>/return")
@login_required
def give_back(record_id: str) -> Response:
    # As typed: return_document decides a blank reason (the verification's own, or refused).
    kho().receive.return_document(record_id, actor(), request.form.get("reason"))
    flash("Đã trả lại văn bản.", "info")
    return redirect(url_for("intake.index"))  # type: ignore[return-value]
