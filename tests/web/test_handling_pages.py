"""The handling pages through Flask's test client: the leader directs, the unit head assigns,
the handler works, with CSRF; a conflict and a past deadline are shown in Vietnamese; the
reports come out as PDF and XLSX from the same data."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, UNIT_B, People, create_person
from kho_testing import incoming
from openpyxl import load_workbook
from pypdf import PdfReader

from repository.workflow import Act
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def login(client: FlaskClient, people: People, who: str) -> Any:
    return client.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": csrf(client)}
    )


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def _head_b(kho: Kho, people: People) -> str:
    accounts = kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    account, _ = create_person(accounts, "Vũ Đức Đam", UNIT_B, ("lanh_dao",), 0, None, admin)
    people.usernames["head_b"] = account.username
    return account.username


def _form(web: FlaskClient, path: str, data: dict[str, object]) -> object:
    token = csrf(web, path)
    page = text(web.get(path))
    seq = re.search(r'name="expected_seq" value="(\d+)"', page)
    assert seq, page[:2000]
    return web.post(path, data={"csrf_token": token, "expected_seq": seq.group(1), **data})


def test_leader_directs_head_assigns_handler_reports_through_the_pages(
    web: FlaskClient, kho: Kho, people: People
) -> None:
    head = _head_b(kho, people)
    doc = kho.repo.create_document("den", incoming(urgency=3), None, None, people.actor("van_thu"))
    path = f"/handling/{doc.record_id}"
    login(web, people, "van_thu")
    response = _form(
        web, path, {"act": "submit", "users": people.usernames["lanh_dao"], "note": "Kính trình"}
    )
    assert response.status_code == 302
    web.post("/logout", data={"csrf_token": csrf(web, "/")})

    login(web, people, "lanh_dao")
    assert 'id="home-inbox">1<' in text(web.get("/"))
    work = text(web.get("/work"))
    assert "Hỏa tốc" in work and doc.record_id in work
    # A past deadline: refused with its code, in Vietnamese, the form shown again.
    bad = _form(web, path, {"act": "direct", "units": UNIT_B, "deadline": "2020-01-01"})
    assert bad.status_code == 422 and "DEADLINE_IN_PAST" in text(bad) and "đã qua" in text(bad)
    # A stale page (someone recorded a step since): conflict, nothing written.
    token = csrf(web, path)
    stale = web.post(
        path,
        data={
            "csrf_token": token,
            "expected_seq": "0",
            "act": "direct",
            "units": UNIT_B,
            "deadline": "2099-01-05",
        },
    )
    assert stale.status_code == 409 and "WORKFLOW_CONFLICT" in text(stale)
    ok = _form(web, path, {"act": "direct", "units": UNIT_B, "deadline": "2099-01-05", "note": "PTH chủ trì"})
    assert ok.status_code == 302
    assert "PTH chủ trì" in text(web.get(path))
    web.post("/logout", data={"csrf_token": csrf(web, "/")})

    login(web, people, "head_b")
    assert (
        _form(
            web, path, {"act": "assign", "task": "1", "users": people.usernames["chuyen_vien_b"]}
        ).status_code
        == 302
    )
    web.post("/logout", data={"csrf_token": csrf(web, "/")})

    login(web, people, "chuyen_vien_b")
    assert 'id="c-open">1<' in text(web.get("/work"))
    assert _form(web, path, {"act": "progress", "task": "1", "note": "Đang dự thảo"}).status_code == 302
    denied = _form(web, path, {"act": "approve_done", "task": "1"})
    assert denied.status_code in (403, 422)
    _, state = kho.handling.state(doc.record_id, actor=people.actor("lanh_dao"))
    assert state.status == "in_progress" and state.progress == "Đang dự thảo"
    assert head in {s.actor for s in state.steps if s.act is Act.ASSIGN}


def test_reports_as_pdf_and_xlsx_from_the_same_data(web: FlaskClient, kho: Kho, people: People) -> None:
    doc = kho.repo.create_document("den", incoming(), None, None, people.actor("van_thu"))
    kho.handling.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    login(web, people, "van_thu")
    page = web.get("/handling/reports?start=2000-01-01")
    assert page.status_code == 200 and 'id="thong-ke"' in text(page)
    pdf = web.get("/handling/reports?start=2000-01-01&format=pdf")
    assert pdf.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN" in pdf_text and doc.metadata.subject[:20] in pdf_text
    xlsx = web.get("/handling/reports?start=2000-01-01&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    summary_header = next(i for i, r in enumerate(values) if r[0] == "Tổng số")
    assert values[summary_header + 1][0] == 1 and values[summary_header + 1][3] == 1  # 1 total, open in time
    assert any(r[0] == doc.registration.display_number for r in values)
    assert any(e.action == "handling:report:export" for e in kho.repo.audit.events())
    bad = web.get("/handling/reports?start=hôm-qua")
    assert bad.status_code == 422 and "Ngày không hợp lệ" in text(bad)
    web.post("/logout", data={"csrf_token": csrf(web, "/")})
    login(web, people, "chuyen_vien")
    assert web.get("/handling/reports").status_code == 403


def test_the_api_takes_steps_and_refuses_bad_input_with_codes(app: Flask, kho: Kho, people: People) -> None:
    api = app.test_client()
    doc = kho.repo.create_document("den", incoming(), None, None, people.actor("van_thu"))
    url = f"/api/handling/{doc.record_id}/steps"
    bad = api.post(url, json={"act": "bay", "expected_seq": 0}, headers=people.headers("van_thu"))
    assert bad.status_code == 422 and bad.json["error"]["code"] == "FIELD_INVALID"
    bad = api.post(url, json={"act": "submit", "expected_seq": "0"}, headers=people.headers("van_thu"))
    assert bad.status_code == 422 and bad.json["error"]["code"] == "FIELD_INVALID"
    ok = api.post(
        url,
        json={"act": "submit", "expected_seq": 0, "users": [people.usernames["lanh_dao"]]},
        headers=people.headers("van_thu"),
    )
    assert ok.status_code == 201 and ok.json["status"] == "submitted" and ok.json["seq"] == 1
    again = api.post(
        url,
        json={"act": "submit", "expected_seq": 0, "users": [people.usernames["lanh_dao"]]},
        headers=people.headers("van_thu"),
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "WORKFLOW_CONFLICT"
    past = api.post(
        url,
        json={"act": "direct", "expected_seq": 1, "units": [UNIT_B], "deadline": "2001-01-01"},
        headers=people.headers("lanh_dao"),
    )
    assert past.status_code == 422 and past.json["error"]["code"] == "DEADLINE_IN_PAST"
    work = api.get("/api/work", headers=people.headers("lanh_dao")).json
    assert work["counts"]["to_direct"] == 1
    shown = api.get(f"/api/handling/{doc.record_id}", headers=people.headers("chuyen_vien_b"))
    assert shown.status_code == 404  # not distributed to them: the answer of an absent id (a15)
    report = api.get("/api/handling/report?start=2000-01-01&kind=x", headers=people.headers("van_thu"))
    assert report.status_code == 422
    report = api.get("/api/handling/report?start=2000-01-01", headers=people.headers("van_thu")).json
    assert report["total"] == 1 and report["totals"]["open_in_time"] == 1
