"""The two-person password reset through the API (README "Password reset: two people"):
``POST /api/accounts/<username>/reset`` gives the quản trị the first half of the one-time
password, ``POST /api/accounts/<username>/confirm-reset`` another person the second half; the
codes and statuses are those of the other account routes, the role decided before the name is
looked up."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People

from web.context import Kho

NEW_PASSWORD = "Mat-khau@Rieng2026"


def test_the_api_resets_in_two_steps_each_half_given_once(client: FlaskClient, people: People) -> None:
    target = people.usernames["chuyen_vien"]
    old_token = people.headers("chuyen_vien")
    reset = client.post(f"/api/accounts/{target}/reset", headers=people.headers("quan_tri"))
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store", reset.json
    first = reset.json["first_half"]
    assert len(first) == 16 and reset.json["account"]["reset"]["by"] == people.usernames["quan_tri"]
    assert "first_hash" not in reset.json["account"]["reset"] and first not in repr(reset.json["account"])
    assert client.get("/api/me", headers=old_token).status_code == 401  # every token ended
    same = client.post(f"/api/accounts/{target}/confirm-reset", headers=people.headers("quan_tri"))
    assert (same.status_code, same.json["error"]["code"]) == (403, "RESET_SAME_PERSON")
    confirmed = client.post(f"/api/accounts/{target}/confirm-reset", headers=people.headers("lanh_dao"))
    assert confirmed.status_code == 200, confirmed.json
    second = confirmed.json["second_half"]
    assert len(second) == 16
    assert confirmed.json["account"]["reset"]["confirmed_by"] == people.usernames["lanh_dao"]
    again = client.post(f"/api/accounts/{target}/confirm-reset", headers=people.headers("lanh_dao"))
    assert (again.status_code, again.json["error"]["code"]) == (409, "PASSWORD_RESET_NOT_PENDING")
    logged = client.post("/api/login", json={"username": target, "password": first + second})
    assert (logged.status_code, logged.json["error"]["code"]) == (403, "PASSWORD_CHANGE_REQUIRED")
    changed = client.post(
        "/api/password",
        json={"username": target, "old_password": first + second, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.json
    assert client.post("/api/login", json={"username": target, "password": NEW_PASSWORD}).status_code == 200


def test_the_api_reset_routes_refuse_with_the_codes_of_the_other_account_routes(
    client: FlaskClient, people: People
) -> None:
    target = people.usernames["chuyen_vien"]
    admin, head, cv = (people.headers(w) for w in ("quan_tri", "lanh_dao", "chuyen_vien"))
    # Without the role, the same refusal for an account that exists and for one that does not.
    answers = []
    for name in (people.usernames["van_thu"], "khong.co.ai"):
        calls = (
            client.post(f"/api/accounts/{name}/reset", headers=cv),
            client.post(f"/api/accounts/{name}/confirm-reset", headers=cv),
            client.post(f"/api/accounts/{name}/reset", headers=head),  # a lãnh đạo does not reset
        )
        answers.append([
            (r.status_code, r.json["error"]["code"], r.json["error"]["message"],
             {k: v for k, v in r.json["error"].get("details", {}).items() if k != "target"})
            for r in calls
        ])
    assert answers[0] == answers[1], answers
    assert {(a[0], a[1]) for a in answers[0]} == {(403, "PERMISSION_DENIED")}
    # With the role: unknown and malformed names, nothing to confirm, no token.
    for route in ("reset", "confirm-reset"):
        for name in ("khong.co.ai", "a b"):
            missing = client.post(f"/api/accounts/{name}/{route}", headers=admin)
            assert (missing.status_code, missing.json["error"]["code"]) == (404, "ACCOUNT_NOT_FOUND")
        anonymous = client.post(f"/api/accounts/{target}/{route}")
        assert (anonymous.status_code, anonymous.json["error"]["code"]) == (401, "AUTH_REQUIRED")
        assert client.get(f"/api/accounts/{target}/{route}", headers=admin).status_code == 405
    idle = client.post(f"/api/accounts/{target}/confirm-reset", headers=head)
    assert (idle.status_code, idle.json["error"]["code"]) == (409, "PASSWORD_RESET_NOT_PENDING")
    assert people.kho.accounts.get(target).reset is None


def test_the_api_refuses_the_person_a_confirmation_of_their_own_reset(
    client: FlaskClient, people: People, kho: Kho
) -> None:
    """A lãnh đạo whose password was reset: their token ended with the reset (401); a token
    issued after it works for nothing until the person has set their own password, which ends
    the reset (403 PASSWORD_CHANGE_REQUIRED; the policy's RESET_SAME_PERSON is behind that)."""
    head = people.usernames["lanh_dao"]
    old = people.headers("lanh_dao")
    assert client.post(f"/api/accounts/{head}/reset", headers=people.headers("quan_tri")).status_code == 200
    ended = client.post(f"/api/accounts/{head}/confirm-reset", headers=old)
    assert (ended.status_code, ended.json["error"]["code"]) == (401, "TOKEN_INVALID")
    fresh = kho.accounts.issue_token(head, "test", kho.accounts.get(head))  # as if a login
    own = client.post(f"/api/accounts/{head}/confirm-reset", headers={"Authorization": f"Bearer {fresh}"})
    assert (own.status_code, own.json["error"]["code"]) == (403, "PASSWORD_CHANGE_REQUIRED"), own.json
    assert kho.accounts.get(head).reset.confirmed_at is None


def test_the_reset_routes_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]
    assert paths["/api/accounts/{username}/reset"]["post"]["operationId"] == "account_reset"
    confirm = paths["/api/accounts/{username}/confirm-reset"]["post"]
    assert confirm["operationId"] == "account_confirm_reset"
    assert {"403", "404", "409"} <= set(confirm["responses"])
