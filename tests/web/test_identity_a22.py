"""Forged identities, review a22: ``__Host-`` cookie names under ``KHO_COOKIE_SECURE`` (a sibling
subdomain can no longer plant a session or a device cookie), the device cookie of earlier
releases still read once, and ``forget-devices`` on the web: the quản trị's button on the
accounts page and the person's own "Đăng xuất khỏi mọi trình duyệt".

Real store, real pages through Werkzeug's client (the Chromium side is
``test_host_cookies_browser_a22.py``)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import csrf, login, post, text

from web.app import create_app
from web.context import Kho


@pytest.fixture
def secure_app(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "true")
    monkeypatch.setenv("KHO_SESSION_SECRET", "a22-host-cookies-" + "8c1f4e7a2b9d0c3e6f5a4b1d7e2c9f0a")
    app = create_app(kho.settings, kho=kho)
    app.config["PREFERRED_URL_SCHEME"] = "https"  # the test client's requests come over https
    return app


def _browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _set_cookies(answer: object) -> dict[str, str]:
    """The answer's ``Set-Cookie`` headers by cookie name (the whole header, attributes too)."""
    headers = answer.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    return {header.split("=", 1)[0]: header for header in headers}


OUTSIDER = {"REMOTE_ADDR": "198.51.100.66"}
"""An address the accounts never logged in from (the owners log in from the test client's)."""


def _page_login(
    web: FlaskClient, username: str, password: str = PASSWORD, at: dict[str, str] | None = None
) -> object:
    return web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(web)},
        environ_overrides=at or {},
    )


def _lock_new_browsers(app: Flask, username: str) -> None:
    """An outsider's five wrong passwords from :data:`OUTSIDER` lock new browsers there."""
    outsider = app.test_client()
    for i in range(5):
        wrong = outsider.post(
            "/api/login",
            json={"username": username, "password": f"Sai#{i}abcd"},
            environ_overrides=OUTSIDER,
        )
        assert wrong.status_code == 401
    assert app.extensions["kho"].accounts.get(username).untrusted_lock_until is not None


def test_with_secure_cookies_the_session_and_the_device_cookie_carry_the_host_prefix(
    secure_app: Flask, people: People
) -> None:
    """On main: ``kho_session`` and ``kho_device_<name>``, which a sibling subdomain may plant
    (``Domain=<parent>``) and shadow."""
    web = _browser(secure_app)
    name = people.usernames["chuyen_vien"]
    done = _page_login(web, name)
    assert done.status_code == 302, text(done)
    cookies = _set_cookies(done)
    assert set(cookies) == {"__Host-kho_session", "__Host-kho_device_" + name}, cookies
    for header in cookies.values():
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes, header
        assert not any(a.startswith("domain=") for a in attributes), header
    assert web.get("/").status_code == 200  # the prefixed session is the session


def test_an_unprefixed_session_cookie_is_no_session_when_cookies_are_secure(
    secure_app: Flask, people: People
) -> None:
    """Login CSRF by a sibling subdomain: it cannot set ``__Host-kho_session`` (the browser
    refuses a prefixed cookie with a Domain), so it plants ``kho_session`` holding the
    attacker's own session. On main that name is the session: the victim works in the
    attacker's account. Now it is not read at all (not even for one release)."""
    attacker = _browser(secure_app)
    assert _page_login(attacker, people.usernames["van_thu_b"]).status_code == 302
    planted = attacker.get_cookie("__Host-kho_session") or attacker.get_cookie("kho_session")
    assert planted is not None
    victim = _browser(secure_app)
    victim.set_cookie("kho_session", planted.value)
    home = victim.get("/")
    assert home.status_code == 302 and "/login" in home.headers["Location"]


def test_a_known_browsers_unprefixed_device_cookie_is_still_trusted_and_replaced(
    secure_app: Flask, kho: Kho, people: People
) -> None:
    """One release of reading the earlier name: a browser known before the upgrade logs in
    while new browsers are locked out, gets the prefixed cookie and loses the old one."""
    name = people.usernames["lanh_dao"]
    given = secure_app.test_client().post(
        "/api/login", json={"username": name, "password": PASSWORD, "device": ""}
    )
    device = given.json["device"]  # type: ignore[index]
    _lock_new_browsers(secure_app, name)
    known = _browser(secure_app)
    known.set_cookie("kho_device_" + name, device)
    done = _page_login(known, name)
    assert done.status_code == 302, text(done)
    cookies = _set_cookies(done)
    assert "__Host-kho_device_" + name in cookies
    assert cookies["kho_device_" + name].startswith(f"kho_device_{name}=;"), cookies  # removed
    assert kho.accounts.get(name).status.value == "active"
    # A browser without it is still refused: the old name is one more token checked, no more.
    stranger = _browser(secure_app)
    stranger.set_cookie("kho_device_" + name, device[:-4] + "AAAA")
    refused = _page_login(stranger, name, at=OUTSIDER)
    # Review a23: refused with the unknown name's answer there (before: the lock's message).
    assert refused.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in text(refused)


