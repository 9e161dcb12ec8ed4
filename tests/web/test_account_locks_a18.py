"""Locks seen through the doors (NOTES-a18), two web workers on one store as in
``test_session_state_two_workers_a16.py``: an outsider's five wrong passwords do not log the
director out of the session at their desk nor stop their API token, but a session opened during
the guessing ends; the login page tells the person when the lock ends; a lock a quản trị chose
ends every session and token, and the unlock revives none of them.

Since a21 only wrong passwords sent with a device token of the account lock it (an outsider's
lock only browsers without one, ``tests/web/test_device_cookie_a21.py``): here the guesser who got
in during the guessing goes on from the client they logged in with."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People

from kho.timeutil import vn_display
from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OUTSIDER = {"REMOTE_ADDR": "198.51.100.66"}


@pytest.fixture
def workers(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> tuple[Flask, Flask]:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    monkeypatch.setenv("KHO_SESSION_SECRET", "a18-shared-secret-" + "9f3c1e7a5b2d80e4c6a1f9b3d7e5028c")
    return create_app(kho.settings), create_app(kho.settings)


def _csrf(web: FlaskClient) -> str:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    return found.group(1)


def _page_login(web: FlaskClient, username: str) -> None:
    done = web.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(web)})
    assert done.status_code == 302, done.get_data(as_text=True)


def _api_token(web: FlaskClient, username: str) -> dict[str, str]:
    done = web.post("/api/login", json={"username": username, "password": PASSWORD})
    assert done.status_code == 200, done.json
    return {"Authorization": f"Bearer {done.json['token']}"}


def _guess(web: FlaskClient, username: str, times: int, device: str = "") -> None:
    for i in range(times):
        wrong = web.post(
            "/api/login",
            json={"username": username, "password": f"Sai#{i}abcd", "device": device},
            environ_overrides=OUTSIDER,
        )
        assert (wrong.status_code, wrong.json["error"]["code"]) == (401, "LOGIN_FAILED")


def _ended(web: FlaskClient, code: str) -> None:
    ended = web.get("/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert ended.headers.get("X-Kho-Error") == code


def test_an_outsiders_five_guesses_leave_the_directors_desk_and_token_but_not_a_session_opened_meanwhile(
    kho: Kho, people: People, workers: tuple[Flask, Flask]
) -> None:
    first, second = workers
    director = people.usernames["lanh_dao"]
    desk, script, outsider = first.test_client(), second.test_client(), second.test_client()
    _page_login(desk, director)
    headers = _api_token(script, director)
    _guess(outsider, director, 2)
    meanwhile_page, meanwhile_api = second.test_client(), first.test_client()
    _page_login(meanwhile_page, director)  # the right password during the guessing: maybe the guesser
    got_in = meanwhile_api.post("/api/login", json={"username": director, "password": PASSWORD})
    assert got_in.status_code == 200, got_in.json
    meanwhile = {"Authorization": f"Bearer {got_in.json['token']}"}
    _guess(outsider, director, 5, got_in.json["device"])  # from the client that got in
    assert kho.accounts.get(director).status.value == "locked"

    assert desk.get("/").status_code == 200
    assert script.get("/api/me", headers=headers).status_code == 200
    # It works, but administers nothing until the lock ends (NOTES-a18, not fixed 1): the answer
    # is the lock, not a silent refusal.
    clerk = people.usernames["chuyen_vien"]
    act = script.post(f"/api/accounts/{clerk}/lock", json={"reason": "left"}, headers=headers)
    assert (act.status_code, act.json["error"]["code"]) == (403, "ACCOUNT_LOCKED")
    assert kho.accounts.get(clerk).status.value == "active"
    refused = meanwhile_api.get("/api/me", headers=meanwhile)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "TOKEN_INVALID")
    _ended(meanwhile_page, "SESSION_ENDED")

    # The director, logging in anew, learns the lock and when it ends (Vietnam time).
    again = first.test_client()
    page = again.post("/login", data={"username": director, "password": PASSWORD, "csrf_token": _csrf(again)})
    until = kho.accounts.get(director).lock_until
    assert page.status_code == 401 and until is not None
    assert f"tự động mở khóa lúc {vn_display(until)}" in page.get_data(as_text=True)
    api = again.post("/api/login", json={"username": director, "password": PASSWORD})
    assert api.status_code == 403 and api.json["error"]["details"]["reason"] == "failed_logins"
    assert api.json["error"]["details"]["until"]


def test_a_lock_by_a_quan_tri_ends_every_session_and_the_unlock_revives_none(
    kho: Kho, people: People, workers: tuple[Flask, Flask]
) -> None:
    first, second = workers
    who = people.usernames["chuyen_vien"]
    browser, script = first.test_client(), second.test_client()
    _page_login(browser, who)
    headers = _api_token(script, who)
    admin = people.headers("quan_tri")
    lock = first.test_client().post(f"/api/accounts/{who}/lock", json={"reason": "admin"}, headers=admin)
    assert lock.status_code == 200, lock.json
    locked = script.get("/api/me", headers=headers)
    assert (locked.status_code, locked.json["error"]["code"]) == (403, "ACCOUNT_LOCKED")
    assert second.test_client().post(f"/api/accounts/{who}/unlock", json={}, headers=admin).status_code == 200

    gone = script.get("/api/me", headers=headers)
    assert (gone.status_code, gone.json["error"]["code"]) == (401, "TOKEN_INVALID")
    _ended(browser, "SESSION_ENDED")
    fresh = _api_token(second.test_client(), who)  # the account is back; only new sessions work
    assert first.test_client().get("/api/me", headers=fresh).status_code == 200
