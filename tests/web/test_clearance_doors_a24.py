"""Every door that gives an account a clearance asks one rule (review a24, a23's open item):
:func:`repository.policy.grants_clearance`. Until a24 two quản trị holding clearance 0 made a
Tuyệt mật account between them — one creates it (API, page, ``kho account create``), the other
confirms its initial password and receives the second half — or took over an existing Tuyệt mật
account by a two-person password reset; and a quản trị holding none reopened the account of a
Tuyệt mật holder who had left. Under Luật Bảo vệ bí mật nhà nước 2018 a clearance is the head's
decision: now one of the two people holds it (the creator or resetter, or the confirmer — the
head of the unit), and only a person holding it reopens a "left" account.

Real store, the real API and pages through Werkzeug's client, the real CLI."""

from __future__ import annotations

import unicodedata

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_web import cli_as, login, post, text

from repository.policy import Principal
from web.app import create_app
from web.context import Kho

AGENCY = "000.00.18.H40"


@pytest.fixture
def staff(people: People) -> People:
    """``quan_tri`` and ``quan_tri_0`` hold clearance 0; ``quan_tri_3`` Tuyệt mật; ``lanh_dao``
    (the agency's head) Tuyệt mật, ``lanh_dao_1`` only Mật."""
    people.add("quan_tri_0", "Vũ Văn Quản", AGENCY, ["quan_tri"], 0)
    people.add("quan_tri_3", "Trịnh Văn Mật", AGENCY, ["quan_tri"], 3)
    people.add("lanh_dao_1", "Phó Văn Lãnh", AGENCY, ["lanh_dao"], 1)
    return people


def _api(kho: Kho) -> FlaskClient:
    return create_app(kho.settings, kho=kho).test_client()


def _denied_events(kho: Kho, action: str) -> list[object]:
    return [
        e
        for e in kho.repo.audit.events()
        if e.action == "access:denied" and e.details.get("action") == action
    ]


@pytest.mark.parametrize(
    ("own", "vouched", "clearance", "allowed"),
    [
        (0, 0, 3, False),  # two quản trị holding none: a Tuyệt mật account between them
        (1, 0, 3, False),
        (0, 2, 3, False),
        (3, 0, 3, True),  # the head holding it confirms
        (0, 3, 3, True),  # a quản trị cleared to Tuyệt mật created it
        (0, 0, 0, True),
    ],
)
def test_one_of_the_two_people_holds_the_clearance_given(
    own: int, vouched: int, clearance: int, allowed: bool
) -> None:
    from repository.policy import grants_clearance  # (here: main has no such rule)

    decision = grants_clearance(Principal("qt", clearance=own), clearance, vouched=vouched)
    assert bool(decision) is allowed
    if not allowed:
        assert decision.code == "SECRECY_CLEARANCE_DENIED"
        assert unicodedata.is_normalized("NFC", decision.message)
        assert "người đứng đầu" in decision.message


def test_two_quan_tri_holding_no_clearance_cannot_make_a_tuyet_mat_account_through_the_api(
    kho: Kho, staff: People
) -> None:
    """On main: the second quản trị confirms (200, the second half) and the account logs in
    with Tuyệt mật."""
    api = _api(kho)
    made = api.post(
        "/api/accounts",
        json={"full_name": "Đặng Văn Mới", "unit": AGENCY, "roles": ["van_thu"], "clearance": 3},
        headers=staff.headers("quan_tri"),
    )
    assert made.status_code == 201, made.get_json()
    name = made.get_json()["account"]["username"]
    for who in ("quan_tri_0", "lanh_dao_1"):  # another quản trị, a head holding only Mật
        refused = api.post(f"/api/accounts/{name}/confirm-reset", headers=staff.headers(who))
        assert refused.status_code == 403, refused.get_json()
        error = refused.get_json()["error"]
        assert error["code"] == "SECRECY_CLEARANCE_DENIED"
        assert "Tuyệt mật" in error["message"]
        assert "second_half" not in refused.get_json()
        assert kho.accounts.get(name).reset.awaiting  # no password works for it
    assert len(_denied_events(kho, "account:create-confirm")) == 2
    assert not [
        e
        for e in kho.repo.audit.events()
        if e.action == "account:create-confirm" and e.details["username"] == name
    ]
    # The head holding Tuyệt mật decides: their confirmation goes through.
    confirmed = api.post(f"/api/accounts/{name}/confirm-reset", headers=staff.headers("lanh_dao"))
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["second_half"]
    # A clearance 0 account made by the same two is confirmed as before.
    plain = api.post(
        "/api/accounts",
        json={"full_name": "Đặng Văn Thường", "unit": AGENCY, "roles": ["chuyen_vien"]},
        headers=staff.headers("quan_tri"),
    )
    plain_name = plain.get_json()["account"]["username"]
    ok = api.post(f"/api/accounts/{plain_name}/confirm-reset", headers=staff.headers("quan_tri_0"))
    assert ok.status_code == 200, ok.get_json()


