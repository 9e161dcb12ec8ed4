"""The retention pages through Flask's test client: a plan drafted from lines (periods proposed
by the schedule), refused to the wrong role, approved and issued by the head, printed, a hồ sơ
opened from its row, a refused close shown with its code, the archivist's inbox closed to others."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming
from openpyxl import load_workbook
from pypdf import PdfReader

from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def login(client: FlaskClient, people: People, who: str) -> Any:
    data = {"username": people.usernames[who], "password": PASSWORD, "csrf_token": csrf(client)}
    return client.post("/login", data=data)


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def web(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    app: Flask = create_app(kho.settings, kho=kho)
    return app.test_client()


def test_plan_pages_from_draft_to_an_opened_hoso(web: FlaskClient, people: People, kho: Kho) -> None:
    import io

    year = 2099
    login(web, people, "van_thu")
    form = {
        "year": str(year),
        "headings": "I | Tổng hợp | TH\nII | Tổ chức cán bộ | TCCB",
        "items": "01.TH | Báo cáo tổng kết năm | | Văn phòng | I\n"
        "02.TH | Hồ sơ đấu thầu mua sắm thiết bị | | Văn phòng | I\n"
        "03.TCCB | Hồ sơ bổ nhiệm | 70 năm | Phòng TCCB | II | mật",
    }
    bad = post(web, "/plans", {**form, "items": "1.TH | X | 10 năm | VP | I"}, "/plans")
    assert bad.status_code == 422 and "PLAN_NOTATION_INVALID" in html.unescape(text(bad))
    drafted = post(web, "/plans", form, "/plans")
    assert drafted.status_code == 302 and drafted.headers["Location"].endswith(f"/plans/{year}")
    plan = kho.retention.plan(year)
    assert [i.retention.label for i in plan.items] == ["Vĩnh viễn", "20 năm", "70 năm"], (
        "proposed from the schedule"
    )
    shown = text(web.get(f"/plans/{year}"))
    assert "Dự thảo" in shown and "Phê duyệt danh mục" not in shown, "no approve button for the văn thư"
    forged = post(web, f"/plans/{year}/approve", {"expected_version": "1"}, f"/plans/{year}")
    assert forged.status_code == 302
    assert "PERMISSION_DENIED" in html.unescape(text(web.get(f"/plans/{year}")))
    assert kho.retention.plan(year).state.value == "draft"

    web.post("/logout", data={"csrf_token": csrf(web, "/")})
    login(web, people, "lanh_dao")
    for version in ("1", "2"):
        step = "approve" if version == "1" else "issue"
        post(web, f"/plans/{year}/{step}", {"expected_version": version}, f"/plans/{year}")
    assert kho.retention.plan(year).state.value == "issued"
    pdf = web.get(f"/plans/{year}.pdf")
    assert pdf.mimetype == "application/pdf"
    printed = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "01.TH" in printed and "03 hồ sơ" in printed and "01 hồ sơ bảo quản vĩnh viễn" in printed
    sheet = load_workbook(io.BytesIO(web.get(f"/plans/{year}.xlsx").data)).active
    assert any("02.TH" in str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)

    web.post("/logout", data={"csrf_token": csrf(web, "/")})
    login(web, people, "chuyen_vien")
    opened = post(web, f"/plans/{year}/open", {"notation": "03.TCCB"}, f"/plans/{year}")
    assert opened.status_code == 302 and "/files/" in opened.headers["Location"]
    file_path = opened.headers["Location"]
    page = text(web.get(file_path))
    assert "Đang lập" in page and "Kết thúc hồ sơ" in page
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version
    refused = post(
        web, file_path + "/close", {"end_date": "01/01/2099", "expected_version": version.group(1)}, file_path
    )
    assert refused.status_code == 302
    after = html.unescape(text(web.get(file_path)))
    assert "FILE_EMPTY" in after and "Hồ sơ chưa có văn bản nào" in after and "Đang lập" in after
    assert web.get("/archive").status_code == 403


def test_the_admin_edits_the_schedule_page_as_a_new_audited_version(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    login(web, people, "chuyen_vien")
    assert "Lưu phiên bản mới" not in text(web.get("/retention/schedule"))
    web.post("/logout", data={"csrf_token": csrf(web, "/")})
    login(web, people, "quan_tri")
    shown = text(web.get("/retention/schedule"))
    lines = html.unescape(
        re.search(r'<textarea id="s-lines" name="lines" rows="14">(.*?)</textarea>', shown, re.S).group(1)
    )  # type: ignore[union-attr]
    assert "TCCB.02 | Hồ sơ bổ nhiệm, kỷ luật, giải quyết chế độ | 70 năm" in lines
    bad = post(
        web,
        "/retention/schedule",
        {"lines": lines + "\nX | Y | mãi mãi", "note": "Thử", "expected_version": "1"},
        "/retention/schedule",
    )
    assert bad.status_code == 422 and "RETENTION_INVALID" in html.unescape(text(bad))
    ok = post(
        web,
        "/retention/schedule",
        {
            "lines": lines + "\nVP.09 | Hồ sơ hội nghị | Vĩnh viễn | hội nghị",
            "note": "Bổ sung theo TT 10/2022",
            "expected_version": "1",
        },
        "/retention/schedule",
    )
    assert ok.status_code == 302
    assert kho.retention.schedule().version == 2 and kho.retention.schedule().entries[-1].code == "VP.09"
    assert any(
        e.action == "retention:schedule-edit" and e.actor == people.usernames["quan_tri"]
        for e in kho.repo.audit.events()
    )


def test_the_head_keeps_a_closed_hoso_from_its_page_within_two_years(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    from datetime import date, timedelta

    from kho.timeutil import utcnow, vn_date

    today = vn_date(utcnow())
    service = kho.retention
    plan = service.draft_plan(
        {
            "year": today.year,
            "headings": [{"number": "I", "title": "Tổng hợp", "abbreviation": "TH"}],
            "items": [
                {
                    "notation": "01.TH",
                    "title": "Hồ sơ A",
                    "maintenance": "10 năm",
                    "creator": "VP",
                    "heading": "I",
                }
            ],
        },
        actor=people.actor("van_thu"),
    )
    plan = service.approve_plan(plan.year, expected_version=1, actor=people.actor("lanh_dao"))
    service.issue_plan(plan.year, expected_version=2, actor=people.actor("lanh_dao"))
    worker = people.actor("chuyen_vien")
    file = service.open_file(plan.year, "01.TH", actor=worker, start_date=today - timedelta(days=3))
    doc = kho.repo.create_document(
        "den",
        {
            **incoming(code_number="77"),
            "issued_date": today.isoformat(),
            "arrival_date": today.isoformat(),
        },
        None,
        None,
        people.actor("van_thu"),
    )
    file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=worker)
    file = service.close_file(file.record_id, end_date=today, expected_version=file.version, actor=worker)
    login(web, people, "lanh_dao")
    path = f"/files/{file.record_id}"
    assert "Duyệt giữ lại hồ sơ" in text(web.get(path))
    due = date(today.year + 1, today.month, min(today.day, 28))
    too_long = (due + timedelta(days=3 * 365)).strftime("%d/%m/%Y")
    post(
        web,
        path + "/keep",
        {"until": too_long, "reason": "Còn thanh tra", "expected_version": str(file.version)},
        path,
    )
    assert "KEEP_TOO_LONG" in html.unescape(text(web.get(path)))
    ok_until = (due + timedelta(days=200)).strftime("%d/%m/%Y")
    post(
        web,
        path + "/keep",
        {"until": ok_until, "reason": "Còn thanh tra", "expected_version": str(file.version)},
        path,
    )
    assert kho.repo._load(file.record_id).extra["keep_approved_by"] == people.usernames["lanh_dao"]
