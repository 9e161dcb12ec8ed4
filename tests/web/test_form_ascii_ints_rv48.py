"""The pages' whole numbers (query strings and forms) read ASCII digits only, as the CLI's and
the configuration's do since u26 (:func:`kho.digits.ascii_int`). werkzeug's ``type=int`` is
Python's ``int()``: before review rv48 the accounts page created an account at clearance 2 from
"٢", a hồ sơ lost a document on an ``expected_version`` of Arabic-Indic digits, and the search
page and the register read "٢" and "٢٠٢٠" as page 2 and year 2020 (u26's notes left them open).
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_testing import incoming
from kho_web import ONCE, csrf, login, text

from web.context import Kho

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def test_the_accounts_page_refuses_a_clearance_not_in_ascii_digits(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    login(web, people, "quan_tri")
    before = {a.username for a in kho.accounts.accounts()}
    for typed in ("2".translate(ARABIC), "2".translate(WIDE), "0_2"):
        page = text(web.get("/admin/accounts"))
        once = ONCE.findall(page)
        form = {
            "full_name": "Nguyễn Văn Số",
            "unit": AGENCY,
            "roles": "chuyen_vien",
            "clearance": typed,
            "csrf_token": csrf(web, "/admin/accounts"),
            **({"once": once[-1]} if once else {}),
        }
        answer = web.post("/admin/accounts", data=form)
        assert 400 <= answer.status_code < 500, (typed, answer.status_code)
        body = text(answer)
        assert "Traceback" not in body and "“Được đọc văn bản mật đến mức” phải là số nguyên" in body, typed
    assert {a.username for a in kho.accounts.accounts()} == before


def test_removing_a_document_refuses_a_version_not_in_ascii_digits(
    app: Flask, kho: Kho, people: People
) -> None:
    clerk, worker = people.actor("van_thu"), people.actor("chuyen_vien")
    doc = kho.repo.create_document("den", incoming(code_number="31", page_amount=1), None, None, clerk)
    file = kho.repo.create_file(
        {
            "file_notation": "07.VP",
            "title": "Hồ sơ thử chữ số",
            "maintenance": "10 năm",
            "creator": "Phạm Minh Chính",
            "start_date": "01/03/2026",
        },
        worker,
    )
    file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=worker)
    web = app.test_client()
    login(web, people, "chuyen_vien")
    path = f"/files/{file.record_id}"
    answer = web.post(
        f"{path}/documents/{doc.record_id}/remove",
        data={"expected_version": str(file.version).translate(ARABIC), "csrf_token": csrf(web, path)},
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    assert "Traceback" not in text(answer) and "FIELD_INVALID" in text(answer)
    assert kho.repo.get(file.record_id, actor=worker).documents == (doc.record_id,)


def test_the_search_page_and_the_register_read_other_digits_as_no_number(
    app: Flask, kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    data = incoming(code_number="4417", page_amount=1, subject="Về việc thử chữ số Ả Rập")
    kho.repo.create_document("den", data, None, None, clerk)
    web = app.test_client()
    login(web, people, "van_thu")
    first = text(web.get("/search", query_string={"q": "4417", "page": "1"}))
    assert "4417" in first.split("<main", 1)[-1]
    for typed in ("2".translate(ARABIC), "2".translate(WIDE)):
        answer = web.get("/search", query_string={"q": "4417", "page": typed})
        # refused with its code (u27's typed_int), not read as page 2: "٢" is not a number
        assert answer.status_code == 422 and "PAGE_INVALID" in text(answer), typed
    plain = text(web.get("/registers", query_string={"series": "den", "year": "2020"}))
    other = text(web.get("/registers", query_string={"series": "den", "year": "2020".translate(ARABIC)}))
    assert "— năm 2020</h1>" in plain
    assert "— năm 2020</h1>" not in other and "Traceback" not in other
