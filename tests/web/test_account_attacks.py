"""Forged identities against accounts and sessions (review z4): each test names the attack and
the answer Kho must give. Real store, real argon2, real Flask app."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import PASSWORD, People

from web.context import Kho

NEW_PASSWORD = "Mật-khẩu-mới#2026"


def _failed_logins(kho: Kho) -> list[tuple[str, dict[str, object]]]:
    return [(e.actor, dict(e.details)) for e in kho.repo.audit.events() if e.action == "account:login-failed"]


def test_a_password_change_for_an_unknown_account_name_is_audited(client: FlaskClient, kho: Kho) -> None:
    """Guessing names (or old passwords) through ``POST /api/password`` left no trace: a login
    with an unknown name is an ``account:login-failed``, a password change with one was not."""
    before = len(_failed_logins(kho))
    refused = client.post(
        "/api/password",
        json={"username": "khongco.ubnd", "old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert refused.status_code == 401 and refused.json["error"]["code"] == "LOGIN_FAILED"
    failed = _failed_logins(kho)[before:]
    assert failed == [("khongco.ubnd", {"reason": "unknown-account", "during": "account:password"})]


def test_a_password_change_for_a_deleted_or_unknown_name_answers_like_a_wrong_password(
    client: FlaskClient, people: People, kho: Kho
) -> None:
    wrong = client.post(
        "/api/password",
        json={
            "username": people.usernames["chuyen_vien"],
            "old_password": "Sai#Mat-khau-1",
            "new_password": NEW_PASSWORD,
        },
    )
    unknown = client.post(
        "/api/password",
        json={"username": "khongco.ubnd", "old_password": "Sai#Mat-khau-1", "new_password": NEW_PASSWORD},
    )
    assert (wrong.status_code, wrong.json["error"]) == (unknown.status_code, unknown.json["error"])


def test_the_api_login_and_password_change_are_rate_limited_like_the_login_page(
    client: FlaskClient, people: People
) -> None:
    """The login page refuses an address after 10 failures for one name in 15 minutes; the API
    had no limit, so ``POST /api/login`` and ``POST /api/password`` took guesses at full speed
    (the lock after 5 wrong passwords only bounds an existing account). They share the page's
    limiter now: one budget per address and name, whichever door is used."""
    for i in range(5):
        wrong = client.post("/api/login", json={"username": "khongco.ubnd", "password": f"Sai#{i}"})
        assert wrong.status_code == 401
        changed = client.post(
            "/api/password",
            json={"username": "khongco.ubnd", "old_password": f"Sai#{i}", "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 401
    for path, body in (
        ("/api/login", {"username": "khongco.ubnd", "password": "Sai#x"}),
        ("/api/password", {"username": "khongco.ubnd", "old_password": "x", "new_password": NEW_PASSWORD}),
    ):
        limited = client.post(path, json=body)
        assert limited.status_code == 429, (path, limited.json)
        assert limited.json["error"]["code"] == "LOGIN_RATE_LIMITED"
    # Another name from the same address is not held up.
    ok = client.post("/api/login", json={"username": people.usernames["van_thu"], "password": PASSWORD})
    assert ok.status_code == 200
