"""Who gives the first clearance, and the door to change one (review a25; a23's and a24's open
items).

Every account is made at the clearance its creator names, but since a24 only a person holding
a level confirms an account at it, and only a quản trị holding it raises someone to it
(``policy.grants_clearance``). The first quản trị (``kho account init``) holds 0, so nobody could
ever be raised to Mật, Tối mật or Tuyệt mật without writing the store by hand; and
``AccountService.set_clearance`` had no API route, page or command. Now:

* ``kho account clearance USER LEVEL --operator --reason "Quyết định số …"`` (the server's shell,
  like ``kho account recover``): a raise only, of a quản trị or lãnh đạo only, only while no
  quản trị of their units holding the level could do it (``policy.operator_clears``); audited
  ``account:clearance`` by ``operator`` with the reason; refusals with their codes, audited;
* ``POST /api/accounts/<username>/clearance``, the accounts page's "Đổi mức" and ``kho account
  clearance USER LEVEL``: the service's ``set_clearance``, one rule — a quản trị of the person's
  units raises up to their own level, never themself.

Real store, the real CLI, API and pages through Werkzeug's client."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from kho_people import People
from kho_web import cli_as, login, post, text

from kho.errors import PermissionDenied
from web.app import create_app
from web.cli import main
from web.context import Kho
from web.openapi import ERROR_CODES, build

AGENCY = "000.00.18.H40"
DECISION = "Quyết định số 12/QĐ-UBND ngày 01/12/2026 của Chủ tịch UBND tỉnh"


def _events(kho: Kho, action: str) -> list[object]:
    return [e for e in kho.repo.audit.events() if e.action == action]


def _denied(kho: Kho) -> list[object]:
    return [
        e
        for e in _events(kho, "access:denied")
        if e.details.get("action") == "account:clearance" and e.actor == "operator"
    ]


def test_the_operator_clears_the_first_quan_tri_by_the_heads_decision(kho: Kho, people: People) -> None:
    admin = people.usernames["quan_tri"]
    assert kho.accounts.get(admin).clearance == 0
    done = CliRunner().invoke(main, ["account", "clearance", admin, "3", "--operator", "--reason", DECISION])
    assert done.exit_code == 0, done.output  # before: no such command
    assert "Thao tác vận hành trực tiếp" in done.output and "Tuyệt mật" in done.output
    assert kho.accounts.get(admin).clearance == 3
    (event,) = [e for e in _events(kho, "account:clearance") if e.details.get("username") == admin]
    assert event.actor == "operator" and event.source == "cli"
    assert event.details["before"] == 0 and event.details["after"] == 3
    assert event.details["reason"] == DECISION
    told = kho.accounts.notifications(admin)
    assert any("Tuyệt mật" in n.message and "người vận hành" in n.message for n in told)


@pytest.mark.parametrize(
    ("who", "level", "reason", "code"),
    [
        ("quan_tri", "3", "", "CLEARANCE_REASON_REQUIRED"),
        ("quan_tri", "3", "   ", "CLEARANCE_REASON_REQUIRED"),
        ("chuyen_vien", "1", DECISION, "CLEARANCE_OPERATOR_ROLE"),  # not the first cleared people
        ("lanh_dao", "3", DECISION, "CLEARANCE_OPERATOR_RAISE_ONLY"),  # holds it already
        ("lanh_dao", "1", DECISION, "CLEARANCE_OPERATOR_RAISE_ONLY"),  # lowering: a quản trị's act
        ("khong.co.ai", "1", DECISION, "ACCOUNT_NOT_FOUND"),
    ],
)
def test_the_operator_is_refused_nonsense_with_a_code(
    kho: Kho, people: People, who: str, level: str, reason: str, code: str
) -> None:
    name = people.usernames.get(who, who)
    before = kho.accounts.get(name).clearance if who in people.usernames else None
    done = CliRunner().invoke(main, ["account", "clearance", name, level, "--operator", "--reason", reason])
    assert done.exit_code == 2, done.output
    assert f"Lỗi [{code}]" in done.output and "Traceback" not in done.output
    if before is not None:
        assert kho.accounts.get(name).clearance == before
    for bad in ("4", "-1", "x"):  # the level itself: refused before anything is read
        assert (
            CliRunner()
            .invoke(main, ["account", "clearance", name, bad, "--operator", "--reason", DECISION])
            .exit_code
            == 2
        )


def test_the_operator_is_not_needed_once_a_quan_tri_holds_the_level(kho: Kho, people: People) -> None:
    people.add("quan_tri_3", "Trịnh Văn Mật", AGENCY, ["quan_tri"], 3)
    admin = people.usernames["quan_tri"]
    done = CliRunner().invoke(main, ["account", "clearance", admin, "2", "--operator", "--reason", DECISION])
    assert done.exit_code == 2 and "Lỗi [CLEARANCE_OPERATOR_NOT_NEEDED]" in done.output, done.output
    assert people.usernames["quan_tri_3"] in done.output  # who can do it instead
    assert kho.accounts.get(admin).clearance == 0
    assert len(_denied(kho)) == 1  # audited


def test_the_operator_does_not_clear_a_locked_account(kho: Kho, people: People) -> None:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    name = people.usernames["lanh_dao"]
    kho.accounts.set_clearance(name, 0, admin)  # the head lowered first, then locked (left)
    kho.accounts.lock(name, "left", admin)
    done = CliRunner().invoke(main, ["account", "clearance", name, "3", "--operator", "--reason", DECISION])
    assert done.exit_code == 2 and "Lỗi [CLEARANCE_OPERATOR_INACTIVE]" in done.output, done.output
    assert kho.accounts.get(name).clearance == 0


def test_after_the_operator_the_cleared_quan_tri_raises_others_through_the_api(
    kho: Kho, people: People
) -> None:
    """The rules afterwards, on the new API route: up to one's own level, never oneself, never by
    a quản trị holding less."""
    admin = people.usernames["quan_tri"]
    client = create_app(kho.settings, kho=kho).test_client()
    person = people.usernames["chuyen_vien"]
    refused = client.post(
        f"/api/accounts/{person}/clearance", json={"clearance": 1}, headers=people.headers("quan_tri")
    )
    assert refused.status_code == 403, refused.get_json()  # before: 404 (no route)
    assert refused.get_json()["error"]["code"] == "SECRECY_CLEARANCE_DENIED"
    assert kho.accounts.get(person).clearance == 0
    kho.accounts.clear_by_operator(admin, 2, DECISION)
    raised = client.post(
        f"/api/accounts/{person}/clearance", json={"clearance": 2}, headers=people.headers("quan_tri")
    )
    assert raised.status_code == 200, raised.get_json()
    assert raised.get_json()["clearance"] == 2 and kho.accounts.get(person).clearance == 2
    above = client.post(
        f"/api/accounts/{person}/clearance", json={"clearance": 3}, headers=people.headers("quan_tri")
    )
    assert above.status_code == 403 and above.get_json()["error"]["code"] == "SECRECY_CLEARANCE_DENIED"
    own = client.post(
        f"/api/accounts/{admin}/clearance", json={"clearance": 3}, headers=people.headers("quan_tri")
    )
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "SELF_CHANGE"
    for bad in ({"clearance": 4}, {"clearance": True}, {"clearance": "2"}, {}):
        answer = client.post(
            f"/api/accounts/{person}/clearance", json=bad, headers=people.headers("quan_tri")
        )
        assert answer.status_code == 422, (bad, answer.get_json())
    not_admin = client.post(
        f"/api/accounts/{person}/clearance", json={"clearance": 0}, headers=people.headers("van_thu")
    )
    assert not_admin.status_code == 403
    assert kho.accounts.get(person).clearance == 2
    lowered = client.post(
        f"/api/accounts/{person}/clearance", json={"clearance": 0}, headers=people.headers("quan_tri")
    )
    assert lowered.status_code == 200 and kho.accounts.get(person).clearance == 0
    changes = [e for e in _events(kho, "account:clearance") if e.details.get("username") == person]
    assert [(e.details["before"], e.details["after"]) for e in changes] == [(0, 2), (2, 0)]


def test_the_accounts_page_changes_a_clearance_by_the_same_rule(kho: Kho, people: People, app: Flask) -> None:
    person = people.usernames["chuyen_vien"]
    web = app.test_client()
    assert login(web, people, "quan_tri").status_code == 302
    shown = text(web.get("/admin/accounts"))
    assert f"/admin/accounts/{person}/clearance" in shown and "Mức tiếp cận thông tin mật" in shown
    refused = post(web, f"/admin/accounts/{person}/clearance", {"clearance": "1"}, "/admin/accounts")
    assert refused.status_code == 403, text(refused)  # before: 404
    assert "người đứng đầu" in text(refused) and kho.accounts.get(person).clearance == 0
    kho.accounts.clear_by_operator(people.usernames["quan_tri"], 1, DECISION)
    done = post(web, f"/admin/accounts/{person}/clearance", {"clearance": "1"}, "/admin/accounts")
    assert done.status_code == 302, text(done)
    assert kho.accounts.get(person).clearance == 1
    assert "Mật" in text(web.get("/admin/accounts"))
    bad = post(web, f"/admin/accounts/{person}/clearance", {"clearance": "９"}, "/admin/accounts")
    assert bad.status_code == 422 and kho.accounts.get(person).clearance == 1


def test_the_route_and_its_codes_are_in_the_openapi_description() -> None:
    spec = build()
    assert "post" in spec["paths"]["/api/accounts/{username}/clearance"]
    for code in (
        "SECRECY_CLEARANCE_DENIED",
        "SELF_CHANGE",
        "SIGNED_OUT_MEANWHILE",
        "CLEARANCE_OPERATOR_INACTIVE",
    ):
        assert code in ERROR_CODES, code


def test_the_cli_door_for_a_quan_tri_asks_the_same_rule(kho: Kho, people: People) -> None:
    person = people.usernames["chuyen_vien"]
    admin = cli_as(people, "quan_tri")
    refused = admin.invoke(main, ["account", "clearance", person, "1"])
    assert refused.exit_code == 2 and "SECRECY_CLEARANCE_DENIED" in refused.output, refused.output
    kho.accounts.clear_by_operator(people.usernames["quan_tri"], 1, DECISION)
    done = admin.invoke(main, ["account", "clearance", person, "1"])
    assert done.exit_code == 0, done.output
    assert kho.accounts.get(person).clearance == 1


def test_a_puppet_made_at_clearance_0_is_not_raised_while_its_halves_are_out(
    kho: Kho, people: People
) -> None:
    """Two quản trị holding 0 make a Thường account and confirm it (allowed: nothing above 0 is
    given); both halves are theirs until the person sets a password. A quản trị holding Tuyệt
    mật who then raised it handed Tuyệt mật to the two (before: raised, and the halves logged in
    at 3). Refused until the person's own password; lowering is not."""
    people.add("quan_tri_0", "Vũ Văn Quản", AGENCY, ["quan_tri"], 0)
    people.add("quan_tri_3", "Trịnh Văn Mật", AGENCY, ["quan_tri"], 3)
    accounts = kho.accounts
    creator, confirmer = (accounts.get(people.usernames[w]) for w in ("quan_tri", "quan_tri_0"))
    cleared = accounts.get(people.usernames["quan_tri_3"])
    puppet, first = accounts.create_account("Đặng Văn Rối", AGENCY, ["chuyen_vien"], 0, None, creator)
    _, second = accounts.confirm_reset(puppet.username, confirmer)
    client = create_app(kho.settings, kho=kho).test_client()
    refused = client.post(
        f"/api/accounts/{puppet.username}/clearance",
        json={"clearance": 3},
        headers=people.headers("quan_tri_3"),
    )
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["code"] == "CLEARANCE_PASSWORD_OUTSTANDING"
    assert accounts.get(puppet.username).clearance == 0
    accounts.change_password(puppet.username, first + second, "Rối@Của-Người-2026")  # the person's own now
    assert accounts.set_clearance(puppet.username, 3, cleared).clearance == 3
    _, half = accounts.reset_password(puppet.username, cleared)  # a reset puts halves out again
    assert accounts.set_clearance(puppet.username, 1, cleared).clearance == 1  # lowering: allowed
    with pytest.raises(PermissionDenied) as again:
        accounts.set_clearance(puppet.username, 2, cleared)
    assert again.value.code == "CLEARANCE_PASSWORD_OUTSTANDING" and half