def test_a_quan_tri_holding_tuyet_mat_vouches_for_the_accounts_they_create_while_active(
    kho: Kho, staff: People
) -> None:
    api = _api(kho)
    made = api.post(
        "/api/accounts",
        json={"full_name": "Đặng Thị Mật", "unit": AGENCY, "roles": ["van_thu"], "clearance": 3},
        headers=staff.headers("quan_tri_3"),
    )
    name = made.get_json()["account"]["username"]
    again = api.post(
        "/api/accounts",
        json={"full_name": "Đặng Thị Mật Hai", "unit": AGENCY, "roles": ["van_thu"], "clearance": 3},
        headers=staff.headers("quan_tri_3"),
    )
    second_name = again.get_json()["account"]["username"]
    ok = api.post(f"/api/accounts/{name}/confirm-reset", headers=staff.headers("quan_tri_0"))
    assert ok.status_code == 200, ok.get_json()
    # The creator locked (gone, or stopped): they vouch for nothing any more.
    kho.accounts.lock(staff.usernames["quan_tri_3"], "left", kho.accounts.get(staff.usernames["lanh_dao"]))
    refused = api.post(f"/api/accounts/{second_name}/confirm-reset", headers=staff.headers("quan_tri_0"))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "SECRECY_CLEARANCE_DENIED"


def test_two_quan_tri_holding_no_clearance_cannot_take_over_a_tuyet_mat_account_by_a_reset(
    kho: Kho, staff: People
) -> None:
    """On main: the reset's second half goes to the second quản trị; with the first half the
    two log in as the Tuyệt mật văn thư and set a password of their own."""
    api = _api(kho)
    clerk = staff.usernames["van_thu"]
    reset = api.post(f"/api/accounts/{clerk}/reset", headers=staff.headers("quan_tri"))
    assert reset.status_code == 200, reset.get_json()
    refused = api.post(f"/api/accounts/{clerk}/confirm-reset", headers=staff.headers("quan_tri_0"))
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["code"] == "SECRECY_CLEARANCE_DENIED"
    assert kho.accounts.get(clerk).reset.awaiting
    assert _denied_events(kho, "account:password-confirm")
    confirmed = api.post(f"/api/accounts/{clerk}/confirm-reset", headers=staff.headers("lanh_dao"))
    assert confirmed.status_code == 200, confirmed.get_json()


