"""A change to an account made in one process stops (or narrows) every session of that account
held by another process at its very next request: the API token and the page session alike.

Two web workers are two app instances, each with its own :class:`~web.context.Kho` (its own
caches), on one store; they share ``KHO_SESSION_SECRET`` as the workers of one deployment do, so
a page cookie issued by one is read by the other. The quản trị acts in a third instance (the
``kho`` fixture), as another worker or the CLI would. A page session that ends must say why, in
Vietnamese, with the stable code (shown as "Mã lỗi" and sent as ``X-Kho-Error`` on the redirect
to the login page): before a16 only an idle session did; a lock, a reset, a password change
elsewhere or a deletion sent the person to the login page with no word."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People

from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD = "Mật-khẩu-mới#2026"


@pytest.fixture
def workers(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> tuple[Flask, Flask]:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    monkeypatch.setenv("KHO_SESSION_SECRET", "a16-shared-secret-" + "4b8e2d6a0c9f1e7b3a5d8c2f6e0a9b1d")
    return create_app(kho.settings), create_app(kho.settings)


def _page_login(web: FlaskClient, username: str) -> None:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    done = web.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert done.status_code == 302, done.get_data(as_text=True)


def _copy_session(source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie("kho_session")
    assert cookie is not None
    target.set_cookie("kho_session", cookie.value)


def _api_token(web: FlaskClient, username: str) -> dict[str, str]:
    done = web.post("/api/login", json={"username": username, "password": PASSWORD})
    assert done.status_code == 200, done.json
    return {"Authorization": f"Bearer {done.json['token']}"}


def _assert_page_session_ended(web: FlaskClient, code: str, words: str) -> None:
    ended = web.get("/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert ended.headers.get("X-Kho-Error") == code
    page = web.get(ended.headers["Location"]).get_data(as_text=True)
    assert words in page, page
    assert f"Mã lỗi: {code}" in page
    assert web.get("/").status_code == 302  # and it stays ended


def _lock(kho: Kho, people: People, who: str) -> tuple[str, str, int]:
    kho.accounts.lock(who, "left", kho.accounts.get(people.usernames["quan_tri"]))
    return "ACCOUNT_LOCKED", "đang bị khóa", 403


def _delete(kho: Kho, people: People, who: str) -> tuple[str, str, int]:
    kho.accounts.delete(who, kho.accounts.get(people.usernames["quan_tri"]))
    return "SESSION_ENDED", "Phiên làm việc đã kết thúc", 401


def _reset(kho: Kho, people: People, who: str) -> tuple[str, str, int]:
    kho.accounts.reset_password(who, kho.accounts.get(people.usernames["quan_tri"]))
    return "SESSION_ENDED", "Phiên làm việc đã kết thúc", 401


def _change(kho: Kho, people: People, who: str) -> tuple[str, str, int]:
    kho.accounts.change_password(who, PASSWORD, NEW_PASSWORD, "test")
    return "SESSION_ENDED", "Phiên làm việc đã kết thúc", 401


Change = Callable[[Kho, People, str], tuple[str, str, int]]


@pytest.mark.parametrize(
    "change", [_lock, _delete, _reset, _change], ids=["lock", "delete", "reset", "password"]
)
def test_an_account_change_in_one_process_ends_its_sessions_in_another_at_the_next_request(
    kho: Kho, people: People, workers: tuple[Flask, Flask], change: Change
) -> None:
    first, second = workers
    who = people.usernames["chuyen_vien"]
    browser, other_browser, script = first.test_client(), second.test_client(), second.test_client()
    _page_login(browser, who)
    _copy_session(browser, other_browser)  # the same cookie, read by the other worker
    headers = _api_token(script, who)
    assert browser.get("/").status_code == 200
    assert other_browser.get("/").status_code == 200
    assert script.get("/api/me", headers=headers).status_code == 200

    page_code, words, api_status = change(kho, people, who)

    refused = script.get("/api/me", headers=headers)
    api_code = "TOKEN_INVALID" if page_code == "SESSION_ENDED" else page_code
    assert (refused.status_code, refused.json["error"]["code"]) == (api_status, api_code)
    _assert_page_session_ended(other_browser, page_code, words)
    _assert_page_session_ended(browser, page_code, words)


def test_a_lowered_role_and_clearance_take_effect_at_the_next_request_not_the_next_login(
    kho: Kho, people: People, workers: tuple[Flask, Flask]
) -> None:
    first, second = workers
    who = people.usernames["kiem_toan"]
    browser, script = first.test_client(), second.test_client()
    _page_login(browser, who)
    headers = _api_token(script, who)
    assert browser.get("/audit?action=account:login").status_code == 200
    assert script.get("/api/audit", headers=headers).status_code == 200
    assert script.get("/api/me", headers=headers).json["account"]["clearance"] == 3

    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(who, [(kho.accounts.get(who).memberships[0].unit, "chuyen_vien")], admin)
    kho.accounts.set_clearance(who, 0, admin)

    api = script.get("/api/audit", headers=headers)
    assert api.status_code == 403 and api.json["error"]["code"] == "PERMISSION_DENIED"
    page = browser.get("/audit?action=account:login")
    assert page.status_code == 403 and page.headers.get("X-Kho-Error") == "PERMISSION_DENIED"
    assert script.get("/api/me", headers=headers).json["account"]["clearance"] == 0
    assert browser.get("/").status_code == 200  # still logged in: only the rights narrowed
