"""No puppet accounts, on the API, the CLI and the pages: a new account's initial password needs
two people, like a reset. The creator is answered the first half only, once; another quản trị or
the unit's lãnh đạo confirms and is answered the second half, once; before that no password works.
A resent form (a reload of the answer) repeats no creation, reset or confirmation."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_web import ONCE, csrf, login, logout, post, text

from web.cli import main
from web.context import Kho

NEW_PASSWORD = "Mat-khau@Rieng2026"
PERSON = {"full_name": "Nguyễn Văn A", "unit": AGENCY, "roles": ["chuyen_vien"], "clearance": 0}


def _half(answer: object) -> str:
    found = re.search(r'<code id="reset-half">([^<]+)</code>', text(answer))
    assert found, text(answer)
    return found.group(1)


# -- API ----------------------------------------------------------------------------------------
def test_the_api_creates_an_account_in_two_steps_each_half_given_once(
    client: FlaskClient, people: People, kho: Kho
) -> None:
    made = client.post("/api/accounts", json=PERSON, headers=people.headers("quan_tri"))
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store", made.json
    assert "initial_password" not in made.json
    first, username = made.json["first_half"], made.json["account"]["username"]
    assert len(first) == 16
    assert made.json["account"]["reset"]["new_account"] is True
    assert made.json["account"]["reset"]["by"] == people.usernames["quan_tri"]
    assert "first_hash" not in made.json["account"]["reset"] and "password_hash" not in made.json["account"]
    # Nothing works before the confirmation: the half, or the half and anything.
    for password in (first, first + "x" * 16):
        refused = client.post("/api/login", json={"username": username, "password": password})
        assert (refused.status_code, refused.json["error"]["code"]) == (401, "LOGIN_FAILED")
    # The creator's own token cannot confirm; nor can a chuyên viên's.
    same = client.post(f"/api/accounts/{username}/confirm-reset", headers=people.headers("quan_tri"))
    assert (same.status_code, same.json["error"]["code"]) == (403, "RESET_SAME_PERSON")
    low = client.post(f"/api/accounts/{username}/confirm-reset", headers=people.headers("chuyen_vien"))
    assert (low.status_code, low.json["error"]["code"]) == (403, "PERMISSION_DENIED")
    confirmed = client.post(f"/api/accounts/{username}/confirm-reset", headers=people.headers("lanh_dao"))
    assert confirmed.status_code == 200, confirmed.json
    second = confirmed.json["second_half"]
    assert confirmed.json["account"]["reset"]["confirmed_by"] == people.usernames["lanh_dao"]
    again = client.post(f"/api/accounts/{username}/confirm-reset", headers=people.headers("lanh_dao"))
    assert (again.status_code, again.json["error"]["code"]) == (409, "PASSWORD_RESET_NOT_PENDING")
    logged = client.post("/api/login", json={"username": username, "password": first + second})
    assert (logged.status_code, logged.json["error"]["code"]) == (403, "PASSWORD_CHANGE_REQUIRED")
    changed = client.post(
        "/api/password",
        json={"username": username, "old_password": first + second, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.json
    token = client.post("/api/login", json={"username": username, "password": NEW_PASSWORD}).json["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["account"]["username"] == username
    # The audit names who created and who confirmed.
    log = client.get("/api/audit?action=account:create-confirm", headers=people.headers("kiem_toan")).json
    (event,) = [e for e in log["items"] if e["details"].get("username") == username]
    assert (event["actor"], event["details"]["created_by"]) == (
        people.usernames["lanh_dao"],
        people.usernames["quan_tri"],
    )


def test_the_api_refuses_every_role_but_quan_tri_the_creation_and_lists_no_hash(
    client: FlaskClient, people: People
) -> None:
    for who in ("lanh_dao", "chuyen_vien", "van_thu"):
        refused = client.post("/api/accounts", json=PERSON, headers=people.headers(who))
        assert (refused.status_code, refused.json["error"]["code"]) == (403, "PERMISSION_DENIED"), who
    made = client.post("/api/accounts", json=PERSON, headers=people.headers("quan_tri")).json
    listed = client.get("/api/accounts", headers=people.headers("quan_tri"))
    assert "first_hash" not in listed.get_data(as_text=True)
    (pending,) = [a for a in listed.json["items"] if a["username"] == made["account"]["username"]]
    assert pending["reset"]["new_account"] is True and pending["reset"]["confirmed_at"] is None


# -- CLI ----------------------------------------------------------------------------------------
def test_the_cli_creates_with_half_a_password_and_the_operator_or_a_second_person_confirms(
    env: dict[str, str], people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("KHO_TOKEN", people.tokens["quan_tri"])
    made = runner.invoke(
        main, ["account", "create", "--full-name", "Vũ Thị Mai", "--unit", AGENCY, "--role", "quan_tri"]
    )
    assert made.exit_code == 0, made.output
    assert "; mật khẩu ban đầu:" not in made.output  # no whole password any more
    first = next(line for line in made.output.splitlines() if "Nửa đầu" in line).split()[-1]
    name = "maivt.ubnd"
    own = runner.invoke(main, ["account", "confirm-reset", name])
    assert own.exit_code != 0 and "RESET_SAME_PERSON" in own.output, own.output
    monkeypatch.setenv("KHO_TOKEN", people.tokens["chuyen_vien"])
    low = runner.invoke(main, ["account", "confirm-reset", name])
    assert low.exit_code != 0 and "PERMISSION_DENIED" in low.output, low.output
    monkeypatch.delenv("KHO_TOKEN")
    alone = runner.invoke(main, ["login", name, "--password-stdin"], input=f"{first}\n{NEW_PASSWORD}\n")
    assert alone.exit_code != 0 and "LOGIN_FAILED" in alone.output, alone.output
    # The operator (on the server, direct store access) confirms.
    confirmed = runner.invoke(main, ["account", "confirm-reset", name, "--operator", "--json"])
    assert confirmed.exit_code == 0, confirmed.output
    second = json.loads(confirmed.output[confirmed.output.index("{") :])["second_half"]
    login_ = runner.invoke(
        main, ["login", name, "--password-stdin"], input=f"{first}{second}\n{NEW_PASSWORD}\n"
    )
    assert login_.exit_code == 0, login_.output
    assert name in runner.invoke(main, ["whoami"]).output
    monkeypatch.setenv("KHO_TOKEN", people.tokens["kiem_toan"])
    log = runner.invoke(main, ["audit", "log", "--action", "account:create-confirm", "--json"])
    assert log.exit_code == 0, log.output
    lines = [json.loads(line) for line in log.output.splitlines() if line.strip()]
    events = [e for e in lines if e["details"].get("username") == name]
    assert [(e["actor"], e["source"], e["details"]["created_by"]) for e in events] == [
        ("operator", "cli", people.usernames["quan_tri"])
    ]


# -- pages --------------------------------------------------------------------------------------
def _once(page: str) -> dict[str, str]:
    """The one-time token of the page's forms, as the browser sends it (none: none sent)."""
    found = ONCE.findall(page)
    return {"once": found[-1]} if found else {}


