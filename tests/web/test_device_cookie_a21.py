"""Device cookies (review a21, NOTES-rv12 (a) found not fixed): an outsider's wrong passwords lock
only browsers that never logged in to the account; the owner's known browser still logs in, and
keeps its sessions; a guesser is stopped as before; a device token is worth nothing forged,
expired, of another account, after a password change, a reset or a quản trị's revocation.

Two web workers on one real store (as in ``test_account_relock_a20.py``); the account service's
clock is moved; the pages, the API, the cookies and the tokens are real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_clock import MovedClock, workers_on
from kho_people import PASSWORD, People
from kho_web import CSRF, csrf

from web.context import Kho

OUTSIDER = {"REMOTE_ADDR": "198.51.100.66"}
OWNER = {"REMOTE_ADDR": "10.0.0.1"}
NEW_PASSWORD = "Kho@2026-đổi-mới"
STRANGERS_ANSWER = (401, "LOGIN_FAILED:None")
"""Review a23: what a refused login from :data:`OUTSIDER` (no valid device token, not a known
network) gets under a lock, right password or wrong (before a23 the right one got 403
``ACCOUNT_LOCKED:untrusted_browser``): the unknown name's answer. Refused all the same."""


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock()


@pytest.fixture
def workers(
    kho: Kho, people: People, clock: MovedClock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Flask, Flask]:
    return workers_on(kho, clock, monkeypatch, "a21-shared-secret-" + "5e0b7c2a9d4f1e8b3a6c0d7f2e9b4a1c")


def _page_login(
    web: FlaskClient, username: str, password: str = PASSWORD, at: dict[str, str] = OWNER
) -> tuple[int, str]:
    """A login on the page from ``at`` (since a22 a new browser on a network the account logged
    in from has a budget of its own: the outsider's browsers log in from :data:`OUTSIDER`)."""
    done = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(web)},
        environ_overrides=at,
    )
    return done.status_code, done.get_data(as_text=True)


def _device(web: FlaskClient, username: str) -> str:
    cookie = web.get_cookie("kho_device_" + username)
    assert cookie is not None, "the login gave no device cookie"
    return cookie.value


def _browser(app: Flask, username: str, device: str) -> FlaskClient:
    """The same browser after a logout: no session, the device cookie kept."""
    web = app.test_client()
    web.set_cookie("kho_device_" + username, device)
    return web


def _api_login(web: FlaskClient, username: str, password: str, device: str = "") -> tuple[int, str | None]:
    done = web.post(
        "/api/login",
        json={"username": username, "password": password, "device": device},
        environ_overrides=OUTSIDER,
    )
    error = (done.json or {}).get("error") or {}
    reason = (error.get("details") or {}).get("reason")
    return done.status_code, f"{error['code']}:{reason}" if error else None


def _outsider_locks(web: FlaskClient, username: str, device: str = "") -> None:
    for i in range(5):
        assert _api_login(web, username, f"Sai#{i}abcd", device) == (401, "LOGIN_FAILED:None")


def _works(web: FlaskClient) -> bool:
    return web.get("/").status_code == 200


