"""Kiểm toán viên: the audit query exported with its signed checkpoint (CSV, PDF), and access
statistics per person, unit and action for a period (III.6.a, b), exported as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, People, create_person
from kho_testing import incoming, pdf_bytes
from kho_web import csrf, login, logout, register_one, text
from pypdf import PdfReader

from repository.anchor import Anchor, generate_key, make_checkpoint


def test_the_audit_query_is_exported_with_its_checkpoint(
    web: FlaskClient, people: People, signed: dict[str, bytes], tmp_path: Path
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    web.get(path + "/download")
    logout(web)
    repo = people.kho.repo
    key = tmp_path / "audit.key"
    generate_key(key)
    repo.anchor = Anchor(signing_key=key)
    checkpoint = make_checkpoint(repo.store, repo.anchor)
    login(web, people, "kiem_toan")
    query = f"action=content:download&user={people.usernames['van_thu']}"
    assert "/audit/export.csv?" in text(web.get("/audit?" + query))
    exported = web.get("/audit/export.csv?" + query)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    flat = [c for row in rows for c in row]
    assert f"Điểm mốc đã ký số {checkpoint['number']} lúc {checkpoint['at']}" in flat
    assert any(checkpoint["head"] in c for c in flat)
    body = [r for r in rows if len(r) == 7 and r[0].isdigit()]
    assert len(body) == 1 and body[0][2] == people.usernames["van_thu"] and "Tải bản gốc" in body[0][3]
    download = next(iter(repo.audit.query(action="content:download")))
    assert body[0][6] == download.hash  # each row carries its chain hash
    pdf = web.get("/audit/export.pdf?" + query)
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "TRÍCH XUẤT NHẬT KÝ" in pdf_text and f"Điểm mốc đã ký số {checkpoint['number']}" in pdf_text
    assert web.get("/audit/export.xml?" + query).status_code == 422
    assert [e.details["format"] for e in repo.audit.query(action="audit:export")] == ["csv", "pdf"]
    logout(web)
    login(web, people, "van_thu")
    assert web.get("/audit/export.csv?" + query).status_code == 403


def test_the_audit_page_and_its_exports_mark_the_events_an_auditor_may_not_read(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """An auditor cleared for Thường sees the events of a Mật document on the audit page and in
    its CSV export at their place, marked as withheld, without the document's id."""
    accounts = people.kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    low, _ = create_person(accounts, "Đinh Văn Soát", AGENCY, ["kiem_toan"], 0, None, admin)
    clerk = people.actor("van_thu")
    secret = people.kho.repo.create_document("den", incoming(secrecy=2), pdf_bytes("mat"), "mat.pdf", clerk)
    people.kho.repo.get(secret.record_id, actor=clerk)
    token = csrf(web)
    web.post("/login", data={"username": low.username, "password": PASSWORD, "csrf_token": token})
    query = f"user={people.usernames['van_thu']}"
    page_text = text(web.get("/audit?" + query))
    assert "(đã ẩn: vượt mức tiếp cận)" in page_text and secret.record_id[-8:] not in page_text
    exported = web.get("/audit/export.csv?" + query)
    assert exported.status_code == 200
    body = exported.data.decode("utf-8-sig")
    assert "(đã ẩn: vượt mức tiếp cận)" in body and secret.record_id not in body


def test_access_statistics_count_per_person_unit_and_action(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    web.get(path + "/download")
    web.get(path + "/download")
    logout(web)
    login(web, people, "kiem_toan")
    page = text(web.get("/audit/stats?since=01/01/2020&until=31/12/2099"))
    assert "lượt truy cập" in page and "Tải bản gốc" in page and "Ủy ban nhân dân tỉnh Ninh Bình" in page
    exported = web.get("/audit/stats.csv?since=01/01/2020&until=31/12/2099")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [people.usernames["van_thu"], "Tải bản gốc (content:download)", "2"] in rows
    assert any(r[:1] == ["Ủy ban nhân dân tỉnh Ninh Bình"] for r in rows)
    assert AGENCY not in [r[0] for r in rows if r]  # units by name, not code
    assert web.get("/audit/stats?since=31/12/2026&until=01/01/2026").status_code == 422
    assert list(people.kho.repo.audit.query(action="stats:export"))
    logout(web)
    login(web, people, "chuyen_vien")
    assert web.get("/audit/stats?since=01/01/2026").status_code == 403