def _create_on_page(web: FlaskClient) -> tuple[str, str, dict[str, str]]:
    """The logged-in quản trị creates an account; its name, the first half and the form sent."""
    page = text(web.get("/admin/accounts"))
    form = {
        "full_name": "Nguyễn Văn A",
        "unit": AGENCY,
        "roles": "chuyen_vien",
        "clearance": "0",
        "csrf_token": csrf(web, "/admin/accounts"),
        **_once(page),
    }
    made = web.post("/admin/accounts", data=form)
    assert made.status_code == 201, text(made)
    username = re.search(r'id="new-username">([^<]+)<', text(made)).group(1)  # type: ignore[union-attr]
    return username, _half(made), form


def test_the_accounts_page_shows_the_first_half_and_the_lanh_dao_confirms_on_the_page(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    login(web, people, "quan_tri")
    username, first, _ = _create_on_page(web)
    assert len(first) == 16
    after = text(web.get("/admin/accounts"))
    assert first not in after and "Tài khoản mới chờ xác nhận" in after
    assert f"Xác nhận tài khoản mới của {username}" not in after  # not the creator's to confirm
    logout(web)
    refused = web.post("/login", data={"username": username, "password": first, "csrf_token": csrf(web)})
    assert refused.status_code == 401
    login(web, people, "lanh_dao")
    listed = text(web.get("/admin/resets"))
    assert f'aria-label="Xác nhận tài khoản mới của {username}"' in listed and "Tài khoản mới" in listed
    assert "chuyên viên" in listed  # the roles being confirmed are shown
    confirmed = post(web, f"/admin/resets/{username}/confirm", {}, "/admin/resets")
    assert confirmed.status_code == 200 and "Đã xác nhận tài khoản mới" in text(confirmed)
    second = _half(confirmed)
    assert second not in text(web.get("/admin/resets"))
    logout(web)
    first_login = web.post(
        "/login", data={"username": username, "password": first + second, "csrf_token": csrf(web)}
    )
    assert first_login.status_code == 302 and first_login.headers["Location"].endswith("/password")


def test_a_resent_creation_form_creates_nothing_more(web: FlaskClient, people: People, kho: Kho) -> None:
    login(web, people, "quan_tri")
    before = len(kho.accounts.accounts())
    username, first, form = _create_on_page(web)
    resent = web.post("/admin/accounts", data=form)  # F5 on the answer: the browser sends it again
    assert resent.status_code == 409 and "đã được gửi" in text(resent), text(resent)
    assert first not in text(resent) and 'id="reset-half"' not in text(resent)
    assert len(kho.accounts.accounts()) == before + 1  # one account, not two
    assert kho.accounts.get(username).awaiting_confirmation


def test_a_resent_reset_form_does_not_end_the_half_already_shown(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    """Before: reloading the answer of a reset made a new reset; the first half shown stopped
    working. Now the second sending is answered 409 and the first reset stands."""
    target = people.usernames["chuyen_vien"]
    login(web, people, "quan_tri")
    page = text(web.get("/admin/accounts"))
    form = {"csrf_token": csrf(web, "/admin/accounts"), **_once(page)}
    answer = web.post(f"/admin/accounts/{target}/reset", data=form)
    assert answer.status_code == 200
    first = _half(answer)
    reset = kho.accounts.get(target).reset
    resent = web.post(f"/admin/accounts/{target}/reset", data=form)
    assert resent.status_code == 409 and "đã được gửi" in text(resent)
    assert first not in text(resent)
    assert kho.accounts.get(target).reset == reset  # not a second reset
    logout(web)
    login(web, people, "lanh_dao")
    page = text(web.get("/admin/resets"))
    form = {"csrf_token": csrf(web, "/admin/resets"), **_once(page)}
    confirmed = web.post(f"/admin/resets/{target}/confirm", data=form)
    second = _half(confirmed)
    again = web.post(f"/admin/resets/{target}/confirm", data=form)
    assert again.status_code == 409 and "đã được gửi" in text(again) and second not in text(again)
    logout(web)
    # The halves shown once still work together.
    logged = web.post(
        "/login", data={"username": target, "password": first + second, "csrf_token": csrf(web)}
    )
    assert logged.status_code == 302 and logged.headers["Location"].endswith("/password")
