"""Half a UTF-16 pair in a JSON body (review a26).

JSON may escape a character as ``\\ud800`` with no second half; Python's parser hands it on as a
string no UTF-8 text can carry, and so do the bytes ``ED A0 80`` (it decodes with
``surrogatepass``). ``POST /api/login`` with such a name answered 500 ``INTERNAL_ERROR`` (the
login limiter's key is ``.encode()``-d first), and so did the password change and every JSON route
whose value reached an ``.encode()``. Now every JSON body is refused with a Vietnamese message and
the route's stable code (422), before anything reads it. Real services (the test app's store)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People

from web.context import Kho

LONE = [
    b'{"username": "a\\ud800", "password": "x"}',
    b'{"username": "a\\udfff b", "password": "x"}',
    b'{"username": "a", "password": "x", "device": "\\udc00"}',
    b'{"username": "a", "password": "x", "\\ud800": 1}',
    b'{"username": "a", "password": "x", "more": [[{"k": ["\\ud834"]}]]}',
    b'{"username": "a\xed\xa0\x80", "password": "x"}',
    b'{"username": "a\\uDBFF", "password": "x"}',
    # UTF-16 JSON, which the parser also takes: a lone unit D800 needs no escape
    '{"username": "a'.encode("utf-16-le") + b"\x00\xd8" + '", "password": "x"}'.encode("utf-16-le"),
]


@pytest.mark.parametrize("body", LONE)
def test_a_lone_surrogate_at_the_login_is_refused_plainly(client: FlaskClient, body: bytes) -> None:
    answer = client.post("/api/login", data=body, content_type="application/json")
    assert answer.status_code == 422, answer.data[:200]  # before: 500 INTERNAL_ERROR
    error = answer.json["error"]
    assert error["code"] == "BODY_INVALID"
    assert "ký tự không hợp lệ" in error["message"]


def test_the_password_change_and_a_logged_in_route_refuse_it_too(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    name = people.usernames["chuyen_vien"]
    body = (
        b'{"username": "%s", "old_password": "\\ud800", "new_password": "Kho#2026-\\udbff"}' % name.encode()
    )
    answer = client.post("/api/password", data=body, content_type="application/json")
    assert answer.status_code == 422 and answer.json["error"]["code"] == "BODY_INVALID"
    saved = client.post(
        "/api/saved-searches",
        data=b'{"name": "\\ud800", "query": "x"}',
        content_type="application/json",
        headers=people.headers("chuyen_vien"),
    )
    assert saved.status_code == 422 and saved.json["error"]["code"] == "BODY_INVALID"
    # A whole pair is one character (U+1D11E) and goes through; the right password still logs in.
    ok = client.post(
        "/api/login",
        data=b'{"username": "%s", "password": "%s", "device": "\\ud834\\udd1e"}'
        % (name.encode(), PASSWORD.encode()),
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json["account"]["username"] == name
