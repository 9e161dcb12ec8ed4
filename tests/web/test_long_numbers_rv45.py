"""A number of more than 4,300 digits in a query parameter or a form field is refused like any
other bad number. Python's ``int()`` refuses such a text with a ValueError: before review rv45
``?page=`` with 5,000 nines (or zeros and a one) was a 500 on every paged list of the API, and
the accounts page's clearance form a 500 page. Both now read numbers with
:func:`kho.digits.ascii_int` (ASCII digits, bounded), the codebase's one rule for them."""

from __future__ import annotations

import inspect
import unicodedata

from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_web import login, post, text

from web.app import create_app
from web.context import Kho

LONG = ["9" * 5000, "0" * 5000 + "1"]


def test_every_paged_list_refuses_a_page_number_of_5000_digits(kho: Kho, people: People) -> None:
    app = create_app(kho.settings, kho=kho)
    client = app.test_client()
    lists = [
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
        and "GET" in r.methods
        and not r.arguments
        and "_paged(" in inspect.getsource(app.view_functions[r.endpoint])
    ]
    assert len(lists) >= 6, lists
    faults = []
    for rule in lists:
        for who in ("quan_tri", "van_thu", "luu_tru"):
            for value in LONG:
                for name in ("page", "page_size"):
                    answer = client.get(rule, query_string={name: value}, headers=people.headers(who))
                    error = (answer.json or {}).get("error") or {}
                    if answer.status_code in (401, 403):
                        continue
                    if answer.status_code != 422 or error.get("code") != "PAGE_INVALID":
                        faults.append(f"{rule}?{name}={value[:4]}… as {who}: {answer.status_code} {error}")
                    elif not unicodedata.is_normalized("NFC", error["message"]):
                        faults.append(f"{rule}: message not NFC")
    assert not faults, "\n".join(faults[:20])


def test_the_clearance_form_refuses_a_level_of_5000_digits(
    kho: Kho, people: People, app: Flask, web: FlaskClient
) -> None:
    target = people.usernames["chuyen_vien"]
    before = kho.accounts.get(target).clearance
    assert login(web, people, "quan_tri").status_code == 302
    for value in LONG:
        answer = post(web, f"/admin/accounts/{target}/clearance", {"clearance": value}, "/admin/accounts")
        assert 400 <= answer.status_code < 500, (answer.status_code, text(answer)[:300])
        assert "Traceback" not in text(answer)
    assert kho.accounts.get(target).clearance == before
