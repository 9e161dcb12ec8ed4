"""The accounts list shows a quản trị only the accounts they manage (review a25).

``GET /api/accounts`` and the accounts page listed every account of the agency to any quản trị,
a phòng's included: who holds Mật, Tối mật or Tuyệt mật, who is locked and why, e-mails,
pending resets — although that quản trị may act on none of those accounts (every act asks
``policy.manages_accounts_of``: a quản trị of each of the person's units, at it or above). Now the
list asks the same rule. The agency's quản trị still sees everyone; a kiểm toán viên sees no
list (403, as before)."""

from __future__ import annotations

from flask import Flask
from kho_people import UNIT_B, People
from kho_web import login, text

from web.app import create_app
from web.context import Kho


def test_a_phongs_quan_tri_lists_only_the_phongs_accounts(kho: Kho, people: People, app: Flask) -> None:
    people.add("quan_tri_b", "Vũ Văn Bình", UNIT_B, ["quan_tri"], 0)
    client = create_app(kho.settings, kho=kho).test_client()
    listed = client.get("/api/accounts?per_page=100", headers=people.headers("quan_tri_b"))
    assert listed.status_code == 200
    names = {a["username"] for a in listed.get_json()["items"]}
    phong = {people.usernames[w] for w in ("van_thu_b", "chuyen_vien_b", "quan_tri_b")}
    assert names == phong  # before: every account of the agency, the head's Tuyệt mật among them
    assert listed.get_json()["total"] == len(phong)
    web = app.test_client()
    assert login(web, people, "quan_tri_b").status_code == 302
    page = text(web.get("/admin/accounts"))
    assert people.usernames["van_thu_b"] in page
    for who in ("lanh_dao", "van_thu", "kiem_toan", "quan_tri"):
        assert people.usernames[who] not in page, who


def test_the_agencys_quan_tri_still_lists_everyone_and_an_auditor_none(kho: Kho, people: People) -> None:
    people.add("quan_tri_b", "Vũ Văn Bình", UNIT_B, ["quan_tri"], 0)
    client = create_app(kho.settings, kho=kho).test_client()
    listed = client.get("/api/accounts?per_page=100", headers=people.headers("quan_tri"))
    assert {a["username"] for a in listed.get_json()["items"]} == set(people.usernames.values())
    assert client.get("/api/accounts", headers=people.headers("kiem_toan")).status_code == 403
