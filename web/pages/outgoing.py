"""Văn thư: register an outgoing document (văn bản đi) → số đi, through the one registration path
(ReceiveService.receive_and_register: the same checks and signature gate as every other way in)."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.errors import KhoError, ValidationFailed
from repository.policy import Action
from web.app import takes_upload
from web.pages.common import actor, kho, login_required, page
from web.pages.intake import SECRECY, URGENCY, registered_message, typed_metadata, typed_reasons

bp = Blueprint("outgoing", __name__, url_prefix="/outgoing")

# (field, label, input type, required) — văn bản đi (Phụ lục VI; số is given by the sổ đi).
FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("type_name", "Tên loại văn bản", "text", True),
    ("code_notation", "Ký hiệu văn bản", "text", True),
    ("issued_date", "Ngày ban hành (dd/mm/yyyy; để trống: hôm nay, ngày cấp số)", "text", False),
    ("organ_name", "Cơ quan ban hành", "text", True),
    ("subject", "Trích yếu nội dung", "textarea", True),
    ("signer_position", "Chức vụ người ký", "text", True),
    ("signer_full_name", "Người ký", "text", True),
    ("recipients", "Nơi nhận (mỗi dòng một nơi)", "textarea", True),
    ("issued_amount", "Số lượng bản", "number", False),
    ("page_amount", "Số trang", "number", False),
    ("description", "Ghi chú", "text", False),
)


def _metadata(form: Any) -> dict[str, Any]:
    values = typed_metadata(form, FIELDS)
    if "recipients" in values:  # one nơi nhận a line
        lines = values["recipients"].splitlines()
        values["recipients"] = [{"organ_name": line.strip()} for line in lines if line.strip()]
    return values


def _form(
    values: dict[str, Any], errors: list[str], field_errors: dict[str, str], status: int, chosen: str = ""
) -> Response:
    """The form, with what was typed. ``chosen``: the file sent with a refused form, which no
    browser puts back in a file field: the page names it, to be chosen again."""
    shown = dict(values)
    if chosen and "file" not in field_errors:
        name = unicodedata.normalize("NFC", chosen)
        field_errors = {
            **field_errors,
            "file": f"Hãy chọn lại tệp “{name}”: trình duyệt không giữ tệp đã chọn khi trang báo lỗi.",
        }
    if isinstance(shown.get("recipients"), list):
        shown["recipients"] = "\n".join(r["organ_name"] for r in shown["recipients"])
    return page(
        "outgoing.html",
        status,
        values=shown,
        fields=FIELDS,
        urgency=URGENCY,
        secrecy=SECRECY,
        errors=errors,
        field_errors=field_errors,
        limit_mb=kho().repo.max_file_bytes // (1024 * 1024),
    )


@bp.get("/new")
@login_required
def new() -> Response:
    kho().repo.authorize(actor(), Action.RECORD_CREATE)
    return _form({"organ_name": kho().settings.agency_name}, [], {}, 200)


@bp.post("/new")
@login_required
@takes_upload
def register() -> Response:
    who = actor()
    kho().repo.authorize(who, Action.RECORD_CREATE)
    values = _metadata(request.form)
    shown = {**values, **typed_reasons(request.form)}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(shown, ["Hãy chọn tệp văn bản đi (PDF đã ký số)."], {"file": "Chưa chọn tệp."}, 422)
    try:
        record = kho().receive.receive_and_register(
            upload.read(),
            upload.filename,
            "di",
            values,
            who,
            override_reason=request.form.get("override_reason"),  # the service decides a blank one
        )
    except ValidationFailed as exc:
        field_errors = {e.field: e.message for e in exc.errors}
        return _form(shown, [e.message for e in exc.errors], field_errors, 422, upload.filename)
    except KhoError as exc:
        return _form(shown, [exc.message], {}, exc.http_status, upload.filename)
    if record.registration is not None:
        flash(registered_message(record), "info")
    return redirect(url_for("records.show", record_id=record.record_id))  # type: ignore[return-value]
