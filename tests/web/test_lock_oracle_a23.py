"""A lock is no password oracle (review a23, a22's open item 1). Until a23, after either lock
(the account's, or the new-browser lock) every further guess was still verified, and the right
password was answered 403 ``ACCOUNT_LOCKED`` while wrong ones got 401 ``LOGIN_FAILED``: with one
guess per address the per-address limiter never triggered, so a lock bounded nothing. Now, while
a lock applies to the attempt, the password is not checked (the same hash work is burnt): an
attempt with a valid device token or from a known network reads ``ACCOUNT_LOCKED`` whatever the
password, a stranger gets the unknown name's answer whatever the password, on every door.

Real store and doors through Werkzeug's client, the client address set per request."""

from __future__ import annotations

from typing import Any

from flask import Flask
from kho_people import PASSWORD, People
from kho_web import csrf, text

from web.context import Kho

OFFICE = "10.20.30.40"
THIEF = "198.51.100.7"
STRANGERS = [f"203.0.113.{i}" for i in range(1, 60)]
NEW = "Moi#Mat-khau-2026x"


def _stranger() -> str:
    return STRANGERS.pop()


def _api(app: Flask, path: str, body: dict[str, Any], address: str) -> tuple[int, Any]:
    done = app.test_client().post(path, json=body, environ_overrides={"REMOTE_ADDR": address})
    return done.status_code, done.json


def _api_login(app: Flask, name: str, password: str, address: str, device: str = "") -> tuple[int, Any]:
    return _api(app, "/api/login", {"username": name, "password": password, "device": device}, address)


def _api_password(app: Flask, name: str, password: str, address: str, device: str = "") -> tuple[int, Any]:
    body = {"username": name, "old_password": password, "new_password": NEW, "device": device}
    return _api(app, "/api/password", body, address)


def _page(app: Flask, path: str, fields: dict[str, str], address: str) -> tuple[int, str]:
    web = app.test_client()
    done = web.post(
        path, data={**fields, "csrf_token": csrf(web, path)}, environ_overrides={"REMOTE_ADDR": address}
    )
    return done.status_code, _error_of(text(done))


def _error_of(body: str) -> str:
    """The page's error message: the only part of the page that differs between answers (the
    rest carries the form's fresh CSRF secret)."""
    start = body.find('role="alert"')
    return body[start : body.find("</", start)] if start >= 0 else body


def _page_login(app: Flask, name: str, password: str, address: str) -> tuple[int, str]:
    return _page(app, "/login", {"username": name, "password": password}, address)


def _acknowledge(app: Flask, name: str, password: str, address: str) -> tuple[int, str]:
    fields = {"username": name, "password": password, "findings": "x", "reason": "Kiểm tra định kỳ."}
    return _page(app, "/audit/acknowledge", fields, address)


DOORS = {
    "api-login": lambda app, name, password, at: _api_login(app, name, password, at),
    "api-password": lambda app, name, password, at: _api_password(app, name, password, at),
    "page-login": _page_login,
    "acknowledge": _acknowledge,
}


def _lock_new_browsers(app: Flask, name: str) -> None:
    """Five wrong passwords from a stranger's browser without a device token."""
    for i in range(5):
        assert _api_login(app, name, f"Sai#{i}abcd", THIEF)[0] == 401


def _lock_account(app: Flask, name: str, device: str) -> None:
    """Five wrong passwords with the owner's device token (a thief who copied it)."""
    for i in range(5):
        assert _api_login(app, name, f"Sai#{i}abcd", THIEF, device)[0] == 401


def _owner_logs_in(app: Flask, name: str) -> str:
    status, body = _api_login(app, name, PASSWORD, OFFICE)
    assert status == 200, body
    return str(body["device"])


def _assert_no_oracle(app: Flask, name: str) -> None:
    """From strangers' addresses, one guess each, on every door: the right password and a wrong
    one get one answer, and it is the answer for a name that does not exist."""
    for door, send in DOORS.items():
        right = send(app, name, PASSWORD, _stranger())
        wrong = send(app, name, "Sai#khac-hoan-toan1", _stranger())
        unknown = send(app, "khong.ton.tai", PASSWORD, _stranger())
        assert right == wrong == unknown, door
        assert right[0] == 401, (door, right)


