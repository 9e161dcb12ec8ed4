"""The kiểm toán viên's processing report (Phụ lục VI V.2, V.4): totals only, through the policy.

The auditor's figures equal those of the văn thư's full report for the same unit and period, per
unit as well, yet no title, trích yếu or số/ký hiệu reaches them (page, PDF, XLSX, API); a
chuyên viên is refused; the policy gives the level (rows for văn thư/lãnh đạo, totals for the
auditor) and every read is audited.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_testing import incoming
from openpyxl import load_workbook
from pypdf import PdfReader

from kho.errors import PermissionDenied
from repository.policy import Principal, ReportDetail, Role, report_detail
from repository.workflow import Act
from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBJECTS = ("Về việc kiểm kê tài sản công", "Về việc tuyển dụng viên chức", "Về việc phòng chống lụt bão")


def test_the_policy_gives_rows_totals_or_nothing() -> None:
    def who(role: Role) -> Principal:
        return Principal(user="x", roles=frozenset({(AGENCY, role)}))

    assert report_detail(who(Role.VAN_THU))[1] is ReportDetail.ROWS
    assert report_detail(who(Role.LANH_DAO))[1] is ReportDetail.ROWS
    decision, level = report_detail(who(Role.KIEM_TOAN))
    assert decision.allowed and level is ReportDetail.TOTALS
    for role in (Role.CHUYEN_VIEN, Role.LUU_TRU, Role.QUAN_TRI):
        decision, level = report_detail(who(role))
        assert not decision.allowed and level is None and decision.code == "PERMISSION_DENIED"


def _documents(kho: Kho, people: People) -> list[str]:
    """Three incoming documents of the agency (one Mật) and one of Phòng Tổng hợp, each trình."""
    made = []
    for i, subject in enumerate(SUBJECTS):
        doc = kho.repo.create_document(
            "den",
            incoming(code_number=str(40 + i), subject=subject, secrecy=1 if i == 2 else 0),
            None,
            None,
            people.actor("van_thu"),
        )
        kho.handling.take(
            doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
            users=[people.usernames["lanh_dao"]],
        )
        made.append(doc.record_id)
    other = kho.repo.create_document(
        "den", incoming(code_number="77", subject="Về việc báo cáo quý"), None, None,
        people.actor("van_thu_b"),
    )
    kho.handling.take(
        other.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu_b"),
        users=[people.usernames["lanh_dao"]],
    )
    return [*made, other.record_id]


def test_auditor_totals_equal_the_clerks_full_report_without_its_rows(kho: Kho, people: People) -> None:
    _documents(kho, people)
    start, end = date(2000, 1, 1), kho.handling.today()
    full = kho.handling.report(people.actor("van_thu"), start, end, AGENCY)
    full_b = kho.handling.report(people.actor("van_thu_b"), start, end, UNIT_B)
    assert full["total"] == 3 and len(full["rows"]) == 3 and full_b["total"] == 1
    auditor = people.actor("kiem_toan")
    mine = kho.handling.report_totals(auditor, start, end, AGENCY)
    assert (mine["total"], mine["totals"]) == (full["total"], full["totals"])
    everything = kho.handling.report_totals(auditor, start, end)
    assert everything["total"] == 4
    assert everything["by_unit"][AGENCY] == {"total": 3, "totals": full["totals"]}
    assert everything["by_unit"][UNIT_B] == {"total": 1, "totals": full_b["totals"]}
    assert "rows" not in everything
    flat = repr(everything)
    assert not any(s in flat for s in (*SUBJECTS, "BNV-VP", "Công văn"))
    # Audited, with the figures' scope (not their content).
    [event] = [
        e for e in kho.repo.audit.events() if e.action == "handling:report-totals" and not e.details["unit"]
    ]
    assert event.actor == people.usernames["kiem_toan"] and event.details["total"] == 4
    # The full report is still refused to the auditor; both are refused to a chuyên viên.
    with pytest.raises(PermissionDenied):
        kho.handling.report(auditor, start, end)
    with pytest.raises(PermissionDenied):
        kho.handling.report_totals(people.actor("chuyen_vien"), start, end)


def _client(app: Flask, people: People, who: str) -> FlaskClient:
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    token = CSRF.search(page)
    assert token
    answer = web.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302
    return web


def test_the_audit_section_page_exports_and_api(kho: Kho, people: People, monkeypatch: Any) -> None:
    _documents(kho, people)
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    app = create_app(kho.settings, kho=kho)
    web = _client(app, people, "kiem_toan")
    assert "/audit/handling-reports" in web.get("/audit").get_data(as_text=True)
    page = web.get("/audit/handling-reports?start=01/01/2000")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="tong-hop"' in body and "Phòng Tổng hợp" in body
    table = body.split('id="tong-hop"')[1].split("</table>")[0]
    assert "<td>4</td>" in table
    assert not any(s in body for s in (*SUBJECTS, "BNV-VP"))
    pdf = web.get("/audit/handling-reports?start=01/01/2000&format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT VĂN BẢN ĐẾN" in pdf_text and "Phòng Tổng hợp" in pdf_text
    assert not any(s in pdf_text for s in SUBJECTS)
    xlsx = web.get("/audit/handling-reports?start=01/01/2000&format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Tổng số")
    assert rows[header + 1][0] == 4
    units = {r[0]: r[1] for r in rows if r and r[0] in ("Ủy ban nhân dân tỉnh Ninh Bình", "Phòng Tổng hợp")}
    assert units == {"Ủy ban nhân dân tỉnh Ninh Bình": "3", "Phòng Tổng hợp": "1"}
    assert not any(s in repr(rows) for s in SUBJECTS)
    assert any(e.action == "handling:report-totals:export" for e in kho.repo.audit.events())
    bad = web.get("/audit/handling-reports?start=31/02/2026")
    assert bad.status_code == 422 and "Ngày không hợp lệ" in bad.get_data(as_text=True)
    assert web.get("/audit/handling-reports?format=doc").status_code == 422
    clerk = _client(app, people, "chuyen_vien")
    assert clerk.get("/audit/handling-reports").status_code == 403
    # The API: the same figures, by unit with Vietnamese names.
    api = app.test_client()
    answer = api.get("/api/audit/handling-report?start=2000-01-01", headers=people.headers("kiem_toan"))
    assert answer.status_code == 200, answer.json
    data = answer.json
    assert data["total"] == 4 and {u["name"]: u["total"] for u in data["by_unit"]} == {
        "Ủy ban nhân dân tỉnh Ninh Bình": 3,
        "Phòng Tổng hợp": 1,
    }
    refused = api.get("/api/audit/handling-report", headers=people.headers("chuyen_vien"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "PERMISSION_DENIED"
    unknown = api.get("/api/audit/handling-report?unit=x", headers=people.headers("kiem_toan"))
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "UNIT_NOT_FOUND"


def test_kho_audit_handling_report(kho: Kho, people: People) -> None:
    import json

    from click.testing import CliRunner

    from web.cli import main

    _documents(kho, people)
    runner = CliRunner()
    for who in ("kiem_toan", "chuyen_vien"):
        login = runner.invoke(
            main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n"
        )
        assert login.exit_code == 0, login.output
        answer = runner.invoke(main, ["audit", "handling-report", "--start", "01/01/2000", "--json"])
        if who == "kiem_toan":
            assert answer.exit_code == 0, answer.output
            data = json.loads(answer.output)
            assert data["total"] == 4 and {u["name"]: u["total"] for u in data["by_unit"]} == {
                "Ủy ban nhân dân tỉnh Ninh Bình": 3, "Phòng Tổng hợp": 1}
            assert not any(s in answer.output for s in SUBJECTS)
        else:
            assert answer.exit_code != 0 and "PERMISSION_DENIED" in answer.output
