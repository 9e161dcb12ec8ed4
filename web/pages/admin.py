"""Quản trị: accounts (create, lock, unlock, roles per unit, the two-person password reset and
initial password), units (create, rename, move) and grants on a record or hồ sơ. Each change is
audited by the service that makes it.

A new account's initial password follows the same two-person rule as a reset
(``AccountService.create_account``): the creator is shown the first half, the second person the
second half on the confirmation page ("Xác nhận mật khẩu", new accounts beside resets).

A creation, a reset and a confirmation each hand out a secret once, so their forms carry a
one-time token (``once_token``): a resent form (a reload of the answer) is answered 409 with
:data:`~web.pages.common.ALREADY_SUBMITTED_MESSAGE` (or, for a token the session does not
know, :data:`~web.pages.common.STALE_FORM_MESSAGE`) and repeats nothing (before, a reload made a
new reset and silently ended the half already shown).

A password reset needs two people (README "Password reset: two people"): a quản trị resets
(``AccountService.reset_password``) and is shown the first half of the one-time password; another
quản trị of the person's unit or its lãnh đạo confirms (``AccountService.confirm_reset``) and is
shown the second half. Each half appears once, in the body of the POST's answer only: never in a
URL, a flash message, the session or any later page (every page is ``Cache-Control: no-store``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import Blueprint, Response, flash, redirect, request, url_for

from kho.digits import ascii_int
from kho.errors import FieldError, KhoError, ValidationFailed
from repository.accounts import Account, vouched_by
from repository.policy import Action, Role, confirmer_must_hold, may_confirm_reset
from repository.records import is_record_id
from web.pages.common import (
    actor,
    allowed,
    current_account,
    form_refusal,
    kho,
    login_required,
    once_token,
    page,
    typed_int,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

CLEARANCE = ((0, "Thường"), (1, "Mật"), (2, "Tối mật"), (3, "Tuyệt mật"))
STATUS_LABELS = {"active": "Đang hoạt động", "locked": "Đã khóa", "deleted": "Đã xóa"}


@dataclass(frozen=True)
class ResetHalf:
    """One half of a reset's one-time password, to show once to the person who received it."""

    username: str
    first: bool
    """The first half (the quản trị who reset or created), else the second (the one who confirmed)."""
    secret: str
    new_account: bool = False
    """Of a new account's initial password, not of a reset."""
    cleared_confirmer: str | None = None
    """When the one who created or reset it does not hold the account's clearance: that only a
    person who does may confirm (:func:`~repository.policy.confirmer_must_hold`, review a24)."""


def _first_half(account: Account, secret: str, *, new_account: bool = False) -> ResetHalf:
    """The first half for the logged-in creator (or the quản trị who reset), saying when only a
    person holding the account's clearance may confirm it."""
    note = confirmer_must_hold(kho().accounts.principal_of(current_account()), account.clearance)
    return ResetHalf(account.username, True, secret, new_account=new_account, cleared_confirmer=note)


def _awaiting_confirmation(accounts: list[Account]) -> list[Account]:
    """The accounts whose reset is waiting for a confirmation that the logged-in person may give
    (:func:`~repository.policy.may_confirm_reset`, asked without acting: listing writes no
    ``access:denied`` event; the service decides again on "Xác nhận")."""
    service = kho().accounts
    principal = service.principal_of(current_account())
    units_below = cache(service.units_below)  # reads every unit; the same answers for this page
    by_name = {a.username: a for a in accounts}  # the creators are among them: no read each
    return [
        a
        for a in accounts
        if a.active
        and a.reset is not None
        and a.reset.awaiting
        and may_confirm_reset(
            principal,
            units_below,
            a.username,
            a.units,
            a.reset.by,
            clearance=a.clearance,
            vouched=vouched_by(by_name.get(a.reset.by)),
        )
    ]


def _page(
    status: int = 200,
    errors: list[str] | None = None,
    half: ResetHalf | None = None,
) -> Response:
    kho().repo.authorize(actor(), Action.ACCOUNT_MANAGE)
    accounts = kho().accounts
    units = accounts.units()
    everyone = accounts.accounts()
    once_token()  # into the session now: the page is streamed, after the session cookie is sent
    return page(
        "accounts.html",
        status,
        accounts=accounts.managed_by(current_account(), everyone),
        pending=_awaiting_confirmation(everyone),
        unconfirmed={a.username for a in everyone if accounts.password_unconfirmed(a)},
        units=units,
        unit_names={u.unit_id: u.name for u in units},
        roles=[(r.value, r.label) for r in Role],
        clearance=CLEARANCE,
        status_labels=STATUS_LABELS,
        errors=errors or [],
        half=half,
        now=accounts.clock(),
    )