def test_the_pages_list_and_refuse_only_what_the_confirmer_may_decide(
    kho: Kho, staff: People, app: Flask
) -> None:
    """The accounts page creates the Tuyệt mật account; the other quản trị's confirmation page
    does not offer it and refuses it with the reason (on main: listed, confirmed, second half
    shown)."""
    creator = app.test_client()
    assert login(creator, staff, "quan_tri").status_code == 302
    made = post(
        creator,
        "/admin/accounts",
        {"full_name": "Đặng Văn Trang", "unit": AGENCY, "roles": "van_thu", "clearance": "3"},
        "/admin/accounts",
    )
    assert made.status_code == 201, text(made)
    assert 'id="cleared-confirmer"' in text(made) and "“Tuyệt mật”, cao hơn mức của bạn" in text(made)
    name = next(a.username for a in kho.accounts.accounts() if a.full_name == "Đặng Văn Trang")
    assert kho.accounts.get(name).clearance == 3
    other = app.test_client()
    assert login(other, staff, "quan_tri_0").status_code == 302
    listed = other.get("/admin/resets")
    assert listed.status_code == 200 and name not in text(listed)
    refused = post(other, f"/admin/resets/{name}/confirm", {}, "/admin/resets")
    assert refused.status_code == 403, text(refused)
    assert "Tuyệt mật" in text(refused) and "người đứng đầu" in text(refused)
    assert kho.accounts.get(name).reset.awaiting
    head = app.test_client()
    assert login(head, staff, "lanh_dao").status_code == 302
    assert name in text(head.get("/admin/resets"))
    confirmed = post(head, f"/admin/resets/{name}/confirm", {}, "/admin/resets")
    assert confirmed.status_code == 200, text(confirmed)
    assert not kho.accounts.get(name).reset.awaiting


def test_the_cli_confirmation_asks_the_same_rule(kho: Kho, staff: People) -> None:
    from web.cli import main

    creator = cli_as(staff, "quan_tri")
    made = creator.invoke(
        main,
        [
            "account",
            "create",
            "--full-name",
            "Đặng Văn Dòng",
            "--unit",
            AGENCY,
            "--role",
            "van_thu",
            "--clearance",
            "3",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "“Tuyệt mật”, cao hơn mức của bạn" in made.output
    name = next(a.username for a in kho.accounts.accounts() if a.full_name == "Đặng Văn Dòng")
    other = cli_as(staff, "quan_tri_0")
    refused = other.invoke(main, ["account", "confirm-reset", name, "--json"])
    assert refused.exit_code != 0
    assert "SECRECY_CLEARANCE_DENIED" in refused.output
    assert kho.accounts.get(name).reset.awaiting


def test_only_a_person_holding_the_clearance_reopens_the_account_of_one_who_left(
    kho: Kho, staff: People, app: Flask
) -> None:
    """On main: the quản trị holding clearance 0 unlocks the departed Tuyệt mật văn thư (API
    and accounts page)."""
    api = _api(kho)
    clerk = staff.usernames["van_thu"]
    locked = api.post(
        f"/api/accounts/{clerk}/lock", json={"reason": "left"}, headers=staff.headers("lanh_dao")
    )
    assert locked.status_code == 200, locked.get_json()
    refused = api.post(f"/api/accounts/{clerk}/unlock", headers=staff.headers("quan_tri"))
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["code"] == "SECRECY_CLEARANCE_DENIED"
    assert kho.accounts.get(clerk).status.value == "locked"
    assert _denied_events(kho, "account:unlock")
    page = app.test_client()
    assert login(page, staff, "quan_tri").status_code == 302
    refused_page = post(page, f"/admin/accounts/{clerk}/unlock", {}, "/admin/accounts")
    assert refused_page.status_code == 403, text(refused_page)
    assert "Tuyệt mật" in text(refused_page)
    assert kho.accounts.get(clerk).status.value == "locked"
    # An admin lock (the quản trị's own stop) is lifted by them as before; a "left" one by the
    # quản trị holding the clearance.
    reopened = api.post(f"/api/accounts/{clerk}/unlock", headers=staff.headers("quan_tri_3"))
    assert reopened.status_code == 200, reopened.get_json()
    assert kho.accounts.get(clerk).status.value == "active"
    api.post(f"/api/accounts/{clerk}/lock", json={"reason": "admin"}, headers=staff.headers("quan_tri"))
    again = api.post(f"/api/accounts/{clerk}/unlock", headers=staff.headers("quan_tri"))
    assert again.status_code == 200, again.get_json()
