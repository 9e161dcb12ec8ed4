"""The JSON API: authenticated accounts only, the access policy on every route, clear errors."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, UNIT_B, People, create_person
from kho_testing import incoming, outgoing

from web.context import Kho

SOME_ID = "0" * 24

# Every route that touches records or accounts, with a body that would otherwise be valid enough.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", f"/api/records/{SOME_ID}", {}),
    ("GET", f"/api/records/{SOME_ID}/history", {}),
    ("GET", f"/api/records/{SOME_ID}/audit", {}),
    ("GET", f"/api/records/{SOME_ID}/content", {}),
    ("POST", "/api/records", {"data": {"direction": "den", "metadata": "{}"}}),
    ("PATCH", f"/api/records/{SOME_ID}", {"json": {"expected_version": 1, "changes": {}}}),
    ("POST", f"/api/records/{SOME_ID}/grants", {"json": {"users": ["x"]}}),
    ("POST", "/api/intake", {"data": {"direction": "den"}}),
    ("GET", "/api/intake", {}),
    ("GET", f"/api/intake/{SOME_ID}", {}),
    ("POST", f"/api/intake/{SOME_ID}/confirm", {"json": {"expected_version": 1, "metadata": {}}}),
    ("POST", f"/api/intake/{SOME_ID}/return", {"json": {"reason": "x"}}),
    ("GET", "/api/registers/den/2026", {}),
    ("POST", "/api/files", {"json": {"metadata": {}}}),
    ("POST", f"/api/files/{SOME_ID}/documents", {"json": {"document_id": SOME_ID, "expected_version": 1}}),
    ("GET", "/api/search?q=quy+che", {}),
    ("GET", "/api/audit", {}),
    ("GET", "/api/audit/verify", {}),
    ("GET", "/api/units", {}),
    ("POST", "/api/units", {"json": {}}),
    ("GET", "/api/accounts", {}),
    ("POST", "/api/accounts", {"json": {}}),
    ("POST", "/api/accounts/someone.ubnd/lock", {"json": {}}),
    ("POST", "/api/accounts/someone.ubnd/unlock", {"json": {}}),
    ("POST", "/api/accounts/someone.ubnd/roles", {"json": {"memberships": []}}),
    ("POST", "/api/accounts/someone.ubnd/tokens", {"json": {}}),
    ("GET", "/api/accounts/someone.ubnd/tokens", {}),
    ("DELETE", f"/api/accounts/someone.ubnd/tokens/{'a' * 64}", {}),
    ("GET", "/api/me", {}),
    ("POST", "/api/logout", {}),
]


def call(
    client: FlaskClient, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> Any:
    return client.open(path, method=method, headers=headers or {}, **kw)


@pytest.mark.parametrize(("method", "path", "kw"), ROUTES)
def test_every_route_needs_a_real_token(
    client: FlaskClient, people: People, method: str, path: str, kw: dict
) -> None:
    anonymous = call(client, method, path, **kw)
    assert anonymous.status_code == 401, anonymous.json
    assert anonymous.json["error"]["code"] == "AUTH_REQUIRED"
    forged = call(client, method, path, {"X-Kho-User": people.usernames["van_thu"]}, **kw)
    assert forged.status_code == 401
    bad = call(client, method, path, {"Authorization": "Bearer not-a-token"}, **kw)
    assert bad.status_code == 401 and bad.json["error"]["code"] == "TOKEN_INVALID"


def register(client: FlaskClient, people: People, pdf: bytes, who: str = "van_thu", **fields: Any) -> dict:
    response = client.post(
        "/api/records",
        data={
            "direction": "den",
            "metadata": json.dumps(incoming(**fields)),
            "file": (io.BytesIO(pdf), "cv.pdf"),
        },
        headers=people.headers(who),
    )
    assert response.status_code == 201, response.json
    return response.json


def test_login_password_change_and_logout(client: FlaskClient, people: People) -> None:
    name = people.usernames["chuyen_vien"]
    wrong = client.post("/api/login", json={"username": name, "password": "Sai@mat-khau1"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "LOGIN_FAILED"
    unknown = client.post("/api/login", json={"username": "khong.co", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json["error"] == wrong.json["error"]
    assert client.post("/api/login", json=["not", "an", "object"]).json["error"]["code"] == "BODY_INVALID"
    ok = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert ok.status_code == 200
    token = ok.json["token"]
    assert "password_hash" not in json.dumps(ok.json)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["account"]["username"] == name
    assert client.post("/api/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    after = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401


def test_a_password_change_ends_the_other_sessions_of_the_account(
    client: FlaskClient, people: People
) -> None:
    """A session stolen with the old password ends when the person changes it; the session the
    change is sent with stays logged in."""
    name = people.usernames["chuyen_vien"]
    stolen = client.post("/api/login", json={"username": name, "password": PASSWORD}).json["token"]
    mine = client.post("/api/login", json={"username": name, "password": PASSWORD}).json["token"]
    body = {"username": name, "old_password": PASSWORD, "new_password": "Đổi#Mới-2026-xyz"}
    changed = client.post("/api/password", json=body, headers={"Authorization": f"Bearer {mine}"})
    assert changed.status_code == 200, changed.json
    assert client.get("/api/me", headers={"Authorization": f"Bearer {stolen}"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {mine}"}).status_code == 200


def test_a_document_of_another_unit_or_above_clearance_leaks_nothing(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    ordinary = register(client, people, signed["valid"])
    secret = register(
        client,
        people,
        signed["valid-2"],
        code_number="77",
        secrecy=2,
        subject="Phương án Xuyên Sơn tuyệt mật",
    )
    assert secret["registration"]["series"] == "den-mat"
    year = ordinary["registration"]["year"]
    for who in ("van_thu_b", "chuyen_vien_b"):
        for rid in (ordinary["record_id"], secret["record_id"]):
            for path in (f"/api/records/{rid}", f"/api/records/{rid}/content", f"/api/records/{rid}/history"):
                refused = client.get(path, headers=people.headers(who))
                # Another unit's people may not know of it: the answer of an absent id (a15).
                assert refused.status_code == 404, (who, path)
                assert refused.json["error"]["code"] == "NOT_FOUND", (who, path)
                assert "Xuyên Sơn" not in refused.get_data(as_text=True)
    # The agency's chuyên viên (cleared for nothing secret) sees the ordinary one only.
    cv = people.headers("chuyen_vien")
    assert client.get(f"/api/records/{ordinary['record_id']}", headers=cv).status_code == 200
    denied = client.get(f"/api/records/{secret['record_id']}", headers=cv)
    assert denied.status_code == 403 and denied.json["error"]["code"] == "SECRECY_DENIED"
    # Registers: the unit-B văn thư sees no row of the agency's register, not even a subject.
    rows = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu_b")).json
    assert rows["items"] == [] and rows["total"] == 0
    secret_rows = client.get(f"/api/registers/den-mat/{year}", headers=people.headers("van_thu"))
    assert [r["record_id"] for r in secret_rows.json["items"]] == [secret["record_id"]]
    # Search: counts and facets cover only what the person may see.
    found = client.get("/api/search?q=xuyen+son", headers=cv).json
    assert found["total"] == 0 and all(not f["values"] for f in found["facets"])
    assert client.get("/api/search?q=xuyen+son", headers=people.headers("van_thu")).json["total"] == 1
    everything = client.get("/api/search?q=", headers=people.headers("van_thu_b")).json
    assert everything["total"] == 0
    # Refusals are audited for the auditor.
    audit = client.get("/api/audit?action=access:denied", headers=people.headers("kiem_toan")).json
    assert {e["record_id"] for e in audit["items"]} >= {ordinary["record_id"], secret["record_id"]}


def test_roles_do_their_table_through_the_api(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    record = register(client, people, signed["valid"])
    rid, year = record["record_id"], record["registration"]["year"]
    expected = {
        # who: (read record, download, register list, audit log, accounts list, create record)
        "van_thu": (200, 200, 200, 403, 403, True),
        "lanh_dao": (200, 200, 200, 403, 403, False),
        "chuyen_vien": (200, 200, 403, 403, 403, False),
        "luu_tru": (200, 200, 200, 403, 403, False),
        "kiem_toan": (403, 403, 403, 200, 403, False),
        "quan_tri": (403, 403, 403, 403, 200, False),
    }
    for who, (read, download, reg, audit, accounts, creates) in expected.items():
        h = people.headers(who)
        assert client.get(f"/api/records/{rid}", headers=h).status_code == read, who
        assert client.get(f"/api/records/{rid}/content", headers=h).status_code == download, who
        assert client.get(f"/api/registers/den/{year}", headers=h).status_code == reg, who
        assert client.get("/api/audit", headers=h).status_code == audit, who
        assert client.get("/api/accounts", headers=h).status_code == accounts, who
        made = client.post(
            "/api/records",
            data={"direction": "den", "metadata": json.dumps(incoming(code_number=f"{len(who) + 100}"))},
            headers=h,
        )
        assert (made.status_code == 201) is creates, (who, made.json)
    # The auditor reads the record's history as events, not its content.
    events = client.get(f"/api/records/{rid}/audit", headers=people.headers("kiem_toan")).json["items"]
    assert "content:download" in {e["action"] for e in events}
    assert "metadata" not in json.dumps(events)


def test_receive_check_confirm_register_through_the_api(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    h = people.headers("van_thu")
    received = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(signed["tampered"]), "sua.pdf")},
        headers=h,
    )
    assert received.status_code == 201, received.json
    review = received.json
    assert review["signature_verdict"] == "TOTAL-FAILED" and review["needs_override"]
    rid, version = review["record"]["record_id"], review["record"]["version"]
    assert [r["record"]["record_id"] for r in client.get("/api/intake", headers=h).json["items"]] == [rid]
    refused = client.post(
        f"/api/intake/{rid}/confirm", json={"expected_version": version, "metadata": incoming()}, headers=h
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "SIGNATURE_FAILED"
    forced = client.post(
        f"/api/intake/{rid}/confirm",
        json={
            "expected_version": version,
            "metadata": incoming(),
            "override_reason": "Bản giấy đã đối chiếu",
        },
        headers=h,
    )
    assert forced.status_code == 200, forced.json
    assert forced.json["registration"]["number"] == 1
    events = client.get(f"/api/audit?record={rid}", headers=people.headers("kiem_toan")).json["items"]
    override = [e for e in events if e["details"].get("signature_override")]
    assert override and override[0]["details"]["signature_override"] == "Bản giấy đã đối chiếu"
    assert override[0]["actor"] == people.usernames["van_thu"]

    # The same document sent again: a warning naming the first, then a new registration with a reason.
    again = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(signed["tampered"]), "sua.pdf")},
        headers=h,
    ).json
    assert again["duplicate_of"] == rid
    dup = client.post(
        f"/api/intake/{rid}/confirm",
        json={
            "expected_version": 0,
            "metadata": incoming(code_number="1235"),
            "override_reason": "Đã đối chiếu",
        },
        headers=h,
    )
    assert dup.status_code == 409 and dup.json["error"]["code"] == "DUPLICATE_DOCUMENT"
    resent = client.post(
        f"/api/intake/{rid}/confirm",
        json={
            "expected_version": 0,
            "metadata": incoming(code_number="1235"),
            "override_reason": "Đã đối chiếu",
            "duplicate_reason": "Cơ quan gửi lại bản đã sửa số",
        },
        headers=h,
    )
    assert resent.status_code == 200, resent.json
    assert resent.json["registration"]["number"] == 2 and resent.json["record_id"] != rid

    # Trả lại from the same place, with the reason Kho found.
    other = client.post(
        "/api/intake", data={"direction": "den", "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")}, headers=h
    ).json
    returned = client.post(
        f"/api/intake/{other['record']['record_id']}/return", json={"reason": "Sai nơi nhận"}, headers=h
    )
    assert returned.status_code == 200 and returned.json["extra"]["return_reason"] == "Sai nơi nhận"


def test_bad_input_gets_codes_never_a_500(client: FlaskClient, people: People, kho: Kho) -> None:
    h = people.headers("van_thu")
    for bad_id in ("..", "..%2F..%2Fetc", "%00", "v%C4%83n-b%E1%BA%A3n", "0" * 23 + "g"):
        response = client.get(f"/api/records/{bad_id}", headers=h)
        assert response.status_code == 404, bad_id
        assert response.json["error"]["code"] in ("RECORD_ID_INVALID", "NOT_FOUND")
    assert client.get(f"/api/records/{SOME_ID}", headers=h).status_code == 404
    body = client.patch(f"/api/records/{SOME_ID}", data="[1, 2]", content_type="application/json", headers=h)
    assert body.status_code == 422 and body.json["error"]["code"] == "BODY_INVALID"
    not_json = client.post("/api/records", data={"direction": "den", "metadata": "{không"}, headers=h)
    assert not_json.status_code == 422 and not_json.json["error"]["code"] == "METADATA_FILE_INVALID"
    limit = kho.repo.max_file_bytes
    huge = client.post(
        "/api/intake",
        data={
            "direction": "den",
            "file": (io.BytesIO(b"%PDF-1.7\n" + b"0" * (limit + 2 * 1024 * 1024)), "to.pdf"),
        },
        headers=h,
    )
    assert huge.status_code == 413 and huge.json["error"]["code"] == "FILE_TOO_LARGE"
    assert client.delete("/api/intake", headers=h).status_code == 405
    flag = {"users": [], "revoke": "false"}
    not_a_flag = client.post(f"/api/records/{SOME_ID}/grants", json=flag, headers=h)
    assert not_a_flag.status_code == 422 and not_a_flag.json["error"]["details"]["field"] == "revoke"
    wrong_type = client.post("/api/files", json={"metadata": "x"}, headers=h)
    assert wrong_type.status_code == 422
    for bad in ("version=2.0", "version=-1", "version=x"):
        refused = client.get(f"/api/records/{SOME_ID}?{bad}", headers=h)
        assert refused.status_code == 422 and refused.json["error"]["code"] == "VERSION_INVALID", bad
    for bad in ("page=1.5", "page_size=x", "page=0", "page_size=1000"):
        refused = client.get(f"/api/search?q=x&{bad}", headers=h)
        assert refused.status_code in (400, 422), bad
        assert refused.json["error"]["code"] == "SEARCH_PAGE_INVALID", bad
    bad_search = client.get("/api/search?q=x&ngay_ban_hanh_from=31/02/2026", headers=h)
    assert bad_search.status_code in (400, 422) and "error" in bad_search.json
    # Nothing already stored was lost.
    assert client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json["ok"] is True


def test_a_locked_account_and_a_deleted_accounts_token_are_refused(
    client: FlaskClient, people: People
) -> None:
    admin = people.headers("quan_tri")
    target = people.usernames["chuyen_vien"]
    office = {"REMOTE_ADDR": "10.20.30.40"}  # the person's office: a known network (a22)
    right = {"username": target, "password": PASSWORD}
    earlier = client.post("/api/login", json=right, environ_overrides=office)
    assert earlier.status_code == 200, earlier.json
    locked = client.post(f"/api/accounts/{target}/lock", json={"reason": "left"}, headers=admin)
    assert locked.status_code == 200, locked.json
    refused = client.get("/api/me", headers=people.headers("chuyen_vien"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "ACCOUNT_LOCKED"
    # Review a23: at a known network the lock is told, whatever the password (it is not checked).
    login = client.post("/api/login", json=right, environ_overrides=office)
    assert login.status_code == 403 and login.json["error"]["code"] == "ACCOUNT_LOCKED"
    assert login.json["error"]["details"]["reason"] == "left"  # the person at the office learns why
    # Elsewhere, a wrong password and the right one learn nothing: byte for byte the answer for a
    # name without an account (before a23 the right password learned of the lock).
    for path, fields in (
        ("/api/login", {"password": PASSWORD}),
        ("/api/login", {"password": "Sai#Mat1khau"}),
        ("/api/password", {"old_password": "Sai#Mat1khau", "new_password": "Khac#Moi-2026-abc"}),
    ):
        wrong = client.post(path, json={"username": target, **fields})
        unknown = client.post(path, json={"username": "khongco.vpub", **fields})
        assert wrong.status_code == unknown.status_code == 401, path
        assert wrong.json["error"]["code"] == "LOGIN_FAILED" and wrong.data == unknown.data, path
    # Only a quản trị unlocks.
    assert (
        client.post(f"/api/accounts/{target}/unlock", json={}, headers=people.headers("lanh_dao")).status_code
        == 403
    )
    assert client.post(f"/api/accounts/{target}/unlock", json={}, headers=admin).status_code == 200
    # The lock a quản trị chose ended the token for good: the unlock gives back the account, not
    # the sessions opened before the lock (NOTES-a18; it used to come back here).
    revived = client.get("/api/me", headers=people.headers("chuyen_vien"))
    assert revived.status_code == 401 and revived.json["error"]["code"] == "TOKEN_INVALID"
    fresh = client.post("/api/login", json={"username": target, "password": PASSWORD})
    assert fresh.status_code == 200, fresh.json
    new = {"Authorization": f"Bearer {fresh.json['token']}"}
    assert client.get("/api/me", headers=new).status_code == 200
    people.kho.accounts.delete(target, people.kho.accounts.get(people.usernames["quan_tri"]))
    gone = client.get("/api/me", headers=new)
    assert gone.status_code == 401


def test_roles_change_notifies_the_person(client: FlaskClient, people: People) -> None:
    target = people.usernames["chuyen_vien"]
    changed = client.post(
        f"/api/accounts/{target}/roles",
        json={"memberships": [{"unit": "000.00.18.H40", "role": "luu_tru"}]},
        headers=people.headers("quan_tri"),
    )
    assert changed.status_code == 200, changed.json
    me = client.get("/api/me", headers=people.headers("chuyen_vien")).json
    assert any("lưu trữ viên" in n["message"] for n in me["notifications"])
    events = client.get("/api/audit?action=account:roles", headers=people.headers("kiem_toan")).json["items"]
    assert events and events[-1]["actor"] == people.usernames["quan_tri"]


def test_a_units_own_clerk_registers_for_that_unit(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    record = register(client, people, signed["valid"], who="van_thu_b")
    assert record["metadata"]["unit"] == "000.01.18.H40"
    rid = record["record_id"]
    assert client.get(f"/api/records/{rid}", headers=people.headers("chuyen_vien_b")).status_code == 200
    # Not the agency's chuyên viên; the agency's lãnh đạo leads every unit below it.
    officer = people.headers("chuyen_vien")
    assert client.get(f"/api/records/{rid}", headers=officer).status_code == 404  # (a15)
    assert client.get(f"/api/records/{rid}", headers=people.headers("lanh_dao")).status_code == 200
    # A grant to the agency's chuyên viên by the lãnh đạo lets them read it, and find it.
    granted = client.post(
        f"/api/records/{rid}/grants",
        json={"users": [people.usernames["chuyen_vien"]]},
        headers=people.headers("lanh_dao"),
    )
    assert granted.status_code == 200, granted.json
    assert client.get(f"/api/records/{rid}/content", headers=people.headers("chuyen_vien")).status_code == 200
    hits = client.get("/api/search?q=1234/BNV-VP", headers=people.headers("chuyen_vien")).json["hits"]
    assert [h["id"] for h in hits] == [rid]



def test_a_quan_tri_does_not_grant_themselves_a_record(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A quản trị manages grants without reading content: a grant naming themselves is refused
    (403 SELF_GRANT, audited), the original stays out of reach; granting someone else works."""
    rid = register(client, people, signed["valid"])["record_id"]
    admin, me = people.headers("quan_tri"), people.usernames["quan_tri"]
    own = client.post(f"/api/records/{rid}/grants", json={"users": [me]}, headers=admin)
    assert own.status_code == 403 and own.json["error"]["code"] == "SELF_GRANT", own.json
    assert client.get(f"/api/records/{rid}/content", headers=admin).status_code == 403
    assert client.get(f"/api/records/{rid}/grants", headers=admin).json["users"] == []
    denied = people.kho.repo.audit.query(record_id=rid, action="access:denied")
    assert any(e.actor == me and e.details["code"] == "SELF_GRANT" for e in denied)
    other = people.usernames["chuyen_vien_b"]
    given = client.post(f"/api/records/{rid}/grants", json={"users": [other]}, headers=admin)
    assert given.status_code == 200, given.json
    reader = people.headers("chuyen_vien_b")
    assert client.get(f"/api/records/{rid}/content", headers=reader).status_code == 200



