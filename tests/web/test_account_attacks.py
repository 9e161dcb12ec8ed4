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