def _refused(exc: KhoError) -> Response:
    """The accounts page again with why an act was refused (422 with each field's message)."""
    if isinstance(exc, ValidationFailed):
        return _page(422, [e.message for e in exc.errors])
    return _page(exc.http_status, [exc.message])


def _resets_page(
    status: int = 200, errors: list[str] | None = None, half: ResetHalf | None = None
) -> Response:
    """The resets waiting for a confirmation by the logged-in person: quản trị and lãnh đạo
    (:attr:`Action.ACCOUNT_LOCK`; a lãnh đạo has no access to the accounts page)."""
    kho().repo.authorize(actor(), Action.ACCOUNT_LOCK)
    once_token()  # into the session now: the page is streamed, after the session cookie is sent
    return page(
        "resets.html",
        status,
        pending=_awaiting_confirmation(kho().accounts.accounts()),
        unit_names={u.unit_id: u.name for u in kho().accounts.units()},
        errors=errors or [],
        half=half,
    )


@bp.get("/accounts")
@login_required
def accounts() -> Response:
    return _page()


@bp.post("/accounts")
@login_required
def create() -> Response:
    form = request.form
    if (refusal := form_refusal()) is not None:
        return _page(409, [refusal])
    try:
        account, initial = kho().accounts.create_account(
            form.get("full_name", ""),  # the service refuses and normalises it
            form.get("unit", ""),
            form.getlist("roles"),
            typed_int(form, "clearance", 0, label="Được đọc văn bản mật đến mức", max_digits=1) or 0,
            form.get("email") or None,
            current_account(),
            request.remote_addr,
        )
    except KhoError as exc:
        return _refused(exc)
    # Shown once, in this response only (never stored in the session or a redirect).
    return _page(201, half=_first_half(account, initial, new_account=True))


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


@bp.post("/accounts/<username>/forget-devices")
@login_required
def forget_devices(username: str) -> Response:
    """``kho account forget-devices`` on the accounts page (review a22): no browser of the
    account is trusted any more; its sessions go on (lock the account to end them)."""
    kho().accounts.forget_devices(username, current_account(), request.remote_addr)
    flash(f"Mọi trình duyệt của tài khoản {username} không còn được tin cậy.", "info")
    return redirect(url_for("admin.accounts"))  # type: ignore[return-value]


# -- password reset: two people ----------------------------------------------------------------
@bp.post("/accounts/<username>/reset")
@login_required
def reset_password(username: str) -> Response:
    if (refusal := form_refusal()) is not None:
        return _page(409, [refusal])
    try:
        account, first = kho().accounts.reset_password(username, current_account(), request.remote_addr)
    except KhoError as exc:
        if not allowed(Action.ACCOUNT_MANAGE):
            raise  # no accounts page for them: the error page, with the service's message
        return _page(exc.http_status, [exc.message])
    return _page(half=_first_half(account, first))


@bp.get("/resets")
@login_required
def resets() -> Response:
    return _resets_page()


@bp.post("/resets/<username>/confirm")
@login_required
def confirm_reset(username: str) -> Response:
    if (refusal := form_refusal()) is not None:
        return _resets_page(409, [refusal])
    try:
        account, second = kho().accounts.confirm_reset(username, current_account(), request.remote_addr)
    except KhoError as exc:
        if not allowed(Action.ACCOUNT_LOCK):
            raise  # no resets page for them: the error page, with the service's message
        return _resets_page(exc.http_status, [exc.message])
    new_account = account.reset is not None and account.reset.new_account
    return _resets_page(half=ResetHalf(account.username, False, second, new_account=new_account))


# -- units: create, rename, move under another parent ------------------------------------------
def _units_page(status: int = 200, errors: list[str] | None = None) -> Response:
    kho().repo.authorize(actor(), Action.ACCOUNT_MANAGE)
    units = kho().accounts.units()
    names = {u.unit_id: u.name for u in units}
    return page("units.html", status, units=units, unit_names=names, errors=errors or [])


@bp.get("/units")
@login_required
def units() -> Response:
    return _units_page()


@bp.post("/units")
@login_required
def create_unit() -> Response:
    form = request.form
    try:
        unit = kho().accounts.create_unit(
            form.get("unit_id", "").strip(),
            form.get("name", ""),
            form.get("code", ""),
            form.get("parent_id", "") or None,
            current_account(),
            request.remote_addr,
        )
    except ValidationFailed as exc:
        return _units_page(422, [e.message for e in exc.errors])
    except KhoError as exc:
        return _units_page(exc.http_status, [exc.message])
    flash(f"Đã tạo đơn vị {unit.name}.", "info")
    return redirect(url_for("admin.units"))  # type: ignore[return-value]


