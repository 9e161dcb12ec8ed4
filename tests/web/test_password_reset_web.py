"""The two-person password reset on the web pages and the API (README "Password reset: two
people"): a quản trị resets and is shown the first half once, another quản trị or the lãnh đạo of
the person's unit confirms and is shown the second half once, the person logs in with both and
must set their own password. Every refusal is a Vietnamese message with its status, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import csrf, login, logout, post, text

from web.context import Kho

NEW_PASSWORD = "Mat-khau@Rieng2026"


def _reset_on_page(web: FlaskClient, people: People, who: str) -> str:
    """The logged-in quản trị resets ``who`` on the accounts page; the first half shown."""
    answer = post(web, f"/admin/accounts/{people.usernames[who]}/reset", {}, "/admin/accounts")
    assert answer.status_code == 200, text(answer)
    return _half(answer)


def _reset_by_quan_tri(web: FlaskClient, people: People, who: str) -> str:
    """The quản trị logs in, resets ``who`` on the accounts page and logs out; the first half."""
    login(web, people, "quan_tri")
    first = _reset_on_page(web, people, who)
    logout(web)
    return first


def _confirm_on_page(web: FlaskClient, people: People, who: str) -> str:
    answer = post(web, f"/admin/resets/{people.usernames[who]}/confirm", {}, "/admin/resets")
    assert answer.status_code == 200, text(answer)
    return _half(answer)


def _half(answer: object) -> str:
    body = text(answer)
    start = body.index('<code id="reset-half">') + len('<code id="reset-half">')
    return body[start : body.index("</code>", start)]


def test_the_quan_tri_resets_on_the_accounts_page_and_sees_the_first_half_once(
    web: FlaskClient, people: People
) -> None:
    target = people.usernames["chuyen_vien"]
    login(web, people, "quan_tri")
    accounts = text(web.get("/admin/accounts"))
    assert f"aria-label=\"Đặt lại mật khẩu của {target}\"" in accounts
    # Not on their own row: they change their own password (a reset would end their session).
    assert f"aria-label=\"Đặt lại mật khẩu của {people.usernames['quan_tri']}\"" not in accounts
    answer = post(web, f"/admin/accounts/{target}/reset", {}, "/admin/accounts")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    first = _half(answer)
    assert len(first) == 16 and "Nửa đầu mật khẩu dùng một lần" in text(answer)
    assert first not in (answer.headers.get("Location") or "")
    reset = people.kho.accounts.get(target).reset
    assert reset is not None and reset.by == people.usernames["quan_tri"] and reset.confirmed_at is None
    # Never again: not on the next page, not in the session, not in a flash message.
    again = text(web.get("/admin/accounts"))
    assert first not in again and "Mật khẩu cấp lại chờ xác nhận" in again
    with web.session_transaction() as session:
        assert first not in repr(dict(session))
    # The one who reset is not offered the confirmation of their own reset.
    assert f"Xác nhận đặt lại mật khẩu của {target}" not in again
    assert "Không có yêu cầu nào chờ bạn xác nhận." in again


def test_the_lanh_dao_confirms_and_the_person_logs_in_with_both_halves_then_must_change(
    web: FlaskClient, people: People
) -> None:
    target = people.usernames["chuyen_vien"]
    first = _reset_by_quan_tri(web, people, "chuyen_vien")
    login(web, people, "lanh_dao")
    assert "Xác nhận mật khẩu" in text(web.get("/"))  # the menu leads a lãnh đạo there
    listed = text(web.get("/admin/resets"))
    assert f"aria-label=\"Xác nhận đặt lại mật khẩu của {target}\"" in listed
    assert people.usernames["quan_tri"] in listed
    answer = post(web, f"/admin/resets/{target}/confirm", {}, "/admin/resets")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    second = _half(answer)
    assert len(second) == 16 and second != first and "Nửa sau mật khẩu dùng một lần" in text(answer)
    after = text(web.get("/admin/resets"))
    assert second not in after and "Không có yêu cầu nào chờ bạn xác nhận." in after
    with web.session_transaction() as session:
        assert second not in repr(dict(session))
    logout(web)
    # Neither half alone, nor the halves in the wrong order, nor the old password.
    for wrong in (first, second, second + first, PASSWORD):
        assert login(web, people, "chuyen_vien", wrong).status_code == 401
    entered = login(web, people, "chuyen_vien", first + second)
    assert entered.status_code == 302 and entered.headers["Location"].endswith("/password")
    assert web.get("/").status_code == 302  # no session until the change
    changed = post(
        web, "/password",
        {"old_password": first + second, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        "/password",
    )
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/login")
    assert login(web, people, "chuyen_vien", NEW_PASSWORD).status_code == 302
    assert web.get("/").status_code == 200
    assert people.kho.accounts.get(target).reset is None


def test_every_refusal_on_the_reset_pages_is_a_message_never_a_500(
    web: FlaskClient, people: People, kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = people.usernames["chuyen_vien"]
    # Not allowed: a chuyên viên neither resets nor confirms; a lãnh đạo does not reset.
    login(web, people, "chuyen_vien")
    refused = post(web, f"/admin/accounts/{people.usernames['van_thu']}/reset", {}, "/")
    assert refused.status_code == 403 and "không có vai trò được phép" in text(refused), text(refused)
    refused = post(web, f"/admin/resets/{people.usernames['van_thu']}/confirm", {}, "/")
    assert refused.status_code == 403 and "không có vai trò được phép" in text(refused)
    assert web.get("/admin/resets").status_code == 403
    logout(web)
    login(web, people, "lanh_dao")
    refused = post(web, f"/admin/accounts/{target}/reset", {}, "/")
    assert refused.status_code == 403 and "không có vai trò được phép" in text(refused)
    assert kho.accounts.get(target).reset is None
    # Unknown account (quản trị and lãnh đạo: on their page, with the name they typed).
    unknown = post(web, "/admin/resets/khong.co.ai/confirm", {}, "/admin/resets")
    assert unknown.status_code == 404 and "Không có tài khoản “khong.co.ai”" in text(unknown)
    # Nothing to confirm.
    idle = post(web, f"/admin/resets/{target}/confirm", {}, "/admin/resets")
    assert idle.status_code == 409 and "không có yêu cầu cấp lại mật khẩu đang chờ xác nhận" in text(idle)
    logout(web)
    login(web, people, "quan_tri")
    unknown = post(web, "/admin/accounts/khong.co.ai/reset", {}, "/admin/accounts")
    assert unknown.status_code == 404 and "Không có tài khoản “khong.co.ai”" in text(unknown)
    assert "Quản lý tài khoản" in text(unknown)
    # Without the form's CSRF secret nothing happens.
    forged = web.post(f"/admin/accounts/{target}/reset", data={})
    assert forged.status_code == 400 and "mã chống giả mạo" in text(forged)
    assert kho.accounts.get(target).reset is None
    # The one who reset cannot confirm (RESET_SAME_PERSON).
    _reset_on_page(web, people, "chuyen_vien")
    same = post(web, f"/admin/resets/{target}/confirm", {}, "/admin/resets")
    assert same.status_code == 403
    assert "người đã cấp lại (hoặc đã tạo tài khoản) và với chủ tài khoản" in text(same)
    assert kho.accounts.get(target).reset.confirmed_at is None
    logout(web)
    login(web, people, "lanh_dao")
    _confirm_on_page(web, people, "chuyen_vien")
    twice = post(web, f"/admin/resets/{target}/confirm", {}, "/admin/resets")
    assert twice.status_code == 409 and "không có yêu cầu cấp lại mật khẩu đang chờ xác nhận" in text(twice)
    logout(web)


def test_the_person_cannot_confirm_their_own_reset_on_the_page(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    """A lãnh đạo whose password a quản trị resets, still in the browser: the reset ended their
    session, so "Xác nhận" sends them to the login page and confirms nothing."""
    head = people.usernames["lanh_dao"]
    login(web, people, "lanh_dao")
    page = csrf(web, "/admin/resets")
    kho.accounts.reset_password(head, kho.accounts.get(people.usernames["quan_tri"]))
    confirm = web.post(f"/admin/resets/{head}/confirm", data={"csrf_token": page})
    assert confirm.status_code == 302 and "/login" in confirm.headers["Location"]
    assert kho.accounts.get(head).reset.confirmed_at is None


def test_a_confirmed_reset_not_used_within_24_hours_is_refused_at_login(
    web: FlaskClient, people: People, kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _reset_by_quan_tri(web, people, "chuyen_vien")
    login(web, people, "lanh_dao")
    second = _confirm_on_page(web, people, "chuyen_vien")
    logout(web)
    later = kho.accounts.clock() + timedelta(hours=25)
    monkeypatch.setattr(kho.accounts, "clock", lambda: later)
    expired = login(web, people, "chuyen_vien", first + second)
    assert expired.status_code == 401 and "Mật khẩu dùng một lần đã hết hạn" in text(expired)
