"""Known networks (review a22): since a21 anyone could lock every *new* browser of any account
with five wrong passwords per lock period (``untrusted_browser``), so the owner on a new computer
at the office, or an API script that keeps no ``device``, was kept out. Now a new browser on a
network the account logged in from with the right password (an IPv4 address, an IPv6 /64) has
a budget of its own: an outsider elsewhere locks only new browsers elsewhere; wrong passwords on
the known network lock only new browsers there. Browsers holding a device token are untouched
either way; the account stays active.

Real store and pages through Werkzeug's client, the client address set per request."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import csrf, post, text

from web.context import Kho

OFFICE = {"REMOTE_ADDR": "10.20.30.40"}
OFFICE_V6 = {"REMOTE_ADDR": "2001:db8:7:7::10"}
OFFICE_V6_OTHER = {"REMOTE_ADDR": "2001:db8:7:7:abcd::99"}  # the same /64
OUTSIDER = {"REMOTE_ADDR": "198.51.100.66"}


def _page_login(
    web: FlaskClient, username: str, at: dict[str, str], password: str = PASSWORD
) -> tuple[int, str]:
    done = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(web)},
        environ_overrides=at,
    )
    return done.status_code, text(done)


def _api_login(
    app: Flask, username: str, at: dict[str, str], password: str = PASSWORD
) -> tuple[int, str | None]:
    done = app.test_client().post(
        "/api/login", json={"username": username, "password": password}, environ_overrides=at
    )
    error = (done.json or {}).get("error") or {}
    reason = (error.get("details") or {}).get("reason")
    return done.status_code, f"{error['code']}:{reason}" if error else None


def _five_wrong(app: Flask, username: str, at: dict[str, str]) -> None:
    for i in range(5):
        assert _api_login(app, username, at, f"Sai#{i}abcd") == (401, "LOGIN_FAILED:None")


def test_an_outsider_elsewhere_no_longer_locks_the_owners_new_computer_at_the_office(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main: the new computer's right password gets ``ACCOUNT_LOCKED untrusted_browser`` (403
    on the API, 401 on the page) until the lock period ends, and so does an API script."""
    name = people.usernames["lanh_dao"]
    assert _page_login(app.test_client(), name, OFFICE)[0] == 302  # the desk, some day before
    assert _page_login(app.test_client(), name, OFFICE_V6)[0] == 302  # the office's IPv6 too
    _five_wrong(app, name, OUTSIDER)
    # The owner's new computer and a script without a device token, at the office: in.
    status, body = _page_login(app.test_client(), name, OFFICE)
    assert status == 302, body
    assert _api_login(app, name, OFFICE) == (200, None)
    assert _api_login(app, name, OFFICE_V6_OTHER) == (200, None)  # another address of the /64
    # A new browser where the outsider is: still refused, right password or not, with the unknown
    # name's answer there (review a23: no word of the lock to a place the account does not know).
    assert _api_login(app, name, OUTSIDER) == (401, "LOGIN_FAILED:None")
    status, body = _page_login(app.test_client(), name, OUTSIDER)
    assert status == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in body
    account = kho.accounts.get(name)
    assert account.status.value == "active"
    assert account.untrusted_lock_until is not None and account.network_lock_until is None


def test_wrong_passwords_on_a_known_network_lock_new_browsers_there_on_a_budget_of_their_own(
    app: Flask, kho: Kho, people: People
) -> None:
    """Someone on the office network (or an outsider who learned it) gets five guesses from new
    browsers there, then new browsers there are locked too: the owner's known browser is not,
    and the guesses never reach the account's own lock. Audited with ``known_network``."""
    name = people.usernames["chuyen_vien"]
    desk = app.test_client()
    assert _page_login(desk, name, OFFICE)[0] == 302
    _five_wrong(app, name, OUTSIDER)
    _five_wrong(app, name, OFFICE)
    account = kho.accounts.get(name)
    assert account.network_lock_until is not None and account.network_failures == 5
    assert account.untrusted_failures == 5 and account.failed_logins == 0
    assert account.status.value == "active"
    # The sixth guess on the office network is not even counted; the right one is refused. On a
    # known network both are told of the lock (review a23: the password is not checked).
    assert _api_login(app, name, OFFICE, "Sai#6abcd") == (403, "ACCOUNT_LOCKED:untrusted_browser")
    assert _api_login(app, name, OFFICE) == (403, "ACCOUNT_LOCKED:untrusted_browser")
    assert kho.accounts.get(name).network_failures == 5
    # The desk's browser (its device cookie) logs in anew, from anywhere.
    desk.post("/logout", data={"csrf_token": csrf(desk, "/")})
    assert _page_login(desk, name, OFFICE)[0] == 302
    locks = [
        e.details
        for e in kho.repo.audit.events()
        if e.action == "account:lock" and e.details.get("username") == name
    ]
    assert [(d["reason"], d.get("known_network")) for d in locks] == [
        ("untrusted_browser", None),
        ("untrusted_browser", True),
    ]
    # The quản trị's unlock lifts both; the accounts page showed both.
    admin = app.test_client()
    assert _page_login(admin, people.usernames["quan_tri"], OFFICE)[0] == 302
    listed = text(admin.get("/admin/accounts"))
    assert "trình duyệt mới trong mạng quen tạm khóa đến" in listed
    assert post(admin, f"/admin/accounts/{name}/unlock", {}, "/admin/accounts").status_code == 302
    lifted = kho.accounts.get(name)
    assert (lifted.untrusted_lock_until, lifted.network_lock_until) == (None, None)
    assert _api_login(app, name, OUTSIDER) == (200, None)


def test_a_password_change_and_forgetting_the_browsers_forget_the_networks_too(
    app: Flask, kho: Kho, people: People
) -> None:
    """A thief who logged in with the password made their network known: the owner's password
    change (or a quản trị's forget-devices) ends that, as it ends the thief's device token."""
    name = people.usernames["van_thu"]
    thief = app.test_client()
    assert _page_login(thief, name, OUTSIDER)[0] == 302
    assert "198.51.100.66" in kho.accounts.get(name).known_networks
    assert "known_networks" not in (
        app.test_client().get("/api/me", headers=people.headers("van_thu")).json or {}
    )
    kho.accounts.change_password(name, PASSWORD, "Kho@2026-đổi-mới-a22")
    assert kho.accounts.get(name).known_networks == ()
    assert _page_login(app.test_client(), name, OFFICE, "Kho@2026-đổi-mới-a22")[0] == 302
    assert kho.accounts.get(name).known_networks == ("10.20.30.40",)
    kho.accounts.forget_devices(name, kho.accounts.get(people.usernames["quan_tri"]))
    assert kho.accounts.get(name).known_networks == ()
