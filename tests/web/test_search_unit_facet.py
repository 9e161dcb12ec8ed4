"""The đơn vị facet in the search page's sidebar and the API: counts per owner unit, shown with
the unit's Vietnamese name (never its mã định danh), over what the searcher may see; following
the facet's link filters by that unit."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_testing import incoming

from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _documents(kho: Kho, people: People) -> None:
    for number in ("31", "32"):
        kho.repo.create_document(
            "den", incoming(code_number=number, subject="Về việc kiểm kê kho lưu trữ"), None, None,
            people.actor("van_thu"),
        )
    kho.repo.create_document(
        "den", incoming(code_number="33", subject="Về việc kiểm kê kho lưu trữ"), None, None,
        people.actor("van_thu_b"),
    )


def _login(web: FlaskClient, people: People, who: str) -> None:
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    answer = web.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302


def test_the_sidebar_counts_documents_per_unit_by_name(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    _documents(kho, people)
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    app = create_app(kho.settings, kho=kho)
    web = app.test_client()
    _login(web, people, "lanh_dao")  # leads the agency, so sees both units' documents
    body = html.unescape(web.get("/search?q=kiem+ke+kho").get_data(as_text=True))
    sidebar = body.split("<h3>Đơn vị</h3>")[1].split("</ul>")[0]
    assert "Ủy ban nhân dân tỉnh Ninh Bình</a> (2)" in sidebar and "Phòng Tổng hợp</a> (1)" in sidebar
    assert AGENCY not in sidebar.replace(f"unit={AGENCY}", "")  # ids only inside the links
    link = re.search(r'href="([^"]+)">Phòng Tổng hợp</a>', sidebar)
    assert link and parse_qs(urlsplit(link.group(1)).query)["unit"] == [UNIT_B]
    narrowed = html.unescape(web.get("/search" + link.group(1)).get_data(as_text=True))
    assert "Phòng Tổng hợp</a> (1)" in narrowed and "tỉnh Ninh Bình</a> (2)" not in narrowed
    # Another unit's văn thư: only their own unit is counted.
    other = app.test_client()
    _login(other, people, "van_thu_b")
    theirs = html.unescape(other.get("/search?q=kiem+ke+kho").get_data(as_text=True))
    assert "Phòng Tổng hợp</a> (1)" in theirs and "Ủy ban nhân dân tỉnh Ninh Bình</a>" not in theirs


def test_the_api_returns_the_unit_facet_with_names(kho: Kho, people: People, client: FlaskClient) -> None:
    _documents(kho, people)
    answer = client.get("/api/search?q=kiem+ke+kho", headers=people.headers("lanh_dao"))
    assert answer.status_code == 200
    [unit] = [f for f in answer.json["facets"] if f["name"] == "unit"]
    assert {(v["value"], v["label"], v["count"]) for v in unit["values"]} == {
        (AGENCY, "Ủy ban nhân dân tỉnh Ninh Bình", 2),
        (UNIT_B, "Phòng Tổng hợp", 1),
    }
    [direction] = [f for f in answer.json["facets"] if f["name"] == "direction"]
    assert direction["values"][0]["label"] == "Văn bản đến"
