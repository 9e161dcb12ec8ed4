"""A HEAD on an HTML page answers what its GET would (r29, reviewing m7).

m7 made every ``HEAD`` stop at the commit point of a content act (:mod:`kho.head`). The record
page reads the original to count its pages when the text step has not counted them
(``read_content(action="content:read")``): a ``HEAD`` on it stopped there and was answered
``200 application/octet-stream`` with no body, not the page's ``text/html`` (nor its status). A
page is not a file: its HEAD is its GET without the body, and the content act its GET records."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import login

from web.context import Kho


def test_a_head_on_the_record_page_answers_the_html_page_s_headers(
    kho: Kho, people: People, web: FlaskClient, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    rid = kho.repo.create_document(
        "den", incoming(code_number="96"), signed["valid"], "cv.pdf", clerk
    ).record_id
    login(web, people, "van_thu")
    got = web.get(f"/records/{rid}")
    head = web.head(f"/records/{rid}")
    assert got.status_code == 200 and got.mimetype == "text/html", got.status_code
    assert (head.status_code, head.headers.get("Content-Type")) == (
        got.status_code,
        got.headers["Content-Type"],
    )
    assert head.get_data() == b""
    # nor the length and hash of the original the page read on the way (a PDF is not the page)
    assert "X-Content-SHA256" not in head.headers and "X-Content-SHA256" not in got.headers
    assert head.headers.get("Content-Length") != str(len(signed["valid"]))
    for name in ("Content-Security-Policy", "Cache-Control", "X-Frame-Options"):
        assert head.headers.get(name) == got.headers.get(name), name
