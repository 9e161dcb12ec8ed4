"""Đăng nhập, đăng xuất, đổi mật khẩu (first login and expired passwords too)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for

from kho.errors import (
    AccountLocked,
    KhoError,
    LoginFailed,
    LoginRateLimited,
    PasswordChangeRequired,
    ValidationFailed,
)
from repository import passwords
from repository.accounts import WEB_SESSION, token_digest
from web.cross_site import VIA_OTHER_SITE, cross_site
from web.devices import presented, remember
from web.pages.common import (
    current_account,
    current_actor,
    kho,
    limited,
    login_required,
    page,
    safe_next,
)

bp = Blueprint("auth", __name__)

RULES = (
    f"Tối thiểu {passwords.MIN_LENGTH:02d} ký tự",
    "có chữ hoa, chữ thường, chữ số và ký tự đặc biệt (ví dụ: ! @ # $ %)",
    "không chứa tên tài khoản",
    f"đổi mật khẩu ít nhất {passwords.PASSWORD_MAX_AGE_MONTHS} tháng một lần",
)


def _start_session(token: str) -> None:
    session.clear()  # a new session id and CSRF secret at every login (no fixation)
    session["t"] = token


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if request.method == "GET":
        if current_actor() is not None:
            return redirect(safe_next(request.args.get("next")))  # type: ignore[return-value]
        # Opened from another site with an address to go on to: say so in the form, so that the
        # login (a same-origin POST whose redirect would carry out that site's choice) leads to
        # the page offering the address instead (web.cross_site).
        via = VIA_OTHER_SITE if request.args.get("next") and cross_site() else ""
        return page("login.html", next=request.args.get("next", ""), rules=RULES, via=via)
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    via = request.form.get("via", "")
    ip = request.remote_addr or ""
    error: str | None = None
    try:
        account = limited(
            username,
            lambda: kho().accounts.authenticate(username, password, ip, presented(username)),
            successes=(PasswordChangeRequired,),
        )
    except LoginRateLimited:
        abort(429)
    except PasswordChangeRequired as exc:
        session.clear()
        session["change_for"] = exc.account.username if exc.account is not None else username
        flash(exc.message, "warning")
        return redirect(url_for("auth.change_password"))  # type: ignore[return-value]
    except (LoginFailed, AccountLocked) as exc:
        error = exc.message
    except KhoError as exc:
        error = exc.message
    if error is not None:
        return page("login.html", 401, next=target, rules=RULES, error=error, username=username, via=via)
    token = kho().accounts.issue_token(account.username, WEB_SESSION, account, ip)
    _start_session(token)
    if via == VIA_OTHER_SITE and target != url_for("home.index"):
        return remember(redirect(url_for("cross_site_continue", to=target)), kho().accounts, account)
    return remember(redirect(target), kho().accounts, account)


@bp.post("/logout")
def logout() -> Response:
    who = current_actor()
    token = session.get("t")
    if who is not None and token:
        try:
            kho().accounts.revoke_token(
                who.user, token_digest(str(token)), current_account(), request.remote_addr
            )
        except KhoError:
            pass  # already revoked: the session ends anyway
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """The person's "Đăng xuất khỏi mọi trình duyệt" (review a22): every other session and API token of the
    person's account ends and no other browser is trusted; this browser keeps its session and
    gets a new device cookie (as after a password change)."""
    token = session.get("t")
    after = kho().accounts.sign_out_everywhere(
        current_account(), token_digest(str(token)) if token else None, request.remote_addr
    )
    flash(
        "Đã đăng xuất khỏi mọi trình duyệt và thiết bị khác; các mã truy cập API khác của tài khoản"
        " đã hết hiệu lực.",
        "info",
    )
    return remember(redirect(url_for("auth.change_password")), kho().accounts, after)


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> Response:
    """Logged in, or right after a login that requires a change (first login, expired)."""
    who = current_actor()
    username = who.user if who is not None else session.get("change_for")
    if not username:
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    errors: list[str] = []
    if request.method == "POST":
        old = request.form.get("old_password", "")
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            errors.append("Mật khẩu mới và mật khẩu nhập lại không khớp.")
        else:
            try:
                current = session.get("t") if who is not None else None
                # Under the login limiter, as the API's password change: the old password is
                # checked like a login, for the name the session holds ("change_for" too, which
                # a forged cookie could set to any name if the session secret were known).
                limited(
                    str(username),
                    lambda: kho().accounts.change_password(
                        str(username),
                        old,
                        new,
                        request.remote_addr,
                        keep=token_digest(str(current)) if current else None,
                        device=presented(str(username)),
                    ),
                )
            except LoginRateLimited:
                abort(429)
            except ValidationFailed as exc:
                errors.extend(e.message for e in exc.errors)
            except KhoError as exc:
                errors.append(exc.message)
        if not errors:
            if who is None:
                session.clear()
                flash("Đã đổi mật khẩu. Hãy đăng nhập bằng mật khẩu mới.", "info")
                return redirect(url_for("auth.login"))  # type: ignore[return-value]
            flash("Đã đổi mật khẩu.", "info")
            # The change gave the account a new device key: this browser, where the person is
            # logged in, stays trusted (every other one, a thief's too, is not).
            changed = kho().accounts.get(str(username))
            return remember(redirect(url_for("home.index")), kho().accounts, changed)
    return page(
        "password.html",
        422 if errors else 200,
        username=username,
        rules=RULES,
        errors=errors,
        forced=who is None,
    )