def test_a_grant_names_existing_accounts_and_units(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A grant to a name nobody has is refused (422, nothing written): it would do nothing
    today and hand the record to whoever is later created under that name. A name typed in
    another case is the account's stored name."""
    rid = register(client, people, signed["valid"])["record_id"]
    head = people.headers("lanh_dao")
    before = client.get(f"/api/records/{rid}", headers=head).json["version"]
    ghost = client.post(f"/api/records/{rid}/grants", json={"users": ["annv2.ubnd"]}, headers=head)
    assert ghost.status_code == 422 and ghost.json["error"]["code"] == "GRANT_USER_UNKNOWN", ghost.json
    assert "annv2.ubnd" in json.dumps(ghost.json, ensure_ascii=False)
    nowhere = client.post(f"/api/records/{rid}/grants", json={"units": ["999.99.99.H99"]}, headers=head)
    assert nowhere.status_code == 422 and nowhere.json["error"]["code"] == "GRANT_UNIT_UNKNOWN"
    assert client.get(f"/api/records/{rid}", headers=head).json["version"] == before
    shouted = people.usernames["chuyen_vien_b"].upper()
    given = client.post(f"/api/records/{rid}/grants", json={"users": [shouted]}, headers=head)
    assert given.status_code == 200 and given.json["grant_users"] == [people.usernames["chuyen_vien_b"]]
    assert client.get(f"/api/records/{rid}", headers=people.headers("chuyen_vien_b")).status_code == 200



def test_a_person_who_may_not_grant_learns_nothing_of_which_accounts_exist(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The right to grant is decided before the names are looked up: a chuyên viên gets the
    same 403 for an account that exists and for one that does not (by grant and by handover),
    and the same 404 for a record that does not exist."""
    rid = register(client, people, signed["valid"])["record_id"]
    cv = people.headers("chuyen_vien")
    answers = []
    for name in (people.usernames["chuyen_vien_b"], "annv2.ubnd"):
        given = client.post(f"/api/records/{rid}/grants", json={"users": [name]}, headers=cv)
        nowhere = client.post(f"/api/records/{SOME_ID}/grants", json={"users": [name]}, headers=cv)
        handed = client.post(
            "/api/retention/handover", json={"from": people.usernames["chuyen_vien"], "to": name}, headers=cv
        )
        answers.append(
            (given.status_code, given.json.get("error", {}).get("code"), nowhere.status_code,
             handed.status_code, handed.json.get("error", {}).get("code"))
        )
    assert answers[0] == answers[1], answers
    assert answers[0][0] == 403 and answers[0][2] == 404 and answers[0][3] == 403
    # Someone who may grant still learns that a name is unknown (to correct it).
    head = people.headers("lanh_dao")
    ghost = client.post(f"/api/records/{rid}/grants", json={"users": ["annv2.ubnd"]}, headers=head)
    assert ghost.status_code == 422 and ghost.json["error"]["code"] == "GRANT_USER_UNKNOWN"


def test_the_account_routes_tell_nobody_without_the_role_which_accounts_exist(
    client: FlaskClient, people: People
) -> None:
    """Lock, unlock, roles and tokens of someone else: a chuyên viên gets the same refusal,
    word for word, for an account that exists and for one that does not."""
    cv = people.headers("chuyen_vien")
    answers = []
    for name in (people.usernames["chuyen_vien_b"], "khong.co.ai"):
        calls = (
            client.post(f"/api/accounts/{name}/lock", json={"reason": "left"}, headers=cv),
            client.post(f"/api/accounts/{name}/unlock", json={}, headers=cv),
            client.post(f"/api/accounts/{name}/roles", json={"memberships": []}, headers=cv),
            client.post(f"/api/accounts/{name}/tokens", json={}, headers=cv),
            client.get(f"/api/accounts/{name}/tokens", headers=cv),
            client.delete(f"/api/accounts/{name}/tokens/{'0' * 64}", headers=cv),
        )
        # The details echo the name typed (``target``), nothing else about it.
        answers.append([
            (r.status_code, r.json["error"]["code"], r.json["error"]["message"],
             {k: v for k, v in r.json["error"].get("details", {}).items() if k != "target"})
            for r in calls
        ])
    assert answers[0] == answers[1], answers
    assert {answer[0] for answer in answers[0]} == {403}


def test_a_revoke_names_the_account_as_a_grant_does(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A grant stores the account's name as the account spells it (t1); a revoke typed the same
    way must take that grant away, not answer 200 and leave the person reading."""
    rid = register(client, people, signed["valid"])["record_id"]
    head, name = people.headers("lanh_dao"), people.usernames["chuyen_vien_b"]
    given = client.post(f"/api/records/{rid}/grants", json={"users": [name.upper()]}, headers=head)
    assert given.status_code == 200 and given.json["grant_users"] == [name]
    body = {"users": [f" {name.upper()} "], "revoke": True}
    revoked = client.post(f"/api/records/{rid}/grants", json=body, headers=head)
    assert revoked.status_code == 200 and revoked.json["grant_users"] == [], revoked.json
    # No longer theirs to know of: the answer of an absent id (a15).
    assert client.get(f"/api/records/{rid}", headers=people.headers("chuyen_vien_b")).status_code == 404


def test_putting_a_document_in_a_shared_file_is_granting_it(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A grant on a hồ sơ reaches its documents: a chuyên viên (who may not grant) cannot
    hand a document of their unit to another unit by putting it in a hồ sơ shared with that
    unit (403, audited, nothing written). The lãnh đạo, who may grant, can."""
    rid = register(client, people, signed["valid"])["record_id"]
    officer, head, outsider = (people.headers(w) for w in ("chuyen_vien", "lanh_dao", "chuyen_vien_b"))
    fields = {"file_notation": "09.VP", "title": "Hồ sơ phối hợp", "maintenance": "10 năm",
              "creator": "Phạm Minh Chính", "start_date": "2026-01-05"}
    fid = client.post("/api/files", json=fields, headers=officer).json["record_id"]
    shared = client.post(f"/api/records/{fid}/grants", json={"units": ["000.01.18.H40"]}, headers=head)
    assert shared.status_code == 200, shared.json
    version = client.get(f"/api/records/{fid}", headers=officer).json["version"]
    added = client.post(
        f"/api/files/{fid}/documents", json={"document_id": rid, "expected_version": version}, headers=officer
    )
    assert added.status_code == 403 and "cấp quyền" in added.json["error"]["message"], added.json
    assert client.get(f"/api/records/{fid}", headers=officer).json["documents"] == []
    assert client.get(f"/api/records/{rid}/content", headers=outsider).status_code == 404  # (a15)
    denied = people.kho.repo.audit.query(record_id=rid, action="access:denied")
    assert any(e.actor == people.usernames["chuyen_vien"] for e in denied)
    by_head = client.post(
        f"/api/files/{fid}/documents", json={"document_id": rid, "expected_version": version}, headers=head
    )
    assert by_head.status_code == 200, by_head.json
    assert client.get(f"/api/records/{rid}/content", headers=outsider).status_code == 200


def test_granting_a_file_grants_its_documents(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A grant on a hồ sơ reaches every document in it, so it is a grant of each of them: the
    lãnh đạo of unit B, who sees the unit's hồ sơ but not the agency's document the head put in
    it, cannot give that document to themselves or to their unit by granting the hồ sơ (403,
    audited, nothing written). The agency's head, who sees the document, can."""
    accounts = people.kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    head_b, _ = create_person(accounts, "Vũ Văn Trưởng", "000.01.18.H40", ["lanh_dao"], 0, None, admin)
    token_b = accounts.issue_token(head_b.username, "test", accounts.get(head_b.username))
    as_head_b = {"Authorization": f"Bearer {token_b}"}
    rid = register(client, people, signed["valid"])["record_id"]
    head, officer_b = people.headers("lanh_dao"), people.headers("chuyen_vien_b")
    fields = {"file_notation": "10.PTH", "title": "Hồ sơ của phòng", "maintenance": "10 năm",
              "creator": "Trần Đại Nghĩa", "start_date": "2026-01-05", "unit": "000.01.18.H40"}
    made = client.post("/api/files", json=fields, headers=officer_b)
    assert made.status_code == 201, made.json
    fid = made.json["record_id"]
    version = made.json["version"]
    added = client.post(
        f"/api/files/{fid}/documents", json={"document_id": rid, "expected_version": version}, headers=head
    )
    assert added.status_code == 200, added.json
    assert client.get(f"/api/records/{fid}", headers=as_head_b).status_code == 200
    assert client.get(f"/api/records/{rid}/content", headers=as_head_b).status_code == 404  # (a15)
    for body in ({"users": [head_b.username]}, {"units": ["000.01.18.H40"]}):
        refused = client.post(f"/api/records/{fid}/grants", json=body, headers=as_head_b)
        assert refused.status_code == 403, refused.json
        assert "văn bản" in refused.json["error"]["message"]
        assert rid not in refused.get_data(as_text=True)  # the hồ sơ does not show it them (a15)
    grants = client.get(f"/api/records/{fid}/grants", headers=head).json
    assert (grants["users"], grants["units"]) == ([], [])
    assert client.get(f"/api/records/{rid}/content", headers=as_head_b).status_code == 404  # (a15)
    assert client.get(f"/api/records/{rid}/content", headers=officer_b).status_code == 404  # (a15)
    denied = people.kho.repo.audit.query(record_id=rid, action="access:denied")
    assert any(e.actor == head_b.username for e in denied)
    given = client.post(f"/api/records/{fid}/grants", json={"units": ["000.01.18.H40"]}, headers=head)
    assert given.status_code == 200, given.json
    assert client.get(f"/api/records/{rid}/content", headers=officer_b).status_code == 200



def test_a_records_audit_history_follows_the_auditors_clearance(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The policy lets a kiểm toán viên read a record's history up to their clearance: the
    per-record audit route asks it (403 SECRECY_DENIED for a Mật record and an auditor cleared
    for Thường), instead of answering every auditor from the whole log."""
    accounts = people.kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    low, _ = create_person(accounts, "Đinh Văn Soát", "000.00.18.H40", ["kiem_toan"], 0, None, admin)
    low_token = accounts.issue_token(low.username, "test", accounts.get(low.username))
    rid = register(client, people, signed["valid"], secrecy=2)["record_id"]
    refused = client.get(f"/api/records/{rid}/audit", headers={"Authorization": f"Bearer {low_token}"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "SECRECY_DENIED", refused.json
    also = client.get(f"/api/audit?record={rid}", headers={"Authorization": f"Bearer {low_token}"})
    assert also.status_code == 403
    cleared = client.get(f"/api/records/{rid}/audit", headers=people.headers("kiem_toan"))
    assert cleared.status_code == 200 and cleared.json["total"] >= 1
    # An id that names no record: the auditor still reads what the log holds of it.
    ghost = client.get("/api/audit?record=" + "0" * 24, headers={"Authorization": f"Bearer {low_token}"})
    assert ghost.status_code == 200 and ghost.json["total"] == 0


def _auditor_cleared_for(people: People, name: str, clearance: int) -> dict[str, str]:
    accounts = people.kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    account, _ = create_person(accounts, name, AGENCY, ["kiem_toan"], clearance, None, admin)
    token = accounts.issue_token(account.username, "test", accounts.get(account.username))
    return {"Authorization": f"Bearer {token}"}


def test_the_whole_log_withholds_the_events_of_records_above_the_auditors_clearance(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """An auditor cleared for Thường reads the whole log (by person, by action) with the events
    of a Mật record in place, at the same position and in the same count as a cleared auditor,
    but marked as withheld: no record id, version, details or hash. The exports do the same."""
    secret = register(client, people, signed["valid"], secrecy=2, subject="Kế hoạch Xuyên Sơn mật")
    rid = secret["record_id"]
    client.get(f"/api/records/{rid}", headers=people.headers("van_thu"))
    low = _auditor_cleared_for(people, "Đinh Văn Soát", 0)
    query = f"/api/audit?user={people.usernames['van_thu']}&page_size=200"
    full = client.get(query, headers=people.headers("kiem_toan")).json
    seen = client.get(query, headers=low).json
    assert seen["total"] == full["total"]
    assert [e["seq"] for e in seen["items"]] == [e["seq"] for e in full["items"]]
    secret_seqs = {e["seq"] for e in full["items"] if e["record_id"] == rid}
    assert secret_seqs
    for event in seen["items"]:
        assert rid not in json.dumps(event), event
        if event["seq"] in secret_seqs:
            assert event["details"]["withheld"] is True
            assert event["details"]["code"] == "AUDIT_EVENT_WITHHELD"
            assert event["hash"] == "" and event["version"] is None
            assert event["actor"] == people.usernames["van_thu"] and event["at"]
    # The cleared auditor sees them whole.
    assert all(e["details"].get("withheld") is None for e in full["items"])
    # An event of a readable hồ sơ whose details name the Mật document: the details are withheld.
    repo, clerk = people.kho.repo, people.actor("van_thu")
    file = repo.create_file(
        {"file_notation": "01.MAT", "title": "Hồ sơ thường", "maintenance": "05 năm",
         "creator": "Văn thư", "start_date": "2026-01-05"},
        clerk,
    )
    repo.add_to_file(file.record_id, rid, expected_version=file.version, actor=clerk)
    added = client.get("/api/audit?action=file:add-document", headers=low).json["items"]
    mine = [e for e in added if e["record_id"] == file.record_id]
    assert mine and all(e["details"]["withheld"] is True for e in mine)
    assert rid not in json.dumps(added)
    whole = client.get("/api/audit?action=file:add-document", headers=people.headers("kiem_toan")).json
    assert rid in json.dumps(whole["items"])
    # The hồ sơ's own history, which the low auditor may read, withholds those details as well.
    history = client.get(f"/api/audit?record={file.record_id}", headers=low)
    assert history.status_code == 200 and history.json["total"] >= 2
    assert rid not in json.dumps(history.json)
    assert any(e["details"].get("withheld") for e in history.json["items"])
    # The exports withhold the same events, marked.
    exported = client.get(
        f"/api/audit/export?format=csv&user={people.usernames['van_thu']}", headers=low
    )
    assert exported.status_code == 200, exported.data
    csv_text = exported.data.decode("utf-8-sig")
    assert rid not in csv_text and "(đã ẩn: vượt mức tiếp cận)" in csv_text
    assert "Xuyên Sơn" not in csv_text


def test_lists_come_in_bounded_pages(client: FlaskClient, people: People) -> None:
    admin = people.headers("quan_tri")
    everyone = client.get("/api/accounts", headers=admin).json
    assert everyone["page"] == 1 and everyone["page_size"] == 50
    assert everyone["total"] == len(everyone["items"]) == len(people.usernames)
    pages = [client.get(f"/api/accounts?page={n}&page_size=3", headers=admin).json for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 2, 0]
    assert all(p["total"] == 8 and p["pages"] == 3 for p in pages)
    names = [a["username"] for p in pages for a in p["items"]]
    assert names == [a["username"] for a in everyone["items"]]
    bad_pages = ("page=0", "page=-1", "page=x", "page_size=0", "page_size=201", "page_size=1e3", "page=٣")
    for bad in (*bad_pages, "page="):
        refused = client.get(f"/api/accounts?{bad}", headers=admin)
        assert refused.status_code == 422, bad
        assert refused.json["error"]["code"] == "PAGE_INVALID"
        assert refused.json["error"]["details"]["field"] in ("page", "page_size")
    assert client.get("/api/accounts?page_size=200", headers=admin).status_code == 200


def test_a_quan_tri_lists_and_revokes_personal_access_tokens(client: FlaskClient, people: People) -> None:
    admin = people.headers("quan_tri")
    target = people.usernames["chuyen_vien"]
    # A quản trị never issues someone else's token (whoever held it would act as that person).
    by_admin = client.post(f"/api/accounts/{target}/tokens", json={"name": "x"}, headers=admin)
    assert by_admin.status_code == 403
    issued = client.post(
        f"/api/accounts/{target}/tokens", json={"name": "tích hợp"}, headers=people.headers("chuyen_vien")
    )
    assert issued.status_code == 201
    secret = issued.json["token"]
    listed = client.get(f"/api/accounts/{target}/tokens", headers=admin)
    assert listed.status_code == 200, listed.json
    assert secret not in listed.get_data(as_text=True)
    tokens = listed.json["items"]
    assert [t["name"] for t in tokens] == ["test", "tích hợp"]  # oldest first
    assert set(tokens[0]) == {"digest", "name", "created_at", "created_by", "revoked", "expires_at", "scope"}
    assert not any(t["revoked"] for t in tokens)
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/me", headers=mine).status_code == 200
    # The person sees their own tokens; another văn thư or chuyên viên does not.
    own = client.get(f"/api/accounts/{target}/tokens", headers=people.headers("chuyen_vien"))
    assert own.status_code == 200 and own.json["total"] == 2
    other = client.get(f"/api/accounts/{target}/tokens", headers=people.headers("van_thu"))
    assert other.status_code == 403
    (digest,) = [t["digest"] for t in tokens if t["name"] == "tích hợp"]
    refused = client.delete(f"/api/accounts/{target}/tokens/{digest}", headers=people.headers("van_thu"))
    assert refused.status_code == 403
    revoked = client.delete(f"/api/accounts/{target}/tokens/{digest}", headers=admin)
    assert revoked.status_code == 200, revoked.json
    assert client.get("/api/me", headers=mine).status_code == 401
    # The test token still works; the list says which one was revoked.
    assert client.get("/api/me", headers=people.headers("chuyen_vien")).status_code == 200
    after = client.get(f"/api/accounts/{target}/tokens", headers=admin).json["items"]
    assert {t["name"]: t["revoked"] for t in after} == {"test": False, "tích hợp": True}
    unknown = client.delete(f"/api/accounts/{target}/tokens/{'0' * 64}", headers=admin)
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "TOKEN_NOT_FOUND"
    nobody = client.get("/api/accounts/khong.co/tokens", headers=admin)
    assert nobody.status_code == 404
    events = client.get("/api/audit?action=account:token-revoke", headers=people.headers("kiem_toan")).json
    assert events["items"][-1]["details"]["username"] == target


def test_a_file_registered_by_another_unit_is_not_shown_to_whoever_sends_it_again(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    secret = register(client, people, signed["valid"], subject="Phương án Xuyên Sơn")
    again = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(signed["valid"]), "lai.pdf")},
        headers=people.headers("van_thu_b"),
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "DUPLICATE_DOCUMENT"
    assert secret["record_id"] not in again.get_data(as_text=True)
    assert "Xuyên Sơn" not in again.get_data(as_text=True)


def test_json_nested_too_deep_or_a_number_too_long_is_refused_not_a_500(
    client: FlaskClient, people: People
) -> None:
    """``[[[…]]]`` deeper than the parser's stack raised RecursionError, and a number of 5,000
    digits a ValueError that is no JSONDecodeError: both were a 500 with a traceback, on
    ``/api/login`` for anyone and on the ``metadata`` field of ``POST /api/records``."""
    deep = '{"username": ' + "[" * 100_000 + "]" * 100_000 + "}"
    long_number = '{"subject": ' + "1" * 5000 + "}"
    for body in (deep, long_number):
        for path, headers in (("/api/login", {}), ("/api/saved-searches", people.headers("van_thu"))):
            answer = client.post(path, data=body, content_type="application/json", headers=headers)
            assert answer.status_code == 422, (path, answer.status_code)
            assert answer.json["error"]["code"] == "BODY_INVALID"
            assert answer.json["error"]["message"] == "Nội dung yêu cầu phải là một đối tượng JSON."
        made = client.post(
            "/api/records", data={"direction": "den", "metadata": body}, headers=people.headers("van_thu")
        )
        assert made.status_code == 422 and made.json["error"]["code"] == "METADATA_FILE_INVALID"
    register_rows = client.get("/api/registers/den/2026", headers=people.headers("van_thu")).json
    assert register_rows["total"] == 0  # nothing was written


def test_a_json_body_beyond_two_mib_is_refused_before_it_is_parsed(
    client: FlaskClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The only bound on a JSON body was the upload limit of an original (51 MB), and 51 MB of
    ``[{},{},…]`` parse into 1.3 GB of Python objects in 2.7 s of CPU: ``POST /api/login`` took
    that from anyone, before any check. A JSON body beyond 2 MiB now answers 413
    ``BODY_TOO_LARGE`` with a Vietnamese message and is not parsed, whether the client says its
    length or sends it chunked; a body within the bound is read as before."""
    import web.app

    parsed: list[int] = []  # the size of each request body given to the parser
    real_json = web.app._json
    monkeypatch.setattr(web.app, "_json", lambda raw, *args: parsed.append(len(raw)) or real_json(raw, *args))
    big = b"[" + b"{}," * 800_000 + b"{}]"  # 2.4 MB
    for path, headers in (("/api/login", {}), ("/api/saved-searches", people.headers("van_thu"))):
        told = client.post(path, data=big, content_type="application/json", headers=headers)
        chunked = client.post(
            path,
            input_stream=io.BytesIO(big),
            content_type="application/json",
            headers={**headers, "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},  # as gunicorn marks a chunked body
        )
        for answer in (told, chunked):
            assert answer.status_code == 413, (path, answer.status_code, answer.get_data(as_text=True)[:200])
            assert answer.json["error"]["code"] == "BODY_TOO_LARGE"
            assert answer.json["error"]["message"] == "Nội dung yêu cầu quá lớn: tối đa 2 MB."
    assert parsed == []  # refused before the parser saw a byte
    padded = json.dumps({"username": "ai-do", "password": "x" * 2_000_000}).encode()
    within = client.post("/api/login", data=padded, content_type="application/json")
    assert within.status_code == 401 and within.json["error"]["code"] == "LOGIN_FAILED"
    assert parsed == [len(padded)]


def test_hidden_characters_in_a_file_name_or_a_field_are_refused_with_a_code(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A right-to-left override makes ``hoa-don\\u202exslx.pdf`` read "hoa-donfdp.xslx", and a
    trích yếu read differently from what is stored; CR/LF and C1 controls in a file name were
    stored and shown as typed. The name is refused with FILE_NAME_INVALID and the field with
    FIELD_CONTROL_CHARS (422), and nothing is stored."""
    h = people.headers("van_thu")
    names = ("hoa-don\u202exslx.pdf", "cv\x85.pdf", "a\u2066b.pdf", "cong\tvan.pdf")  # CR/LF: test_vocabulary
    for name in names:
        refused = client.post(
            "/api/intake", data={"direction": "den", "file": (io.BytesIO(signed["valid"]), name)}, headers=h
        )
        assert refused.status_code == 422, (name, refused.json)
        assert refused.json["error"]["code"] == "FILE_NAME_INVALID"
    for subject in ("Về việc \u202eđóng dấu", "Về việc\x85 abc", "Về việc \u2067x\u2069"):
        refused = client.post(
            "/api/records",
            data={"direction": "den", "metadata": json.dumps(incoming(subject=subject))},
            headers=h,
        )
        assert refused.status_code == 422, subject
        assert refused.json["error"]["code"] == "FIELD_CONTROL_CHARS"
        fields = refused.json["error"]["details"]["errors"]
        assert [(f["field"], f["code"]) for f in fields] == [("subject", "FIELD_CONTROL_CHARS")]
    assert client.get("/api/intake", headers=h).json["total"] == 0
    assert client.get("/api/registers/den/2026", headers=h).json["total"] == 0
    # Vietnamese text with tabs and line breaks in a field, and the marks some software adds,
    # are still taken.
    kept = register(client, people, signed["valid-2"], subject="Về việc\tA\nB \u200fC")
    assert kept["metadata"]["subject"] == "Về việc\tA\nB \u200fC"


def test_a_file_refused_for_its_name_is_taken_once_renamed(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The intake job is named by the file's SHA-256, and a failed job was run again with the
    name it was first sent under: a PDF sent as ``cong-van.pdff``, refused, renamed
    ``cong-van.pdf`` and sent again was refused for ``.pdff`` every time (only changing the
    bytes got it in). Nothing of the failed job was stored, so the new name now counts."""
    h = people.headers("van_thu")

    def send(name: str) -> Any:
        upload = {"direction": "den", "file": (io.BytesIO(signed["valid"]), name)}
        return client.post("/api/intake", data=upload, headers=h)

    for name in ("cong-van.pdff", "cong-van"):
        refused = send(name)
        assert refused.status_code == 422 and refused.json["error"]["code"] == "FILE_FORMAT_NOT_ALLOWED"
    taken = send("cong-van.pdf")
    assert taken.status_code == 201, taken.json
    assert taken.json["record"]["files"][0]["original_name"] == "cong-van.pdf"


def test_an_audit_period_beyond_the_calendar_is_refused_not_a_500(
    client: FlaskClient, people: People
) -> None:
    """``/api/audit?since=0001-01-01`` is midnight in Vietnam of 1 January of year 1, seven hours
    before the first instant Python can hold in UTC; its conversion raised OverflowError, a
    500. Such a moment is DATE_INVALID (422), as a malformed one is."""
    h = people.headers("kiem_toan")
    for query in ("since=0001-01-01", "since=0001-01-01T00:00:00%2B23:59", "until=9999-12-31T23:59:59-23:59"):
        refused = client.get(f"/api/audit?{query}", headers=h)
        assert refused.status_code == 422, (query, refused.status_code)
        assert refused.json["error"]["code"] == "DATE_INVALID"
    assert client.get("/api/audit?since=0001-01-02&until=9999-12-30", headers=h).status_code == 200


def test_a_name_with_hidden_characters_or_too_long_is_refused_for_accounts_and_units(
    client: FlaskClient, people: People, kho: Kho
) -> None:
    """Full names and unit names are shown to everyone, in every list, page and export. A NUL,
    a right-to-left override (U+202E before "Nguyễn" shows "nễyugN") or 50,000 characters were
    stored as typed; they are refused with FULL_NAME_INVALID / UNIT_NAME_INVALID (422) and
    nothing is written."""
    admin = people.headers("quan_tri")
    before = len(kho.accounts.accounts())
    for name in ("\u202eNguyễn Văn A", "Nguyễn\x00Văn", "Nguyễn\nVăn", "A" * 201):
        made = client.post(
            "/api/accounts", json={"full_name": name, "unit": AGENCY, "roles": ["chuyen_vien"]}, headers=admin
        )
        assert made.status_code == 422, (name[:20], made.json)
        assert [e["code"] for e in made.json["error"]["details"]["errors"]] == ["FULL_NAME_INVALID"]
    assert len(kho.accounts.accounts()) == before
    unit_b = kho.accounts.get_unit(UNIT_B)
    for name in ("\u202eabc", "\x00", "Phòng\r\nTổng hợp", "x" * 201):
        renamed = client.patch(f"/api/units/{UNIT_B}", json={"name": name}, headers=admin)
        assert renamed.status_code == 422, (name[:20], renamed.json)
        assert "UNIT_NAME_INVALID" in [e["code"] for e in renamed.json["error"]["details"]["errors"]]
        made = client.post(
            "/api/units", json={"unit_id": "000.02.18.H40", "name": name, "code": "pkt", "parent_id": AGENCY},
            headers=admin,
        )
        assert made.status_code == 422
    assert kho.accounts.get_unit(UNIT_B).name == unit_b.name
    assert "000.02.18.H40" not in {u.unit_id for u in kho.accounts.units()}
    fine = {"full_name": "Nguyễn  Văn An", "unit": AGENCY, "roles": ["chuyen_vien"]}
    ordinary = client.post("/api/accounts", json=fine, headers=admin)
    assert ordinary.status_code == 201 and ordinary.json["account"]["full_name"] == "Nguyễn Văn An"


def test_a_duplicate_number_names_the_existing_record_only_to_who_may_see_it(
    client: FlaskClient, people: People
) -> None:
    """Registering the số, ký hiệu, cơ quan and năm of a registered document answers 409 with the
    existing record's id. A văn thư of unit B got the id of the agency's Tối mật record, which
    the policy refuses them; now they are told of the duplicate only, and the agency's văn thư,
    who sees that record, still gets its id."""
    secret = client.post(
        "/api/records",
        data={"direction": "den", "metadata": json.dumps(incoming(secrecy=2, subject="Phương án mật"))},
        headers=people.headers("van_thu"),
    )
    assert secret.status_code == 201, secret.json
    again = {"direction": "den", "metadata": json.dumps(incoming(subject="Gửi lại"))}
    outsider = client.post("/api/records", data=again, headers=people.headers("van_thu_b"))
    assert outsider.status_code == 409 and outsider.json["error"]["code"] == "DUPLICATE_DOCUMENT"
    assert secret.json["record_id"] not in outsider.get_data(as_text=True)
    assert "details" not in outsider.json["error"]
    insider = client.post("/api/records", data=again, headers=people.headers("van_thu"))
    assert insider.status_code == 409
    assert insider.json["error"]["details"]["existing_record_id"] == secret.json["record_id"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("H" * 5000, "ADVISORY_BODY_INVALID"),
        ("Hội đồng\u202eTĐ", "FIELD_CONTROL_CHARS"),
        ("HĐ\nTĐ", "FIELD_CONTROL_CHARS"),
    ],
)
def test_an_advisory_body_name_too_long_or_with_hidden_characters_is_refused_not_a_500(
    client: FlaskClient, people: People, name: str, code: str
) -> None:
    """The advisory body (hội đồng, ban, tổ tư vấn) names its own number series, and the series
    is part of the register's object keys: a 5,000-character name was a 500 (the key too
    long for the store), a right-to-left override made a series whose name reads otherwise."""
    made = client.post(
        "/api/records",
        data={"direction": "di", "metadata": json.dumps(outgoing()), "advisory_body": name},
        headers=people.headers("van_thu"),
    )
    assert made.status_code == 422, made.json
    assert made.json["error"]["code"] == code and "Hội đồng, ban, tổ tư vấn" in made.json["error"]["message"]
    year = people.kho.repo.clock().year
    assert [s for s in people.kho.repo.registers.series_of(people.kho.repo.agency_id, year)] == []
