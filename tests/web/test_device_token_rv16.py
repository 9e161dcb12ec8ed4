"""Review rv16 of a21's device cookies: two holes an outsider could use.

* A device token whose instant is made of Unicode digits (``"²"`` passes ``str.isdigit`` but not
  ``int``) crashed the login (a 500 with a traceback) on the page and the API.
* A second cookie of the same name planted in the owner's browser (from a sibling subdomain,
  or with a longer ``Path`` so that the browser sends it first) shadowed the owner's real
  device cookie: the owner's known browser then counted as new, and while an outsider held the
  new-browser lock the owner was kept out again (NOTES-rv12 (a)).

Two real web workers on one real store, the account service's clock moved (as
``test_device_cookie_a21.py``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_clock import MovedClock, workers_on
from kho_people import PASSWORD, People

from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OUTSIDER = {"REMOTE_ADDR": "198.51.100.67"}
OWNER = {"REMOTE_ADDR": "10.0.0.2"}


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock()


@pytest.fixture
def workers(
    kho: Kho, people: People, clock: MovedClock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Flask, Flask]:
    return workers_on(kho, clock, monkeypatch, "rv16-shared-secret-" + "8c1d4e7a2b9f0e3d6a5c8b1f4e7d0a3c")


def _csrf(web: FlaskClient) -> str:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    return found.group(1)


def _page_login(web: FlaskClient, username: str, password: str = PASSWORD) -> int:
    done = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": _csrf(web)},
        environ_overrides=OWNER,
    )
    return done.status_code


def _api_login(web: FlaskClient, username: str, password: str, device: str) -> tuple[int, str | None]:
    done = web.post(
        "/api/login",
        json={"username": username, "password": password, "device": device},
        environ_overrides=OUTSIDER,
    )
    error = (done.json or {}).get("error") or {}
    return done.status_code, error.get("code")


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
        assert _api_login(second.test_client(), name, "Sai#1abcd", token) == (401, "LOGIN_FAILED"), token
        web = first.test_client()
        web.set_cookie("kho_device_" + name, token)
        assert _page_login(web, name, "Sai#2abcd") == 401, token
    # Counted as new browsers and nothing else: the fifth locked new browsers, not the account.
    account = kho.accounts.get(name)
    assert account.status.value == "active" and account.failed_logins == 0
    assert account.untrusted_failures == 5 and account.untrusted_lock_until is not None
    # The right password from a good token with its instant in Arabic-Indic digits: refused as
    # untrusted while new browsers are locked (it is not the token Kho gave out).
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    desk = first.test_client()
    assert _page_login(desk, name) == 302
    good = desk.get_cookie("kho_device_" + name)
    assert good is not None
    version, issued, mac = good.value.split(".")
    arabic = issued.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for i in range(5):
        assert _api_login(second.test_client(), name, f"Sai#{i}xyzw", "")[0] == 401
    assert _api_login(second.test_client(), name, PASSWORD, f"{version}.{arabic}.{mac}") == (
        403,
        "ACCOUNT_LOCKED",
    )
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
    assert _page_login(desk, name) == 302
    good = desk.get_cookie("kho_device_" + name)
    assert good is not None
    for i in range(5):  # the outsider locks new browsers
        assert _api_login(second.test_client(), name, f"Sai#{i}abcd", "")[0] == 401
    assert kho.accounts.get(name).untrusted_lock_until is not None
    # The planted cookie (``Path=/login``) is set first and sent first: "a=planted; a=good".
    owner = first.test_client()
    owner.set_cookie(f"kho_device_{name}", f"1.1764900000.{'0' * 64}", path="/login")
    owner.set_cookie(f"kho_device_{name}", good.value)
    assert _page_login(owner, name) == 302, "the owner's browser was kept out"
    assert kho.accounts.get(name).status.value == "active"
    # The planted cookie alone is no trust.
    outsider = first.test_client()
    outsider.set_cookie(f"kho_device_{name}", f"1.1764900000.{'0' * 64}", path="/login")
    outsider.set_cookie(f"kho_device_{name}", "không-phải-mã")
    assert _page_login(outsider, name) == 401


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
                data={"username": username, "password": f"Sai#{i}abcd", "csrf_token": _csrf(web)},
                environ_overrides=OUTSIDER,
            )
            text = CSRF.sub("", page.get_data(as_text=True)).replace(username, "NAME")
            seen.append((page.status_code, "page", text))
        return seen

    forged = f"1.{int(clock().timestamp())}.{'ab' * 32}"
    assert answers(name, forged) == answers("khong.co.ubnd", forged)
    assert kho.accounts.get(name).untrusted_lock_until is not None
