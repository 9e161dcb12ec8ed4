"""Quản trị: accounts list and create (initial password shown once), lock and unlock."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.errors import KhoError, ValidationFailed
from repository.policy import Action, Role
from web.pages.common import actor, current_account, kho, login_required, page

bp = Blueprint("admin", __name__, url_prefix="/admin")

CLEARANCE = ((0, "Thường"), (1, "Mật"), (2, "Tối mật"), (3, "Tuyệt mật"))
STATUS_LABELS = {"active": "Đang hoạt động", "locked": "Đã khóa", "deleted": "Đã xóa"}


def _page(
    status: int = 200, errors: list[str] | None = None, created: tuple[str, str] | None = None
) -> Response:
    kho().repo.authorize(actor(), Action.ACCOUNT_MANAGE)
    accounts = kho().accounts
    units = accounts.units()
    return page(
        "accounts.html",
        status,
        accounts=accounts.accounts(),
        units=units,
        unit_names={u.unit_id: u.name for u in units},
        roles=[(r.value, r.label) for r in Role],
        clearance=CLEARANCE,
        status_labels=STATUS_LABELS,
        errors=errors or [],
        created=created,
    )


@bp.get("/accounts")
@login_required
def accounts() -> Response:
    return _page()


@bp.post("/accounts")
@login_required
def create() -> Response:
    form = request.form
    try:
        account, initial = kho().accounts.create_account(
            form.get("full_name", "").strip(),
            form.get("unit", ""),
            form.getlist("roles"),
            form.get("clearance", 0, type=int) or 0,
            form.get("email", "").strip() or None,
            current_account(),
            request.remote_addr,
        )
    except ValidationFailed as exc:
        return _page(422, [e.message for e in exc.errors])
    except KhoError as exc:
        return _page(exc.http_status, [exc.message])
    # Shown once, in this response only (never stored in the session or a redirect).
    return _page(201, created=(account.username, initial))


@bp.post("/accounts/<username>/lock")
@login_required
def lock(username: str) -> Response:
    kho().accounts.lock(username, request.form.get("reason", "admin"), current_account(), request.remote_addr)
    flash(f"Đã khóa tài khoản {username}.", "info")
    return redirect(url_for("admin.accounts"))  # type: ignore[return-value]


@bp.post("/accounts/<username>/unlock")
@login_required
def unlock(username: str) -> Response:
    kho().accounts.unlock(username, current_account(), request.remote_addr)
    flash(f"Đã mở khóa tài khoản {username}.", "info")
    return redirect(url_for("admin.accounts"))  # type: ignore[return-value]
