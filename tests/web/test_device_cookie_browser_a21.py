"""Device cookies (review a21) in Debian's Chromium: the browser where the person logged in keeps
the ``kho_device_<name>`` cookie (HttpOnly, SameSite=Strict) across a logout, sends it with the
login form, and logs in while an outsider's wrong passwords have locked every new browser; a
fresh browser (another context: no cookie) gets the lock's message."""

# ruff: noqa: F811 - the harness fixtures (server, browser) are imported by name

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from kho_browser import browser, login_page, server  # noqa: F401 - fixtures
from kho_people import People

from web.app import create_app
from web.context import Kho


def test_the_owners_chromium_logs_in_while_new_browsers_are_locked_out(
    server: str, browser: Any, kho: Kho, people: People
) -> None:
    name = people.usernames["lanh_dao"]
    owner = browser.new_context()
    page = owner.new_page()
    login_page(page, server, name)
    cookie = next(c for c in owner.cookies() if c["name"] == "kho_device_" + name)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.click("header form button")  # logout: the session ends, the device cookie stays
    page.wait_for_url("**/login")

    outsider: FlaskClient = create_app(kho.settings, kho=kho).test_client()
    for i in range(5):
        wrong = outsider.post("/api/login", json={"username": name, "password": f"Sai#{i}abcd"})
        assert wrong.status_code == 401
    # Everyone here is at 127.0.0.1, where the owner logged in: the known network's lock (a22).
    assert kho.accounts.get(name).network_lock_until is not None

    login_page(page, server, name)
    assert "/login" not in page.url, page.content()
    assert kho.accounts.get(name).status.value == "active"

    fresh = browser.new_context()
    other = fresh.new_page()
    login_page(other, server, name)
    assert "/login" in other.url and "trình duyệt bạn đã đăng nhập trước đây" in other.content()
    owner.close()
    fresh.close()
