"""Review r13 of g1's one-time forms (``web.pages.common.once_token``): what a form that the
session does not (or no longer) recognise is answered, and bad input in the fields checked with
``hmac.compare_digest``."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_web import ONCE, csrf, login, text

from web.context import Kho
from web.pages.common import ONCE_KEEP


def _create_form(web: FlaskClient, page: str) -> dict[str, str]:
    return {
        "full_name": "Nguyễn Văn Cũ",
        "unit": AGENCY,
        "roles": "chuyen_vien",
        "clearance": "0",
        "csrf_token": csrf(web, "/admin/accounts"),
        "once": ONCE.findall(page)[-1],
    }


def test_a_form_from_a_page_opened_long_ago_is_not_said_to_be_done(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    """g1 kept the last 16 tokens of the session and answered every other token "this form was
    sent and the action done". A tab opened before 16 other pages of accounts (locks, unlocks,
    resets…) was told that an account was created, or a reset made, when nothing was done."""
    login(web, people, "quan_tri")
    old_tab = text(web.get("/admin/accounts"))
    for _ in range(ONCE_KEEP + 1):
        web.get("/admin/accounts")  # other work in other tabs
    before = len(kho.accounts.accounts())
    answer = web.post("/admin/accounts", data=_create_form(web, old_tab))
    assert answer.status_code == 409, text(answer)
    body = text(answer)
    assert "đã được thực hiện" not in body, body  # it was not
    assert "Không thực hiện" in body and "đã cũ" in body
    assert len(kho.accounts.accounts()) == before
    # A reload of an answer just given is still told that it was done.
    fresh = text(web.get("/admin/accounts"))
    form = _create_form(web, fresh)
    assert web.post("/admin/accounts", data=form).status_code == 201
    again = web.post("/admin/accounts", data=form)
    assert again.status_code == 409 and "đã được gửi và thao tác đã được thực hiện" in text(again)
    assert len(kho.accounts.accounts()) == before + 1


def test_a_once_or_csrf_field_that_is_not_ascii_is_refused_not_a_500(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    """``hmac.compare_digest`` raises TypeError on a str with non-ASCII characters: the field
    sent ("ạ") made a 500 with a traceback instead of a refusal."""
    login(web, people, "quan_tri")
    page = text(web.get("/admin/accounts"))
    before = len(kho.accounts.accounts())
    form = {**_create_form(web, page), "once": "mẫu-ạ"}
    answer = web.post("/admin/accounts", data=form)
    assert answer.status_code == 409, text(answer)
    assert re.search(r"Không thực hiện", text(answer))
    forged = web.post("/admin/accounts", data={**_create_form(web, page), "csrf_token": "mã-ạ"})
    assert forged.status_code == 400
    assert len(kho.accounts.accounts()) == before


def test_the_confirmer_is_shown_the_units_by_name(web: FlaskClient, people: People, kho: Kho) -> None:
    """The confirmation page asks the lãnh đạo to check "the person is real and the roles are
    right"; g1 showed each role's unit as its code ("chuyên viên (000.00.18.H40)")."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    made, _ = kho.accounts.create_account("Nguyễn Văn Mới", AGENCY, ["chuyen_vien"], 0, None, admin)
    login(web, people, "lanh_dao")
    listed = text(web.get("/admin/resets"))
    row = listed[listed.index(made.username) :]
    row = row[: row.index("</tr>")]
    assert "chuyên viên (Ủy ban nhân dân tỉnh Ninh Bình)" in row, row