# -- forget-devices on the web ------------------------------------------------------------------
def _device_of(web: FlaskClient, username: str) -> str:
    cookie = web.get_cookie("kho_device_" + username)
    assert cookie is not None
    return cookie.value


def _known_browser_logs_in(app: Flask, username: str, device: str) -> int:
    """The browser holding ``device``, taken elsewhere (a laptop at home: :data:`OUTSIDER`'s
    place, where new browsers are locked), logs in with the right password."""
    web = app.test_client()
    web.set_cookie("kho_device_" + username, device)
    return _page_login(web, username, at=OUTSIDER).status_code  # type: ignore[attr-defined,no-any-return]


def test_a_quan_tri_forgets_every_browser_of_an_account_on_the_accounts_page(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main there is no such page (404): only ``kho account forget-devices`` on the shell."""
    name = people.usernames["chuyen_vien"]
    owner = app.test_client()
    assert login(owner, people, "chuyen_vien").status_code == 302
    device = _device_of(owner, name)
    admin = app.test_client()
    assert login(admin, people, "quan_tri").status_code == 302
    page = text(admin.get("/admin/accounts"))
    assert f"/admin/accounts/{name}/forget-devices" in page and "Quên mọi trình duyệt" in page
    # Without the form's CSRF secret: refused, nothing forgotten.
    forged = admin.post(f"/admin/accounts/{name}/forget-devices", data={})
    assert forged.status_code == 400
    key = kho.accounts.get(name).device_key
    done = post(admin, f"/admin/accounts/{name}/forget-devices", {}, "/admin/accounts")
    assert done.status_code == 302
    assert kho.accounts.get(name).device_key != key
    events = [e for e in kho.repo.audit.events() if e.action == "account:devices-forget"]
    assert [(e.actor, e.details["username"]) for e in events] == [(people.usernames["quan_tri"], name)]
    assert owner.get("/").status_code == 200  # sessions go on
    _lock_new_browsers(app, name)
    assert _known_browser_logs_in(app, name, device) == 401  # the browser is not known any more


def test_a_quan_tri_of_another_unit_or_a_person_without_the_role_cannot_forget_an_accounts_browsers(
    app: Flask, kho: Kho, people: People
) -> None:
    name = people.usernames["lanh_dao"]
    assert login(app.test_client(), people, "lanh_dao").status_code == 302
    key = kho.accounts.get(name).device_key
    people.add("quan_tri_b", "Vũ Quản Trị", "000.01.18.H40", ["quan_tri"], 0)
    for who in ("quan_tri_b", "chuyen_vien_b"):
        web = app.test_client()
        assert login(web, people, who).status_code == 302, who
        refused = post(web, f"/admin/accounts/{name}/forget-devices", {}, "/")
        assert refused.status_code == 403, (who, refused.status_code)
        assert "PERMISSION_DENIED" in text(refused)
    assert kho.accounts.get(name).device_key == key


def test_a_person_signs_out_of_every_other_browser_and_api_token(
    app: Flask, kho: Kho, people: People
) -> None:
    """ "Đăng xuất khỏi mọi trình duyệt": the session pressed in stays, every other session and
    API token ends, no other browser is known. On main the page does not exist (404)."""
    name = people.usernames["van_thu"]
    here, elsewhere = app.test_client(), app.test_client()
    assert login(here, people, "van_thu").status_code == 302
    assert login(elsewhere, people, "van_thu").status_code == 302
    other_device = _device_of(elsewhere, name)
    api = app.test_client().post("/api/login", json={"username": name, "password": PASSWORD})
    api_token = api.json["token"]  # type: ignore[index]
    assert "Đăng xuất khỏi mọi trình duyệt" in text(here.get("/password"))
    # Without the form's CSRF secret (another site's form): refused, nothing ends.
    assert here.post("/sign-out-everywhere", data={}).status_code == 400
    assert elsewhere.get("/").status_code == 200
    done = post(here, "/sign-out-everywhere", {}, "/password")
    assert done.status_code == 302
    assert here.get("/").status_code == 200
    ended = elsewhere.get("/")
    assert ended.status_code == 302 and ended.headers.get("X-Kho-Error") == "SESSION_ENDED"
    refused = app.test_client().get("/api/me", headers={"Authorization": f"Bearer {api_token}"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "TOKEN_INVALID"  # type: ignore[index]
    events = [e for e in kho.repo.audit.events() if e.action == "account:sign-out-everywhere"]
    # The other session, the API login's token and the one the test fixture issued.
    assert len(events) == 1 and events[0].actor == name and events[0].details["tokens_revoked"] == 3
    # Browsers: the other one is no longer known; this one got a new device cookie and is.
    new_device = _device_of(here, name)
    _lock_new_browsers(app, name)
    assert _known_browser_logs_in(app, name, other_device) == 401
    assert _known_browser_logs_in(app, name, new_device) == 302
