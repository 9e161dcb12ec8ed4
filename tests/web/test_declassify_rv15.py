"""Hạ độ mật, giải mật by the unit's lãnh đạo (review rv15). rv14 made lowering a document's độ
mật the lãnh đạo's decision, but a lãnh đạo cannot correct metadata (``RECORD_UPDATE`` is the văn
thư's), so only a person holding both roles could: declassification was impossible in practice.
Under Luật Bảo vệ bí mật nhà nước 2018 (Điều 21, 22) it is the head of the unit's decision. Now
the unit's lãnh đạo lowers the level of a document of their unit by a correction that changes
only the độ mật, with its căn cứ, audited; anything else is refused with its code. Through the
API (``PATCH /api/records/<id>``) and the record page.

And a correction that moves a document to another unit is decided as a registration there
(``RECORD_MOVE_DENIED``): a văn thư handed their document's keeping to another unit, out of their
own unit's sight."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_testing import incoming, pdf_bytes

from repository.records import RECORD_UNIT, Record
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REASON = "Quyết định số 12/QĐ-UBND ngày 01/12/2026 về việc giải mật"
FORM = 'id="lower-secrecy"'


def _secret(kho: Kho, people: People, number: str, secrecy: int = 1) -> Record:
    return kho.repo.create_document(
        "den",
        incoming(code_number=number, issued_date="2026-03-02", secrecy=secrecy),
        pdf_bytes(f"rv15 {number}"),
        "mat.pdf",
        people.actor("van_thu"),
    )


def _patch(client: FlaskClient, record: Record, headers: dict[str, str], **body: Any) -> Any:
    return client.patch(
        f"/api/records/{record.record_id}",
        json={"expected_version": record.version, **body},
        headers=headers,
    )


def _denied_codes(kho: Kho, record_id: str, user: str) -> list[str]:
    """The codes of the refused corrections ``user`` made of the record (audited)."""
    return [
        e.details["code"]
        for e in kho.repo.audit.record_events(record_id)
        if e.action == "access:denied" and e.actor == user and e.details["action"] == "record:update"
    ]


def test_the_units_lanh_dao_declassifies_a_document_by_the_api_with_its_reason(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """On main the agency's lãnh đạo (not its văn thư) got 403 PERMISSION_DENIED for a
    ``{"secrecy": 0}`` correction of a Mật document of the agency: nobody but a person holding
    both roles could lower a level."""
    secret = _secret(kho, people, "701")
    head, reader = people.headers("lanh_dao"), people.headers("chuyen_vien")
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 403

    no_reason = _patch(client, secret, head, changes={"secrecy": 0})
    assert no_reason.status_code == 403, no_reason.get_data(as_text=True)[:300]
    assert no_reason.json["error"]["code"] == "SECRECY_REASON_REQUIRED"
    assert "căn cứ" in no_reason.json["error"]["message"]
    blank = _patch(client, secret, head, changes={"secrecy": 0}, note="   ")
    assert blank.json["error"]["code"] == "SECRECY_REASON_REQUIRED"
    mixed = _patch(client, secret, head, changes={"secrecy": 0, "subject": "Trích yếu khác"}, note=REASON)
    assert mixed.status_code == 403 and mixed.json["error"]["code"] == "SECRECY_LOWER_ONLY"
    other = _patch(client, secret, head, changes={"subject": "Trích yếu khác"}, note=REASON)
    assert other.status_code == 403 and other.json["error"]["code"] == "PERMISSION_DENIED"
    raised = _patch(client, secret, head, changes={"secrecy": 2}, note=REASON)
    assert raised.status_code == 403 and raised.json["error"]["code"] == "PERMISSION_DENIED"
    assert kho.repo._load(secret.record_id).version == secret.version
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 403

    # Another unit's lãnh đạo neither sees it nor lowers it: the answer of an absent id.
    people.add("lanh_dao_b", "Trưởng Phòng Tổng Hợp", UNIT_B, ("lanh_dao",), 3)
    outsider = _patch(client, secret, people.headers("lanh_dao_b"), changes={"secrecy": 0}, note=REASON)
    assert outsider.status_code == 404, outsider.get_data(as_text=True)[:300]
    assert outsider.json["error"]["code"] == "NOT_FOUND"

    done = _patch(client, secret, head, changes={"secrecy": 0}, note=REASON)
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    assert done.json["metadata"]["secrecy"] == 0
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 200
    stored = kho.repo._load(secret.record_id)
    assert stored.version == secret.version + 1 and stored.note == REASON
    [event] = [e for e in kho.repo.audit.record_events(secret.record_id) if e.action == "record:update"]
    assert event.actor == people.actor("lanh_dao").user
    assert event.details["fields"] == ["secrecy"]
    assert event.details["secrecy"] == {"from": 1, "to": 0, "reason": REASON}
    head_user, outsider_user = people.actor("lanh_dao").user, people.actor("lanh_dao_b").user
    assert sorted(_denied_codes(kho, secret.record_id, head_user)) == sorted(
        ["SECRECY_REASON_REQUIRED"] * 2 + ["SECRECY_LOWER_ONLY", "PERMISSION_DENIED", "PERMISSION_DENIED"]
    )
    assert _denied_codes(kho, secret.record_id, outsider_user) == ["PERMISSION_DENIED"]  # answered 404
    assert kho.repo.audit.verify().ok


def test_the_record_page_offers_the_lowering_to_the_units_lanh_dao_only(
    app: Flask, kho: Kho, people: People
) -> None:
    """On main the record page had no way to lower a level (and the API refused the lãnh đạo)."""
    secret = _secret(kho, people, "702", secrecy=2)
    action = f"/records/{secret.record_id}/secrecy"

    clerk = _logged_in(app, people.usernames["van_thu"])
    html, clerk_token = _page(clerk, secret.record_id)
    assert FORM not in html and action not in html
    posted = clerk.post(
        action,
        data={
            "secrecy": "0",
            "reason": REASON,
            "expected_version": str(secret.version),
            "csrf_token": clerk_token,
        },
    )
    assert posted.status_code == 403 and "SECRECY_LOWER_DENIED" in posted.get_data(as_text=True)

    head = _logged_in(app, people.usernames["lanh_dao"])
    html, token = _page(head, secret.record_id)
    assert FORM in html and f'action="{action}"' in html
    form = html[html.index(FORM) : html.index("</form>", html.index(FORM))]
    assert re.findall(r'<option value="(\d)">', form) == ["0", "1"]  # below Tối mật only
    assert "data-confirm=" in form and 'name="reason" required' in form
    fields = {"secrecy": "1", "reason": REASON, "expected_version": str(secret.version)}
    no_csrf = head.post(action, data=fields)
    assert no_csrf.status_code == 400
    blank = head.post(action, data={**fields, "reason": " ", "csrf_token": token})
    assert blank.status_code == 403 and "SECRECY_REASON_REQUIRED" in blank.get_data(as_text=True)
    bad = head.post(action, data={**fields, "secrecy": "x", "csrf_token": token})
    assert bad.status_code == 422 and "FIELD_INVALID" in bad.get_data(as_text=True)
    assert kho.repo._load(secret.record_id).version == secret.version

    done = head.post(action, data={**fields, "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/records/{secret.record_id}")
    after = head.get(f"/records/{secret.record_id}").get_data(as_text=True)
    assert "Đã đổi độ mật văn bản thành “Mật”" in after
    assert kho.repo._load(secret.record_id).metadata.secrecy == 1  # type: ignore[union-attr]
    [event] = [e for e in kho.repo.audit.record_events(secret.record_id) if e.action == "record:update"]
    assert event.details["secrecy"] == {"from": 2, "to": 1, "reason": REASON}
    assert _denied_codes(kho, secret.record_id, people.actor("van_thu").user) == ["SECRECY_LOWER_DENIED"]
    assert _denied_codes(kho, secret.record_id, people.actor("lanh_dao").user) == ["SECRECY_REASON_REQUIRED"]


def test_a_clerk_does_not_move_a_document_to_a_unit_they_do_not_keep(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """On main the agency's văn thư moved a document to Phòng Tổng hợp by ``PATCH {"unit": …}``
    (200: the phòng's văn thư and lưu trữ viên then kept it, the agency's chuyên viên lost it),
    and a phòng's văn thư moved theirs up to the agency, where neither may register one. A văn
    thư of both units still moves it."""
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document(
        "den", incoming(code_number="703", issued_date="2026-03-02"), pdf_bytes("rv15 703"), "a.pdf", clerk
    )
    moved = _patch(client, doc, people.headers("van_thu"), changes={"unit": UNIT_B})
    assert moved.status_code == 403, moved.get_data(as_text=True)[:300]
    assert moved.json["error"]["code"] == "RECORD_MOVE_DENIED"
    assert UNIT_B in moved.json["error"]["message"] and "chuyển giao" in moved.json["error"]["message"]
    assert kho.repo._load(doc.record_id).version == doc.version

    own = kho.repo.create_document(
        "den",
        incoming(code_number="704", issued_date="2026-03-02"),
        pdf_bytes("rv15 704"),
        "b.pdf",
        people.actor("van_thu_b"),
    )
    up = _patch(client, own, people.headers("van_thu_b"), changes={"unit": AGENCY})
    assert up.status_code == 403 and up.json["error"]["code"] == "RECORD_MOVE_DENIED"
    assert _denied_codes(kho, doc.record_id, clerk.user) == ["RECORD_MOVE_DENIED"]
    assert _denied_codes(kho, own.record_id, people.actor("van_thu_b").user) == ["RECORD_MOVE_DENIED"]

    people.add("van_thu_ab", "Văn Thư Hai Đơn Vị", AGENCY, ("van_thu",), 3)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(people.usernames["van_thu_ab"], [(AGENCY, "van_thu"), (UNIT_B, "van_thu")], admin)
    both = _patch(client, doc, people.headers("van_thu_ab"), changes={"unit": UNIT_B})
    assert both.status_code == 200, both.get_data(as_text=True)[:300]
    assert both.json["metadata"]["unit"] == UNIT_B


def _logged_in(app: Flask, username: str) -> FlaskClient:
    web = app.test_client()
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    answer = web.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return web


def _page(web: FlaskClient, record_id: str) -> tuple[str, str]:
    answer = web.get(f"/records/{record_id}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    token = CSRF.search(html)
    assert token
    return html, token.group(1)


def test_a_hoso_is_still_corrected_by_its_holder(kho: Kho, people: People, client: FlaskClient) -> None:
    """A hồ sơ has no độ mật: its correction (``FILE_EDIT``) goes on as before, with or without
    a stray ``secrecy`` field, and is not taken for a declassification (a first version of this
    change read the hồ sơ's metadata for a level and failed every hồ sơ correction)."""
    file_id, _secret, _plain = file_with_a_secret(kho, people)
    hoso = kho.repo._load(file_id)
    title = "Hồ sơ khảo sát tuyến cầu mới"
    edited = _patch(client, hoso, people.headers("van_thu"), changes={"title": title})
    assert edited.status_code == 200, edited.get_data(as_text=True)[:300]
    assert edited.json["metadata"]["title"] == title
    [event] = [e for e in kho.repo.audit.record_events(file_id) if e.action == "record:update"]
    assert event.details == {"fields": ["title"], RECORD_UNIT: AGENCY}  # the version's unit (m59)
    again = kho.repo._load(file_id)
    stray = _patch(client, again, people.headers("chuyen_vien"), changes={"secrecy": 0})
    assert stray.status_code in (403, 404, 422), stray.get_data(as_text=True)[:300]
    assert kho.repo._load(file_id).version == again.version
