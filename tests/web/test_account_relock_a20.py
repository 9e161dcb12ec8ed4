"""The re-lock (review a20, :meth:`repository.accounts.AccountService.survives_lock`), through the
pages and the API of two web workers on one store.

A thief who holds the password opens a session, then sends five wrong passwords: the session
predates the run and survives the lock (a18's rule, kept for a first lock); before a20 they did
it again after every expiry and kept their session for good while the owner stayed locked out
(NOTES-rv10, not fixed 1). Now a lock whose run begins within one lock period after the previous
lock ended spares no session, alerts the quản trị, and a session that survives a lock still
administers nothing (``ACCOUNT_LOCKED``). The account service's clock is moved; the store, the
tokens and the pages are real.

Since a21 wrong passwords lock the account only when they come from a browser that holds a device
token of it (``repository.accounts.device_trusted``): a thief sends them with the device token of
the browser they logged in with (the cookie ``kho_device_<name>``), as here; an outsider's lock
only browsers without one (``tests/web/test_device_cookie_a21.py``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_clock import MovedClock, workers_on
from kho_people import PASSWORD, People
from kho_web import csrf

from web.context import Kho

THIEF = {"REMOTE_ADDR": "203.0.113.7"}
OWNER = {"REMOTE_ADDR": "10.0.0.1"}


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock()


@pytest.fixture
def workers(
    kho: Kho, people: People, clock: MovedClock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Flask, Flask]:
    """Two web workers (each its own installation) on the test's store, all on ``clock``."""
    return workers_on(kho, clock, monkeypatch, "a20-shared-secret-" + "c2a7e9f1b4d6083e5a1c7f9b2d4e6a80")


def _page_login(web: FlaskClient, username: str, where: dict[str, str]) -> None:
    done = web.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf(web)},
        environ_overrides=where,
    )
    assert done.status_code == 302, done.get_data(as_text=True)


def _device(web: FlaskClient, username: str) -> str:
    """The device token the page login gave this browser for ``username``."""
    cookie = web.get_cookie("kho_device_" + username)
    assert cookie is not None
    return cookie.value


def _lock_out(web: FlaskClient, username: str, device: str) -> None:
    for i in range(5):
        wrong = web.post(
            "/api/login",
            json={"username": username, "password": f"Sai#{i}abcd", "device": device},
            environ_overrides=THIEF,
        )
        assert (wrong.status_code, wrong.json["error"]["code"]) == (401, "LOGIN_FAILED")


def _right_password(web: FlaskClient, username: str) -> tuple[int, str | None]:
    done = web.post("/api/login", json={"username": username, "password": PASSWORD}, environ_overrides=OWNER)
    return done.status_code, (done.json.get("error") or {}).get("code")


def _works(web: FlaskClient) -> bool:
    answer = web.get("/")
    return answer.status_code == 200


def _locks(kho: Kho, username: str) -> list[dict[str, object]]:
    return [
        e.details
        for e in kho.repo.audit.events()
        if e.action == "account:lock" and e.details.get("username") == username
    ]


