"""Review rv12 of a20's refusal of audited GETs that another site starts (:mod:`web.cross_site`).

* ``Sec-Fetch-Site: same-site`` is another host of the same registrable domain: the agency's
  webmail or portal on a sibling subdomain, where a link is exactly as foreign as on any other
  site. It is refused like ``cross-site`` (a20 served it); so is a value the fetch standard does
  not define.
* A link to a record *page* opened from another site answers a page that says so and offers
  one link, "Tiếp tục mở trong Kho", to the same address; a click there is ``same-origin``.
  The page cannot be framed (the link cannot be clickjacked). A download's refusal offers no
  such link; the API's refusal stays JSON.
* A login page opened from another site with ``next`` pointing at a download: the login's
  redirect is ``same-origin`` and, before rv12, carried out the other site's choice (the file
  downloaded and audited under the person's name). It now leads to the page offering the
  address, and a file route is not offered at all."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import CSRF, login, recorded_acts, register_one

from web.context import Kho

CROSS = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
SIBLING = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate", "Referer": "https://mail.example.gov.vn/"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CONTINUE = re.compile(r'<a class="button" id="continue" href="([^"]+)">Tiếp tục mở trong Kho</a>')


def _record(web: FlaskClient, people: People, signed: dict[str, bytes]) -> str:
    login(web, people, "van_thu")
    return register_one(web, signed["valid"])


def _unescape(href: str) -> str:
    return href.replace("&amp;", "&")


def test_a_link_from_a_sibling_subdomain_is_refused_like_another_site(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    web = app.test_client()
    record = _record(web, people, signed)
    before = recorded_acts(kho)
    for headers in (SIBLING, {"Sec-Fetch-Site": "cross-origin"}, {"Sec-Fetch-Site": " Same-Site "}):
        for path in (record + "/download", record, "/registers/export.xlsx?series=den&year=2026"):
            answer = web.get(path, headers=headers)
            assert answer.status_code == 403, (headers, path, answer.status_code)
            assert answer.headers["X-Kho-Error"] == "CROSS_SITE_REFUSED", (headers, path)
    assert recorded_acts(kho) == before  # nothing recorded: no download, view or export was done
    assert web.get(record + "/download", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_a_record_page_link_from_another_site_offers_to_continue_in_kho_unframeable(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    web = app.test_client()
    record = _record(web, people, signed)
    before = recorded_acts(kho)
    for path in (record, "/registers?series=den&year=2026"):
        refused = web.get(path, headers=CROSS)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 403 and refused.headers["X-Kho-Error"] == "CROSS_SITE_REFUSED"
        assert "liên kết trên trang web khác" in body
        found = CONTINUE.search(body)
        assert found, body
        assert _unescape(found.group(1)) == path  # the same address, on Kho
        # The page cannot be put in another site's frame, so the button cannot be clickjacked.
        assert refused.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in refused.headers["Content-Security-Policy"]
    assert recorded_acts(kho) == before
    # The click on Kho's own page: same-origin, a conscious act, served and audited.
    opened = web.get(record, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"})
    assert opened.status_code == 200
    new = recorded_acts(kho)[len(before):]
    assert "record:view" in [a for _, a in new], new

    # A download started by the link itself: the refusal, and no link to carry it out.
    download = web.get(record + "/download", headers=CROSS)
    assert download.status_code == 403 and download.headers["X-Kho-Error"] == "CROSS_SITE_REFUSED"
    assert "Tiếp tục mở trong Kho" not in download.get_data(as_text=True)
    assert download.headers["X-Frame-Options"] == "DENY"
    # The API answers its JSON refusal as before.
    record_id = record.rstrip("/").rsplit("/", 1)[1]
    api = app.test_client().get(f"/api/records/{record_id}", headers={**people.headers("van_thu"), **CROSS})
    assert api.status_code == 403 and api.is_json
    assert api.json["error"]["code"] == "CROSS_SITE_REFUSED"


def _login_from(web: FlaskClient, people: People, next_path: str) -> str:
    """Open the login page from another site with ``next``, log in as the browser would (the
    form's own fields), and answer where the login sends the person."""
    form = web.get("/login", query_string={"next": next_path}, headers=CROSS).get_data(as_text=True)
    fields = dict(HIDDEN.findall(form))
    assert CSRF.search(form) and fields.get("next") == next_path, fields
    done = web.post(
        "/login",
        data={**fields, "username": people.usernames["van_thu"], "password": PASSWORD},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert done.status_code == 302, done.status_code
    return done.headers["Location"]


def test_a_login_opened_from_another_site_does_not_carry_out_its_next_address(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = app.test_client()
    record = _record(clerk, people, signed)
    web = app.test_client()
    before = recorded_acts(kho)
    # The other site's choice is a download: after the login, no download and no link to it.
    where = _login_from(web, people, record + "/download")
    landed = web.get(where, headers={"Sec-Fetch-Site": "same-origin"})  # the redirect after the POST
    assert landed.status_code == 200 and landed.mimetype == "text/html", (where, landed.status_code)
    assert "Tiếp tục mở trong Kho" not in landed.get_data(as_text=True)
    assert landed.headers["X-Frame-Options"] == "DENY"
    assert [a for _, a in recorded_acts(kho)[len(before):]] == [], recorded_acts(kho)[len(before):]
    # A record page: the page offering it, one click away.
    web = app.test_client()
    where = _login_from(web, people, record)
    landed = web.get(where, headers={"Sec-Fetch-Site": "same-origin"})
    found = CONTINUE.search(landed.get_data(as_text=True))
    assert landed.status_code == 200 and found and _unescape(found.group(1)) == record
    assert [a for _, a in recorded_acts(kho)[len(before):]] == []
    # Never a link to another host, however the address is written.
    for odd in ("/\\evil.example/x", "//evil.example/", "/\t/evil.example", "https://evil.example/"):
        page = web.get("/continue", query_string={"to": odd}).get_data(as_text=True)
        assert not CONTINUE.search(page) and "evil.example" not in page, odd
    # Typed or from Kho's own login page: straight to the address, as before.
    web = app.test_client()
    form = web.get("/login", query_string={"next": record}, headers={"Sec-Fetch-Site": "none"})
    fields = dict(HIDDEN.findall(form.get_data(as_text=True)))
    assert "via" not in fields
    done = web.post("/login", data={**fields, "username": people.usernames["van_thu"], "password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == record
