"""The page session cookie replayed, forged and fixed, and headers that claim an identity or an
address (a16). The cookie is Flask's signed cookie holding a token issued at login; who acts is
always read from that token in the store, so a cookie is worth what its token is worth."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import csrf, login, logout

from web.app import create_app
from web.context import Kho

NEW_PASSWORD = "Mật-khẩu-mới#2026"


def _cookie(web: FlaskClient) -> str:
    cookie = web.get_cookie("kho_session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("kho_session", value)
    return other


def _logged_in(web: FlaskClient) -> bool:
    answer = web.get("/")
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def test_a_cookie_copied_before_logout_or_a_password_change_is_worth_nothing_after(
    app: Flask, kho: Kho, people: People
) -> None:
    web = app.test_client()
    assert login(web, people, "chuyen_vien").status_code == 302
    before_logout = _cookie(web)
    logout(web)
    replay = _with_cookie(app, before_logout)
    ended = replay.get("/")
    assert ended.status_code == 302 and ended.headers.get("X-Kho-Error") == "SESSION_ENDED"

    assert login(web, people, "chuyen_vien").status_code == 302
    stolen = _cookie(web)
    assert _logged_in(_with_cookie(app, stolen))  # a copy works while the session lives (no IP binding)
    kho.accounts.change_password(people.usernames["chuyen_vien"], PASSWORD, NEW_PASSWORD, "test")
    assert not _logged_in(_with_cookie(app, stolen))


def test_a_cookie_of_another_deployment_or_tampered_is_no_session(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    monkeypatch.setenv("KHO_SESSION_SECRET", "deployment-one-" + "3e9b1d7f5a2c8e0b4d6f1a3c5e7b9d20")
    ours = create_app(kho.settings, kho=kho)
    monkeypatch.setenv("KHO_SESSION_SECRET", "deployment-two-" + "8d0f2b4e6a1c3e5f7b9d1a2c4e6f8b0a")
    theirs = create_app(kho.settings, kho=kho)  # the same store, another secret
    web = ours.test_client()
    assert login(web, people, "lanh_dao").status_code == 302
    value = _cookie(web)
    assert _logged_in(_with_cookie(ours, value))
    assert not _logged_in(_with_cookie(theirs, value))
    payload, _, rest = value.partition(".")
    flipped = ("A" if payload[0] != "A" else "B") + payload[1:]
    assert not _logged_in(_with_cookie(ours, f"{flipped}.{rest}"))
    assert not _logged_in(_with_cookie(ours, value[:-2] + ("AA" if value[-2:] != "AA" else "BB")))


def test_a_session_planted_before_login_gives_the_planter_nothing(app: Flask, people: People) -> None:
    """Fixation: the attacker opens the login page, plants that cookie in the victim's browser,
    the victim logs in. Flask's session has no id to fix; the login clears it (new CSRF
    secret); the attacker's copy stays a stranger's pre-login session and its CSRF token is not
    the victim's."""
    attacker = app.test_client()
    planted_token = csrf(attacker)
    planted = _cookie(attacker)
    victim = _with_cookie(app, planted)
    assert login(victim, people, "quan_tri").status_code == 302
    assert _logged_in(victim)
    assert not _logged_in(_with_cookie(app, planted))
    assert csrf(victim, "/") != planted_token
    forged = victim.post("/logout", data={"csrf_token": planted_token})
    assert forged.status_code == 400 and forged.headers.get("X-Kho-Error") == "CSRF_INVALID"


@pytest.mark.parametrize(
    "header",
    ["X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Remote-User", "X-Kho-User", "X-Client-IP"],
)
def test_a_header_names_neither_who_acts_nor_their_address_without_a_trusted_proxy(
    client: FlaskClient, kho: Kho, people: People, header: str
) -> None:
    value = {
        "Forwarded": "for=198.51.100.7",
        "X-Remote-User": people.usernames["quan_tri"],
        "X-Kho-User": people.usernames["quan_tri"],
    }.get(header, "198.51.100.7")
    me = client.get("/api/me", headers={**people.headers("chuyen_vien"), header: value})
    assert me.json["account"]["username"] == people.usernames["chuyen_vien"]
    assert client.get("/api/me", headers={header: value}).status_code == 401
    wrong = client.post(
        "/api/login",
        json={"username": people.usernames["van_thu"], "password": "Sai#Mat1khau"},
        headers={header: value},
        environ_overrides={"REMOTE_ADDR": "192.0.2.33"},
    )
    assert wrong.status_code == 401
    failed = [e for e in kho.repo.audit.events() if e.action == "account:login-failed"]
    assert failed[-1].source == "192.0.2.33"


def test_the_password_page_shares_the_login_limit_of_the_address_and_name(
    app: Flask, kho: Kho, people: People
) -> None:
    """``POST /password`` checks an old password like a login, for the session's account or for
    the name a login that required a change left in the session (``change_for``). It was the one
    door of that check outside the login limiter: with the session secret known (a weak or leaked
    ``KHO_SESSION_SECRET``; here the test client signs the cookie with the app's secret), any
    name could be put there and guessed at, one password over many names, with no limit per
    address. It now shares the budget of the login page and the API (10 per address and name)."""
    app.extensions["kho_login_limiter"].attempts = 3
    web = app.test_client()
    token = csrf(web)
    target = "khongco.ubnd"  # no account: nothing locks, only the limiter can stop the guesses
    with web.session_transaction() as forged:
        forged["change_for"] = target
    answers = []
    for i in range(4):
        answer = web.post(
            "/password",
            data={"old_password": f"Sai#{i}", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                  "csrf_token": token},
        )
        answers.append((answer.status_code, answer.headers.get("X-Kho-Error")))
    assert [s for s, _ in answers[:3]] == [422, 422, 422], answers
    assert answers[3] == (429, "LOGIN_RATE_LIMITED"), answers
    # The same budget as the API's login for that name from that address.
    api = web.post("/api/login", json={"username": target, "password": "Sai#x"})
    assert api.status_code == 429
