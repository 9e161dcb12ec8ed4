"""``POST /api/sign-out-everywhere`` (review a24, a22's open item 4): the person's "Đăng xuất
khỏi mọi trình duyệt" for an API caller — the same service (:meth:`AccountService.sign_out_everywhere`),
rule and audit event as the page. The bearer token sent stays; every other token and page
session of the account ends; no browser is trusted any more and the answer carries this client's
new device token. It takes no session cookie: only a bearer token names the caller, so another
site's form cannot press it (the page's form needs its CSRF secret).

Real store, the real API and pages through Werkzeug's client."""

from __future__ import annotations

from flask import Flask
from kho_people import PASSWORD, People
from kho_web import login

from repository.accounts import device_trusted
from web.context import Kho


def _api_login(app: Flask, name: str) -> dict[str, str]:
    answer = app.test_client().post("/api/login", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_api_caller_signs_out_of_every_other_token_and_browser(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main: 404, no such route."""
    name = people.usernames["chuyen_vien"]
    browser = app.test_client()
    assert login(browser, people, "chuyen_vien").status_code == 302
    mine, other = _api_login(app, name), _api_login(app, name)
    api = app.test_client()
    done = api.post("/api/sign-out-everywhere", headers=_bearer(mine["token"]))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["ok"] is True
    # The token pressed with stays; the other API login, the fixture's token and the page
    # session end.
    assert api.get("/api/me", headers=_bearer(mine["token"])).status_code == 200
    for token in (other["token"], people.tokens["chuyen_vien"]):
        ended = api.get("/api/me", headers=_bearer(token))
        assert ended.status_code == 401 and ended.get_json()["error"]["code"] == "TOKEN_INVALID"
    page = browser.get("/")
    assert page.status_code == 302 and page.headers.get("X-Kho-Error") == "SESSION_ENDED"
    events = [e for e in kho.repo.audit.events() if e.action == "account:sign-out-everywhere"]
    assert len(events) == 1 and events[0].actor == name and events[0].details["tokens_revoked"] == 3
    # No device token given out before is trusted; the one in the answer is.
    account, now = kho.accounts.get(name), kho.accounts.clock()
    assert not device_trusted(account, mine["device"], now)
    assert not device_trusted(account, other["device"], now)
    assert device_trusted(account, done.get_json()["device"], now)


def test_only_a_bearer_token_of_an_active_account_signs_out_everywhere(
    app: Flask, kho: Kho, people: People
) -> None:
    """No token, a logged-in browser's session cookie (what another site's form would send), or
    the token of a locked account: refused, nothing ends."""
    name = people.usernames["chuyen_vien"]
    browser = app.test_client()
    assert login(browser, people, "chuyen_vien").status_code == 302
    no_token = app.test_client().post("/api/sign-out-everywhere")
    assert no_token.status_code == 401
    by_cookie = browser.post("/api/sign-out-everywhere")
    assert by_cookie.status_code == 401, by_cookie.get_json()
    forged = app.test_client().post("/api/sign-out-everywhere", headers=_bearer("kho_" + "A" * 43))
    assert forged.status_code == 401
    assert browser.get("/").status_code == 200
    assert app.test_client().get("/api/me", headers=people.headers("chuyen_vien")).status_code == 200
    kho.accounts.lock(name, "admin", kho.accounts.get(people.usernames["quan_tri"]))
    locked = app.test_client().post("/api/sign-out-everywhere", headers=people.headers("chuyen_vien"))
    assert locked.status_code in (401, 403), locked.get_json()
    assert not [e for e in kho.repo.audit.events() if e.action == "account:sign-out-everywhere"]


def test_the_route_is_in_the_api_description(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/sign-out-everywhere"]["post"]
    assert operation["operationId"] == "sign_out_everywhere"
    assert {"200", "401", "403"} <= set(operation["responses"])
