"""Quản trị pages: units (create, rename, move), roles per unit, grants on a record; each change
is an audit event the kiểm toán viên finds."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People
from kho_web import login, logout, post, register_one, text


def test_units_are_created_renamed_and_moved(web: FlaskClient, people: People) -> None:
    login(web, people, "quan_tri")
    assert "Phòng Tổng hợp" in text(web.get("/admin/units"))
    created = post(
        web, "/admin/units", {"unit_id": "000.02.18.H40", "name": "Phòng Kế hoạch", "code": "pkh",
                              "parent_id": AGENCY}, "/admin/units",
    )
    assert created.status_code == 302, text(created)
    bad = post(
        web, "/admin/units", {"unit_id": "x", "name": "", "code": "", "parent_id": AGENCY}, "/admin/units"
    )
    assert bad.status_code == 422 and "sai định dạng" in text(bad)
    moved = post(
        web, "/admin/units/000.02.18.H40", {"name": "Phòng Kế hoạch – Tài chính", "parent_id": UNIT_B},
        "/admin/units",
    )
    assert moved.status_code == 302
    unit = people.kho.accounts.get_unit("000.02.18.H40")
    assert (unit.name, unit.parent_id, unit.version) == ("Phòng Kế hoạch – Tài chính", UNIT_B, 2)
    cycle = post(web, f"/admin/units/{UNIT_B}", {"name": "Phòng Tổng hợp", "parent_id": "000.02.18.H40"},
                 "/admin/units")
    assert cycle.status_code == 422 and "cấp dưới" in text(cycle)
    root = post(web, f"/admin/units/{AGENCY}", {"name": "UBND", "parent_id": UNIT_B}, "/admin/units")
    assert root.status_code == 422
    logout(web)
    login(web, people, "chuyen_vien")
    assert web.get("/admin/units").status_code == 403
    assert post(web, f"/admin/units/{UNIT_B}", {"name": "Chiếm"}, "/").status_code == 403
    logout(web)
    login(web, people, "kiem_toan")
    log = text(web.get("/audit?action=unit:update"))
    assert "1 sự kiện" in log and "Sửa đơn vị" in log


def test_a_role_is_assigned_and_removed_on_a_unit(web: FlaskClient, people: People) -> None:
    login(web, people, "quan_tri")
    who = people.usernames["chuyen_vien_b"]
    added = post(web, f"/admin/accounts/{who}/roles", {"op": "add", "role": "van_thu", "unit": UNIT_B},
                 "/admin/accounts")
    assert added.status_code == 302
    roles = {(m.unit, m.role.value) for m in people.kho.accounts.get(who).memberships}
    assert roles == {(UNIT_B, "chuyen_vien"), (UNIT_B, "van_thu")}
    removed = post(
        web, f"/admin/accounts/{who}/roles", {"op": "remove", "role": "chuyen_vien", "unit": UNIT_B},
        "/admin/accounts",
    )
    assert removed.status_code == 302
    assert {(m.unit, m.role.value) for m in people.kho.accounts.get(who).memberships} == {(UNIT_B, "van_thu")}
    missing = post(web, f"/admin/accounts/{who}/roles", {"op": "remove", "role": "luu_tru", "unit": UNIT_B},
                   "/admin/accounts")
    assert missing.status_code == 422 and "không giữ vai trò" in text(missing)
    events = list(people.kho.repo.audit.query(action="account:roles"))
    assert len(events) == 2 and all(e.details["username"] == who for e in events)


def test_a_grant_on_a_record_is_given_and_revoked(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    record_id = path.rsplit("/", 1)[1]
    logout(web)
    login(web, people, "chuyen_vien_b")
    assert web.get(path).status_code == 404  # not theirs to know of: as an absent id (a15)
    logout(web)
    login(web, people, "quan_tri")
    opened = text(web.get(f"/admin/grants?record={record_id}"))
    assert "Người được cấp quyền: không có" in opened
    user = people.usernames["chuyen_vien_b"]
    granted = post(
        web, "/admin/grants", {"record_id": record_id, "users": user, "op": "grant"}, "/admin/grants"
    )
    assert granted.status_code == 302
    assert user in text(web.get(f"/admin/grants?record={record_id}"))
    unknown = post(web, "/admin/grants", {"record_id": record_id, "users": "khong.co", "op": "grant"},
                   "/admin/grants")
    assert unknown.status_code == 422 and "Không có tài khoản" in text(unknown)
    logout(web)
    login(web, people, "chuyen_vien_b")
    assert web.get(path).status_code == 200
    logout(web)
    login(web, people, "quan_tri")
    post(web, "/admin/grants", {"record_id": record_id, "users": user, "op": "revoke"}, "/admin/grants")
    logout(web)
    login(web, people, "chuyen_vien_b")
    assert web.get(path).status_code == 404  # (a15)
    assert web.get(f"/admin/grants?record={record_id}").status_code == 404  # (a15)
    grants = list(people.kho.repo.audit.query(record_id=record_id, action="record:grant"))
    assert [g.details["revoke"] for g in grants] == [False, True]