def test_right_and_wrong_guesses_after_the_new_browser_lock_get_one_answer_from_a_stranger(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main: the right password gets 403 ``ACCOUNT_LOCKED untrusted_browser`` on the API (and
    the lock's message on the pages), wrong ones 401 ``LOGIN_FAILED``."""
    name = people.usernames["kiem_toan"]  # the acknowledgement form's person
    _owner_logs_in(app, name)
    _lock_new_browsers(app, name)
    before = kho.accounts.get(name)
    assert before.untrusted_lock_until is not None and before.status.value == "active"
    _assert_no_oracle(app, name)
    after = kho.accounts.get(name)
    assert after.password_hash == before.password_hash  # the right guess changed nothing
    assert after.untrusted_failures == before.untrusted_failures == 5


def test_right_and_wrong_guesses_after_the_account_lock_get_one_answer_from_a_stranger(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main: 403 ``ACCOUNT_LOCKED failed_logins`` to the right password only."""
    name = people.usernames["kiem_toan"]
    _lock_account(app, name, _owner_logs_in(app, name))
    assert kho.accounts.get(name).status.value == "locked"
    _assert_no_oracle(app, name)
    assert kho.accounts.get(name).lock_reason is not None


def test_the_thiefs_device_token_reads_the_lock_whatever_the_password(
    app: Flask, kho: Kho, people: People
) -> None:
    """With a valid device token the lock is told, to any password: no oracle either, as the
    password is not checked. On main: the wrong password gets 401 ``LOGIN_FAILED``."""
    name = people.usernames["luu_tru"]
    device = _owner_logs_in(app, name)
    _lock_account(app, name, device)
    right = _api_login(app, name, PASSWORD, _stranger(), device)
    wrong = _api_login(app, name, "Sai#khac-hoan-toan1", _stranger(), device)
    assert right == wrong
    assert right[0] == 403 and right[1]["error"]["code"] == "ACCOUNT_LOCKED"
    assert right[1]["error"]["details"]["reason"] == "failed_logins"


def test_the_owner_on_a_known_network_reads_account_locked_whatever_the_password(
    app: Flask, kho: Kho, people: People
) -> None:
    """The owner at the office (a known network, a new browser) reads why they are kept out, on
    the API and on the page, for either lock. On main: a wrong password there gets 401
    ``LOGIN_FAILED``, so the owner who mistyped is told nothing."""
    name = people.usernames["lanh_dao"]
    device = _owner_logs_in(app, name)
    # Three desks of the office, each a known network (a budget of the login limiter each).
    desks = ["10.20.30.41", "10.20.30.42", "10.20.30.43"]
    for desk in desks:
        assert _api_login(app, name, PASSWORD, desk)[0] == 200
    for i in range(5):  # new browsers on known networks locked (someone at the first desk)
        assert _api_login(app, name, f"Sai#{i}abcd", desks[0])[0] == 401
    _assert_told(app, name, desks[1], "untrusted_browser", "trình duyệt bạn đã đăng nhập trước đây")
    _lock_account(app, name, device)
    _assert_told(app, name, desks[2], "failed_logins", "đang bị khóa")
    for password in (PASSWORD, "Sai#go-nham1"):
        status, body = _api_password(app, name, password, desks[2])
        assert (status, body["error"]["code"]) == (403, "ACCOUNT_LOCKED")


def _assert_told(app: Flask, name: str, at: str, reason: str, says: str) -> None:
    """The right password and a wrong one from ``at`` read the lock and its reason, on the API
    (403) and on the page (401 with the message)."""
    for password in (PASSWORD, "Sai#go-nham1"):
        status, body = _api_login(app, name, password, at)
        assert (status, body["error"]["code"], body["error"]["details"]["reason"]) == (
            403,
            "ACCOUNT_LOCKED",
            reason,
        )
        status, message = _page_login(app, name, password, at)
        assert status == 401 and says in message


def test_a_refused_attempt_under_a_lock_counts_and_writes_nothing_but_its_audit_event(
    app: Flask, kho: Kho, people: People
) -> None:
    """Under either lock: no account version, no notification, one ``account:login-failed``
    (``locked``) per attempt, right password or wrong, whoever asks; the password change through
    the API changes nothing. On main the right password on ``/api/password`` under the
    new-browser lock was verified before the refusal; here the refusal comes first."""
    name = people.usernames["chuyen_vien"]
    device = _owner_logs_in(app, name)
    _lock_new_browsers(app, name)

    def versions() -> int:
        return len(list(kho.repo.store.list(f"accounts/{name}/")))

    def refused_events() -> list[dict[str, Any]]:
        return [
            e.details
            for e in kho.repo.audit.events()
            if e.action == "account:login-failed" and e.actor == name
        ]

    for lock in ("untrusted_browser", "failed_logins"):
        if lock == "failed_logins":
            _lock_account(app, name, device)
        written, events = versions(), len(refused_events())
        notes = len(kho.accounts.notifications(name))
        before = kho.accounts.get(name)
        tries = [
            _api_login(app, name, PASSWORD, _stranger()),
            _api_login(app, name, "Sai#1abcd", _stranger()),
            _api_password(app, name, PASSWORD, _stranger()),
            _page_login(app, name, PASSWORD, _stranger()),
        ]
        if lock == "failed_logins":  # the owner's known network is under this lock only
            tries += [
                _api_login(app, name, PASSWORD, OFFICE),
                _api_password(app, name, PASSWORD, OFFICE),
                _page_login(app, name, "Sai#2abcd", OFFICE),
            ]
        assert all(status in (401, 403) for status, _ in tries), tries
        assert versions() == written, lock
        assert len(kho.accounts.notifications(name)) == notes
        after = kho.accounts.get(name)
        assert (after.failed_logins, after.untrusted_failures, after.network_failures) == (
            before.failed_logins,
            before.untrusted_failures,
            before.network_failures,
        )
        new = refused_events()[events:]
        assert [d["reason"] for d in new] == ["locked"] * len(tries), new
        assert {d["lock_reason"] for d in new} == {lock}