def test_an_outsider_relocking_every_lock_period_no_longer_keeps_the_owner_out(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """NOTES-rv12 (a): five wrong passwords per lock period, three periods in a row. On main the
    account locks, the second lock is a re-lock that ends the owner's desk session, and the
    owner's right password gets ``ACCOUNT_LOCKED`` for as long as the outsider goes on."""
    first, second = workers
    name = people.usernames["lanh_dao"]
    desk, laptop = first.test_client(), second.test_client()
    assert _page_login(desk, name)[0] == 302
    assert _page_login(laptop, name)[0] == 302  # the owner's second browser, logged in once
    outsider = second.test_client()
    for round_ in range(3):
        clock.offset += timedelta(minutes=1)
        _outsider_locks(outsider, name)
        assert _works(desk), f"round {round_ + 1}: the desk session ended"
        # The owner's other browser, its session ended (a restart, a logout), logs in anew.
        laptop.delete_cookie("kho_session")
        assert _page_login(laptop, name)[0] == 302, f"round {round_ + 1}: the owner is kept out"
        assert _works(laptop)
        assert kho.accounts.get(name).status.value == "active"
        # A browser that never logged in, even with the right password, waits for the lock's end.
        assert _api_login(outsider, name, PASSWORD) == STRANGERS_ANSWER
        status, text = _page_login(second.test_client(), name, at=OUTSIDER)
        assert status == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in text
        clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    locks = [
        e.details
        for e in kho.repo.audit.events()
        if e.action == "account:lock" and e.details.get("username") == name
    ]
    assert [d["reason"] for d in locks] == ["untrusted_browser"] * 3
    assert [d.get("relock") for d in locks] == [None, True, True]
    # The quản trị alert stays: from the second lock in a row on, every quản trị is told.
    admin = people.usernames["quan_tri"]
    alerts = [n for n in kho.accounts.notifications(admin) if name in n.message and "chưa từng" in n.message]
    assert len(alerts) == 2
    assert any("trình duyệt" in n.message for n in kho.accounts.notifications(name))


def test_a_guesser_without_a_device_token_is_still_locked_and_a_trusted_browsers_run_locks_the_account(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    _, second = workers
    name = people.usernames["chuyen_vien"]
    guesser = second.test_client()
    _outsider_locks(guesser, name)
    # The sixth guess, right or wrong, gets no further: wrong ones are not even counted.
    assert _api_login(guesser, name, "Sai#6abcd") == (401, "LOGIN_FAILED:None")
    assert _api_login(guesser, name, PASSWORD) == STRANGERS_ANSWER
    assert kho.accounts.get(name).untrusted_failures == 5  # refused guesses are not counted
    refused = [
        e.details
        for e in kho.repo.audit.events()
        if e.action == "account:login-failed" and e.actor == name and e.details.get("lock_reason")
    ]
    assert len(refused) == 2 and {d["lock_reason"] for d in refused} == {"untrusted_browser"}
    # Until the lock period is over; then a new browser may log in again.
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    done = guesser.post("/api/login", json={"username": name, "password": PASSWORD})
    assert done.status_code == 200 and done.json["device"]
    # A trusted browser has its own budget (a20's promise kept): five wrong passwords from it
    # lock the account, as a thief holding the owner's device would.
    clock.offset += timedelta(minutes=1)
    _outsider_locks(second.test_client(), name, done.json["device"])
    assert kho.accounts.get(name).status.value == "locked"
    assert _api_login(second.test_client(), name, PASSWORD, done.json["device"]) == (
        403,
        "ACCOUNT_LOCKED:failed_logins",
    )


def test_forged_expired_and_other_accounts_device_tokens_are_refused(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    from repository.accounts import DEVICE_TOKEN_DAYS, device_token

    first, second = workers
    name, other = people.usernames["lanh_dao"], people.usernames["van_thu"]
    desk, others_desk = first.test_client(), first.test_client()
    assert _page_login(desk, name)[0] == 302 and _page_login(others_desk, other)[0] == 302
    good, theirs = _device(desk, name), _device(others_desk, other)
    _outsider_locks(second.test_client(), name)  # only a trusted browser logs in now
    version, issued, mac = good.split(".")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    account = kho.accounts.get(name)
    expired = device_token(account, clock() - timedelta(days=DEVICE_TOKEN_DAYS, minutes=1))
    future = device_token(account, clock() + timedelta(days=1))
    assert expired is not None and future is not None
    bad = {
        "flipped MAC": f"{version}.{issued}.{flipped}",
        "moved instant": f"{version}.{int(issued) + 1}.{mac}",
        "other version": f"2.{issued}.{mac}",
        "another account's": theirs,
        "expired": expired,
        "from the future": future,
        "garbage": "không-phải-mã",
        "huge": "1." + "9" * 40 + "." + mac,
    }
    for what, token in bad.items():
        clock.offset += timedelta(minutes=16)  # past the login limiter's window
        assert _api_login(second.test_client(), name, PASSWORD, token) == STRANGERS_ANSWER, what
        page = _browser(first, name, token)
        assert _page_login(page, name, at=OUTSIDER)[0] == 401, what
    assert _api_login(second.test_client(), name, PASSWORD, good)[0] == 200
    # A non-string device is bad input: a Vietnamese message and a stable code.
    odd = second.test_client().post("/api/login", json={"username": name, "password": PASSWORD, "device": 7})
    assert odd.status_code == 422 and odd.json["error"]["code"] == "FIELD_INVALID"
    # The device key is never shown.
    assert "device_key" not in kho.accounts.get(name).public_dict()
    me = desk.get("/api/me", headers=people.headers("lanh_dao")).json
    assert "device_key" not in me["account"]


@pytest.mark.parametrize("how", ["password-change", "quan-tri-forgets", "reset"])
def test_a_device_token_is_refused_after_a_password_change_a_reset_or_a_revocation(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock, how: str
) -> None:
    first, second = workers
    name = people.usernames["lanh_dao"]
    thief = first.test_client()
    assert _page_login(thief, name)[0] == 302
    stolen = _device(thief, name)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    password = PASSWORD
    if how == "password-change":
        owner = first.test_client()
        assert _page_login(owner, name)[0] == 302
        changed = owner.post(
            "/password",
            data={
                "old_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
                "csrf_token": csrf(owner, "/password"),
            },
        )
        assert changed.status_code == 302
        password = NEW_PASSWORD
        kept = _device(owner, name)  # the browser the change was made in stays trusted
        assert kept != stolen
    elif how == "quan-tri-forgets":
        kho.accounts.forget_devices(name, admin, "10.0.0.5")
        event = [e for e in kho.repo.audit.events() if e.action == "account:devices-forget"][-1]
        assert (event.actor, event.details["username"]) == (admin.username, name)
    else:
        kho.accounts.reset_password(name, admin, "10.0.0.5")
    clock.offset += timedelta(minutes=1)
    # The old token now counts as no token: its five wrong passwords lock only new browsers (with
    # a valid token they would lock the account), and then its right password is refused.
    _outsider_locks(second.test_client(), name, stolen)
    after = kho.accounts.get(name)
    assert after.status.value == "active" and after.untrusted_lock_until is not None
    if how != "reset":  # after a reset no password works until the person sets one
        assert _api_login(second.test_client(), name, password, stolen) == STRANGERS_ANSWER
    if how == "password-change":
        assert _api_login(second.test_client(), name, password, kept)[0] == 200


@pytest.mark.parametrize("door", ["/audit/acknowledge", "/password"])
def test_the_other_password_doors_without_a_session_lock_only_new_browsers(
    kho: Kho, people: People, workers: tuple[Flask, Flask], door: str
) -> None:
    """The auditor's acknowledgement form and the password page check a password without a
    session (the form's name, or a login's ``change_for``): an outsider's wrong passwords there
    are a browser's without a device token too, and lock no account."""
    first, second = workers
    name = people.usernames["kiem_toan"]
    desk = first.test_client()
    assert _page_login(desk, name)[0] == 302
    outsider = second.test_client()
    if door == "/password":  # a forged or leftover change_for: the page checks the old password
        with outsider.session_transaction() as session:
            session["change_for"] = name
    for i in range(6):
        field = {"/password": "old_password", "/audit/acknowledge": "password"}[door]
        new = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD} if door == "/password" else {}
        outsider.post(
            door,
            data={"username": name, field: f"Sai#{i}abcd", **new, "csrf_token": csrf(outsider, door)},
            environ_overrides=OUTSIDER,
        )
    account = kho.accounts.get(name)
    assert account.status.value == "active" and account.untrusted_lock_until is not None
    assert _works(desk)
    again = _browser(first, name, _device(desk, name))
    assert _page_login(again, name)[0] == 302


def test_a_quan_tri_lifts_the_new_browser_lock_for_the_person_on_a_new_computer(
    kho: Kho, people: People, workers: tuple[Flask, Flask]
) -> None:
    """The person's only known browser is unreachable (a new computer): the quản trị's unlock
    (the API's, as the page's) lifts the new-browser lock, audited; the account was never locked."""
    first, second = workers
    name = people.usernames["chuyen_vien"]
    _outsider_locks(second.test_client(), name)
    new_computer = first.test_client()
    assert _page_login(new_computer, name)[0] == 401
    lifted = first.test_client().post(f"/api/accounts/{name}/unlock", headers=people.headers("quan_tri"))
    assert lifted.status_code == 200, lifted.json
    assert kho.accounts.get(name).untrusted_lock_until is None
    assert _page_login(new_computer, name)[0] == 302
    event = [e for e in kho.repo.audit.events() if e.action == "account:unlock"][-1]
    assert (event.actor, event.details["previous_reason"]) == (
        people.usernames["quan_tri"],
        "untrusted_browser",
    )


def test_the_accounts_page_shows_the_new_browser_lock_and_lifts_it(
    kho: Kho, people: People, workers: tuple[Flask, Flask]
) -> None:
    first, second = workers
    name = people.usernames["chuyen_vien"]
    _outsider_locks(second.test_client(), name)
    admin = first.test_client()
    admin.post(
        "/login",
        data={"username": people.usernames["quan_tri"], "password": PASSWORD, "csrf_token": csrf(admin)},
    )
    listed = admin.get("/admin/accounts").get_data(as_text=True)
    assert "Đăng nhập từ trình duyệt mới tạm khóa đến" in listed and f"cho {name}" in listed
    lifted = admin.post(
        f"/admin/accounts/{name}/unlock", data={"csrf_token": csrf(admin, "/admin/accounts")}
    )
    assert lifted.status_code == 302
    assert kho.accounts.get(name).untrusted_lock_until is None
    assert f"cho {name}" not in admin.get("/admin/accounts").get_data(as_text=True)


# -- review rv16 ------------------------------------------------------------------------------
# Two holes an outsider could use, and one attack that held:
# * a device token whose instant is made of Unicode digits ("²" passes str.isdigit, not int)
#   crashed the login (a 500 with a traceback) on the page and the API;
# * a second cookie of the same name planted in the owner's browser (a sibling subdomain's
#   Domain cookie, or a longer Path, sent first) shadowed the owner's real device cookie: the
#   known browser counted as new and, while an outsider held the new-browser lock, the owner was
#   kept out again (NOTES-rv12 (a)).


def test_a_device_token_with_unicode_digits_is_refused_not_a_crash(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """``"1.².x"``: before the fix ``int("²")`` raised ValueError inside the login (500 on the
    API and the page). Now it is a token like any forged one: no trust, the ordinary answers.
    A valid token's instant written in other digits (Arabic-Indic) is not taken either: a token
    is exactly what Kho gave out."""

    first, second = workers
    name = people.usernames["lanh_dao"]
    for token in ("1.².x", "1.¹²³.x", "1.𝟙𝟚𝟛.abc", "1.٣.x"):
        clock.offset += timedelta(minutes=16)  # past the login limiter's window
        assert _api_login(second.test_client(), name, "Sai#1abcd", token) == (401, "LOGIN_FAILED:None"), token
        web = first.test_client()
        web.set_cookie("kho_device_" + name, token)
        assert _page_login(web, name, "Sai#2abcd")[0] == 401, token
    # Counted as new browsers and nothing else: the fifth locked new browsers, not the account.
    account = kho.accounts.get(name)
    assert account.status.value == "active" and account.failed_logins == 0
    assert account.untrusted_failures == 5 and account.untrusted_lock_until is not None
    # The right password from a good token with its instant in Arabic-Indic digits: refused as
    # untrusted while new browsers are locked (it is not the token Kho gave out).
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    desk = first.test_client()
    assert _page_login(desk, name)[0] == 302
    good = desk.get_cookie("kho_device_" + name)
    assert good is not None
    version, issued, mac = good.value.split(".")
    arabic = issued.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for i in range(5):
        assert _api_login(second.test_client(), name, f"Sai#{i}xyzw", "")[0] == 401
    assert _api_login(second.test_client(), name, PASSWORD, f"{version}.{arabic}.{mac}") == STRANGERS_ANSWER
    assert _api_login(second.test_client(), name, PASSWORD, good.value)[0] == 200


def test_a_planted_cookie_of_the_same_name_does_not_untrust_the_owners_browser(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """Someone who can set a cookie in the owner's browser for Kho's host (a sibling subdomain's
    ``Domain`` cookie, a longer ``Path``) plants ``kho_device_<name>=garbage``; the browser then
    sends both, the planted one first. Before the fix Kho read only the first: the owner's known
    browser counted as new and, with an outsider's five guesses, was kept out."""
    first, second = workers
    name = people.usernames["lanh_dao"]
    desk = first.test_client()
    assert _page_login(desk, name)[0] == 302
    good = desk.get_cookie("kho_device_" + name)
    assert good is not None
    for i in range(5):  # the outsider locks new browsers
        assert _api_login(second.test_client(), name, f"Sai#{i}abcd", "")[0] == 401
    assert kho.accounts.get(name).untrusted_lock_until is not None
    # The planted cookie (``Path=/login``) is set first and sent first: "a=planted; a=good".
    owner = first.test_client()
    owner.set_cookie(f"kho_device_{name}", f"1.1764900000.{'0' * 64}", path="/login")
    owner.set_cookie(f"kho_device_{name}", good.value)
    assert _page_login(owner, name)[0] == 302, "the owner's browser was kept out"
    assert kho.accounts.get(name).status.value == "active"
    # The planted cookie alone is no trust.
    outsider = first.test_client()
    outsider.set_cookie(f"kho_device_{name}", f"1.1764900000.{'0' * 64}", path="/login")
    outsider.set_cookie(f"kho_device_{name}", "không-phải-mã")
    assert _page_login(outsider, name, at=OUTSIDER)[0] == 401


def test_the_new_browser_lock_answers_an_outsider_as_a_name_that_does_not_exist(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """Attack that held (kept as a guard): seven wrong passwords from new browsers, before and
    after the fifth locks new browsers, get the answers a name that does not exist gets, on the
    API and the page, with or without a forged device token."""
    first, second = workers
    name = people.usernames["van_thu"]

    def answers(username: str, device: str) -> list[tuple[int, str, str]]:
        seen = []
        for i in range(7):
            done = second.test_client().post(
                "/api/login",
                json={"username": username, "password": f"Sai#{i}abcd", "device": device},
                environ_overrides=OUTSIDER,
            )
            error = done.json["error"]
            seen.append((done.status_code, error["code"], error["message"].replace(username, "NAME")))
            web = first.test_client()
            web.set_cookie("kho_device_" + username, device)
            page = web.post(
                "/login",
                data={"username": username, "password": f"Sai#{i}abcd", "csrf_token": csrf(web)},
                environ_overrides=OUTSIDER,
            )
            text = CSRF.sub("", page.get_data(as_text=True)).replace(username, "NAME")
            seen.append((page.status_code, "page", text))
        return seen

    forged = f"1.{int(clock().timestamp())}.{'ab' * 32}"
    assert answers(name, forged) == answers("khong.co.ubnd", forged)
    assert kho.accounts.get(name).untrusted_lock_until is not None