def test_a_thief_holding_the_password_keeps_no_session_past_the_first_lock(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    first, second = workers
    name = people.usernames["lanh_dao"]
    desk, thief, door = first.test_client(), second.test_client(), first.test_client()
    _page_login(desk, name, OWNER)  # the owner's desk
    clock.offset += timedelta(minutes=1)
    _page_login(thief, name, THIEF)  # the stolen password
    stolen = _device(thief, name)  # the thief's browser is trusted: it logged in

    # Round 1: a first lock spares the sessions opened before the run (a18), the thief's too.
    _lock_out(door, name, stolen)
    assert _works(desk) and _works(thief)
    assert _right_password(door, name) == (403, "ACCOUNT_LOCKED")
    assert [d.get("relock") for d in _locks(kho, name)] == [None]

    # The lock ends; the thief's next request writes the expiry, and five wrong passwords again.
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    assert _works(thief)
    _lock_out(door, name, stolen)
    # A re-lock: no session survives it, neither the thief's nor (the cost) the owner's desk.
    for web in (thief, desk):
        ended = web.get("/")
        assert ended.status_code == 302
        assert ended.headers.get("X-Kho-Error") in ("SESSION_ENDED", "ACCOUNT_LOCKED")
        assert not _works(web)
    lock = _locks(kho, name)[-1]
    # the desk, the thief's session and the API token the people fixture opened for the person
    assert lock["relock"] is True and lock["sessions_ended"] == 3 and lock["previous_lock_ended"]
    assert _right_password(door, name) == (403, "ACCOUNT_LOCKED")  # nor a new one while it lasts

    # Every quản trị who manages the account is told; so is the person.
    admin = people.usernames["quan_tri"]
    assert any("bị khóa lại" in n.message and name in n.message for n in kho.accounts.notifications(admin))
    assert any("lại bị khóa" in n.message for n in kho.accounts.notifications(name))

    # Round 3: the thief logs in afresh after the expiry and locks again: still a re-lock.
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    again = second.test_client()
    _page_login(again, name, THIEF)
    _lock_out(door, name, _device(again, name))
    assert not _works(again)
    assert _locks(kho, name)[-1]["relock"] is True

    # The owner gets the account back through a quản trị's reset: every token ends, and the
    # stolen password opens nothing afterwards.
    kho.accounts.unlock(name, kho.accounts.get(admin), "10.0.0.5")
    kho.accounts.reset_password(name, kho.accounts.get(admin), "10.0.0.5")
    assert _right_password(door, name)[0] == 401
    assert not _works(again) and not _works(thief)


def test_a_lock_long_after_the_previous_one_spares_the_desk_again(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """A guard on the rule's reach: a re-lock is one within a lock period of the previous lock's
    end; an outsider's lock a week later is a first lock again and spares the desk (a18)."""
    first, second = workers
    name = people.usernames["lanh_dao"]
    door = second.test_client()
    _page_login(door, name, THIEF)  # a browser the account trusts (a thief's, or the owner's own typos)
    _lock_out(door, name, _device(door, name))
    clock.offset += kho.accounts.lock_duration + timedelta(minutes=1)
    assert _right_password(door, name) == (200, None)  # this login writes the expiry
    clock.offset += kho.accounts.lock_duration + timedelta(hours=1)
    desk = first.test_client()
    _page_login(desk, name, OWNER)
    clock.offset += timedelta(minutes=1)
    _lock_out(door, name, _device(door, name))
    assert _works(desk)
    assert _locks(kho, name)[-1].get("relock") is None


def test_a_session_that_survives_a_lock_administers_nothing_until_it_ends(
    kho: Kho, people: People, workers: tuple[Flask, Flask], clock: MovedClock
) -> None:
    """Item 2 of a20, decided to stand with the re-lock: the surviving session may be a thief's,
    so a quản trị whose account is locked by wrong passwords keeps their desk session for their
    own reading and work but gets ``ACCOUNT_LOCKED`` for an act of administration through the
    page, and nothing changes."""
    first, second = workers
    admin = people.usernames["quan_tri"]
    clerk = people.usernames["chuyen_vien"]
    desk = first.test_client()
    _page_login(desk, admin, OWNER)
    clock.offset += timedelta(minutes=1)
    _lock_out(second.test_client(), admin, _device(desk, admin))  # a thief holding the quản trị's device
    assert _works(desk)
    refused = desk.post(
        f"/admin/accounts/{clerk}/lock", data={"reason": "left", "csrf_token": csrf(desk, "/admin/accounts")}
    )
    assert (refused.status_code, refused.headers.get("X-Kho-Error")) == (403, "ACCOUNT_LOCKED")
    assert kho.accounts.get(clerk).status.value == "active"
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied" and e.actor == admin]
    assert denied and denied[-1].details == {"action": "account:lock", "target": clerk}
