"""Web page forms leave a text's blankness to the service's one rule (review u21).

The pages (``web/pages/*``) stripped a typed text before calling the service, a second rule
beside :func:`repository.vocabulary.blank` (``str.strip`` keeps a zero-width space). The service
decides now; the page shows its Vietnamese message with a 4xx, never a 500, and nothing is
stored. Walked through the pages (Flask test client, logged in, real local store)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from kho_people import People
from kho_testing import incoming, pdf_bytes
from kho_web import logged_in, post, text

from web.context import Kho

INVISIBLE = ["\u200b", "\u2060\ufeff", " \u00ad\u200b ", "   "]


@pytest.mark.parametrize("reason", INVISIBLE)
def test_lowering_secrecy_on_the_record_page_needs_a_reason_that_shows(
    app: Flask, kho: Kho, people: People, reason: str
) -> None:
    secret = kho.repo.create_document(
        "den",
        incoming(code_number="743", issued_date="2026-03-02", secrecy=1),
        pdf_bytes("u21 743"),
        "mat.pdf",
        people.actor("van_thu"),
    )
    head = logged_in(app, people, "lanh_dao")
    page = f"/records/{secret.record_id}"
    answer = post(
        head,
        f"{page}/secrecy",
        {"secrecy": "0", "expected_version": str(secret.version), "reason": reason},
        page,
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    body = text(answer)
    assert "SECRECY_REASON_REQUIRED" in body and "căn cứ" in body, body[-2000:]
    stored = kho.repo._load(secret.record_id)
    assert stored.version == secret.version and stored.metadata.secrecy == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("title", INVISIBLE)
def test_a_hồ_sơ_made_on_the_files_page_needs_a_title_that_shows(
    app: Flask, kho: Kho, people: People, title: str
) -> None:
    officer = logged_in(app, people, "chuyen_vien")
    before = {r.record_id for r in kho.repo.records()}
    answer = post(
        officer,
        "/files",
        {
            "file_notation": "07.PTH",
            "title": title,
            "maintenance": "05 năm",
            "creator": "Phạm Minh Chính",
            "start_date": "05/01/2026",
            "description": "",
        },
        "/files",
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    assert "Tiêu đề" in text(answer) or "tiêu đề" in text(answer), text(answer)[-2000:]
    assert {r.record_id for r in kho.repo.records()} == before, "nothing stored"


@pytest.mark.parametrize("name", INVISIBLE)
def test_an_account_made_on_the_admin_page_needs_a_name_that_shows(
    app: Flask, kho: Kho, people: People, name: str
) -> None:
    admin = logged_in(app, people, "quan_tri")
    before = {a.username for a in kho.accounts.accounts()}
    answer = post(
        admin,
        "/admin/accounts",
        {"full_name": name, "unit": "000.00.18.H40", "roles": "chuyen_vien", "clearance": "0", "email": ""},
        "/admin/accounts",
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    body = text(answer)
    assert re.search(r"[Hh]ọ và tên", body), body[-2000:]
    assert {a.username for a in kho.accounts.accounts()} == before, "nothing stored"