@bp.post("/units/<unit_id>")
@login_required
def update_unit(unit_id: str) -> Response:
    form = request.form
    try:
        unit = kho().accounts.update_unit(
            unit_id,
            name=form.get("name"),
            parent_id=form.get("parent_id") or None,
            actor=current_account(),
            source=request.remote_addr,
        )
    except ValidationFailed as exc:
        return _units_page(422, [e.message for e in exc.errors])
    except KhoError as exc:
        return _units_page(exc.http_status, [exc.message])
    flash(f"Đã cập nhật đơn vị {unit.name}.", "info")
    return redirect(url_for("admin.units"))  # type: ignore[return-value]


# -- roles: assign or remove one role of a person on a unit ------------------------------------
@bp.post("/accounts/<username>/roles")
@login_required
def change_role(username: str) -> Response:
    form = request.form
    service = kho().accounts
    wanted = (form.get("unit", ""), form.get("role", ""))
    try:
        current = [(m.unit, m.role.value) for m in service.get(username).memberships]
        if form.get("op") == "remove":
            memberships = [m for m in current if m != wanted]
            if len(memberships) == len(current):
                raise ValidationFailed(
                    [FieldError("role", "ROLE_NOT_HELD", "Người này không giữ vai trò đó ở đơn vị đó.")]
                )
        else:
            memberships = [*current, wanted] if wanted not in current else current
        service.set_roles(username, memberships, current_account(), request.remote_addr)
    except KhoError as exc:
        return _refused(exc)
    flash(f"Đã cập nhật vai trò của {username}.", "info")
    return redirect(url_for("admin.accounts"))  # type: ignore[return-value]


# -- clearance: the level of state secrets the person may read ---------------------------------
@bp.post("/accounts/<username>/clearance")
@login_required
def change_clearance(username: str) -> Response:
    """``POST /api/accounts/<username>/clearance`` on the accounts page (review a25): the same
    service and rule (``policy.grants_clearance``: a raise only up to the quản trị's own)."""
    level = request.form.get("clearance", "")
    try:
        account = kho().accounts.set_clearance(
            username,
            -1 if (number := ascii_int(level)) is None else number,  # (5,000 digits: a 500 before rv45)
            current_account(),
            request.remote_addr,
        )
    except KhoError as exc:
        return _refused(exc)
    label = dict(CLEARANCE)[account.clearance]
    flash(f"Đã cập nhật mức được tiếp cận thông tin mật của {account.username}: {label}.", "info")
    return redirect(url_for("admin.accounts"))  # type: ignore[return-value]


# -- grants on a record or hồ sơ ---------------------------------------------------------------
def _grants_page(record_id: str, status: int = 200, errors: list[str] | None = None) -> Response:
    who = actor()
    record = None
    if record_id:
        if not is_record_id(record_id):
            errors = [*(errors or []), "Mã văn bản/hồ sơ gồm 24 chữ số thập lục phân."]
            status = 422
        else:
            kind, users, granted_units = kho().repo.grants_of(record_id, actor=who)
            record = {"kind": kind, "users": users, "units": granted_units}
    units = kho().accounts.units()
    return page(
        "grants.html",
        status,
        record=record,
        record_id=record_id,
        unit_names={u.unit_id: u.name for u in units},
        units=units,
        errors=errors or [],
    )


@bp.get("/grants")
@login_required
def grants() -> Response:
    return _grants_page(request.args.get("record", "").strip())


@bp.post("/grants")
@login_required
def change_grant() -> Response:
    form = request.form
    record_id = form.get("record_id", "").strip()
    users = tuple(u.strip().lower() for u in form.get("users", "").replace(",", " ").split() if u.strip())
    units = tuple(u for u in form.getlist("units") if u)
    errors = []
    if not is_record_id(record_id):
        errors.append("Mã văn bản/hồ sơ gồm 24 chữ số thập lục phân.")
    if not users and not units:
        errors.append("Hãy chọn ít nhất một người hoặc một đơn vị.")
    if errors:
        return _grants_page(record_id if is_record_id(record_id) else "", 422, errors)
    revoke = form.get("op") == "revoke"
    try:
        kho().grant(record_id, users=users, units=units, revoke=revoke, actor=actor())
    except ValidationFailed as exc:
        return _grants_page(record_id, 422, [e.message for e in exc.errors])
    flash("Đã thu hồi quyền truy cập." if revoke else "Đã cấp quyền truy cập.", "info")
    return redirect(url_for("admin.grants", record=record_id))  # type: ignore[return-value]
