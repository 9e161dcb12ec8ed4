"""What a request may cost before anyone is known: multipart bodies to routes that take no file,
werkzeug's form limits, the login budget of one address across names, and the address itself
behind a proxy (m5)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import werkzeug.formparser
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_web import api_login_from, csrf, login, post_whole_and_chunked, text

from web.app import SMALL_BODY_MAX


def _multipart(fields: int, size: int) -> tuple[bytes, str]:
    boundary = "kho-m5-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\n'.encode()
    part = head + b"x" * size + b"\r\n"
    return part * fields + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many multipart bodies werkzeug's parser was given."""
    seen: list[int] = []
    real = werkzeug.formparser.FormDataParser._parse_multipart

    def counting(self: Any, stream: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(1)
        return real(self, stream, *args, **kwargs)

    monkeypatch.setattr(werkzeug.formparser.FormDataParser, "_parse_multipart", counting)
    return seen


def test_a_multipart_body_to_a_route_that_takes_no_file_is_bounded_like_json(
    web: FlaskClient, client: FlaskClient, people: People, parsed: list[int]
) -> None:
    """A multipart body was outside the 2 MiB bound of JSON and urlencoded bodies: 1,000 fields
    of 49 KB sent to ``POST /login`` (nobody logged in, no CSRF token) were parsed before the
    CSRF check refused them (+51 MB, 0.44 s). Any route that takes no upload now refuses such a
    body over 2 MiB with 413 ``BODY_TOO_LARGE`` before it is parsed, told by Content-Length or
    while a chunked body is read."""
    body, content_type = _multipart(60, 49_000)  # 2.9 MB, every field within werkzeug's limit
    assert len(body) > SMALL_BODY_MAX
    page, chunked = post_whole_and_chunked(web, "/login", body, content_type)
    for answer in (page, chunked):
        assert answer.status_code == 413, (answer.status_code, text(answer)[:200])
        assert answer.mimetype == "text/html"
        assert "Nội dung yêu cầu quá lớn: tối đa 2 MB." in text(answer)
    api = client.post("/api/login", data=body, content_type=content_type)
    assert api.status_code == 413 and api.json["error"]["code"] == "BODY_TOO_LARGE"
    assert api.json["error"]["message"] == "Nội dung yêu cầu quá lớn: tối đa 2 MB."
    assert parsed == []
    # A small multipart login is still read (and answered on its merits).
    small, small_type = _multipart(1, 10)
    assert web.post("/login", data=small, content_type=small_type).status_code == 400  # no CSRF token
    assert parsed == [1]


def test_an_upload_route_still_takes_a_file_beyond_the_small_body_bound(
    web: FlaskClient, client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The routes that receive an original keep the upload limit (50 MB): a 3 MB PDF is read
    by the intake page and the API, not refused as a small body."""
    pdf = signed["valid"] + b"\n%" + b"0" * (3 * 1024 * 1024)
    assert len(pdf) > SMALL_BODY_MAX
    api = client.post(
        "/api/intake",
        data={"direction": "den", "file": (io.BytesIO(pdf), "lon.pdf")},
        headers=people.headers("van_thu"),
        content_type="multipart/form-data",
    )
    assert api.status_code in (200, 201, 202), api.get_data(as_text=True)[:300]
    login(web, people, "van_thu")
    token = csrf(web, "/intake")
    page = web.post(
        "/intake",
        data={"csrf_token": token, "direction": "den", "files": (io.BytesIO(pdf), "lon-2.pdf")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302, text(page)[:300]


def test_werkzeugs_form_limits_are_set_and_named_in_the_refusal(app: Flask) -> None:
    """The part limits are the app's own settings, not werkzeug's defaults left implicit, and
    the refusal's message names the same figures."""
    from web.app import FORM_MEMORY_MAX, FORM_PARTS_MAX, FORM_TOO_LARGE_MESSAGE

    assert app.config["MAX_FORM_MEMORY_SIZE"] == FORM_MEMORY_MAX == 500_000
    assert app.config["MAX_FORM_PARTS"] == FORM_PARTS_MAX == 1_000
    with app.test_request_context("/intake", method="POST"):
        from flask import request

        assert request.max_form_memory_size == FORM_MEMORY_MAX
        assert request.max_form_parts == FORM_PARTS_MAX
    assert "500 KB" in FORM_TOO_LARGE_MESSAGE and "1.000 phần" in FORM_TOO_LARGE_MESSAGE


def test_a_spray_of_names_from_one_address_is_slowed(client: FlaskClient, people: People) -> None:
    """The limiter counted failures per (address, name) only: 200 names tried twice each from one
    address were each answered 401, never 429 (z4's and m2's spraying note). An address now has a
    budget over every name (5 × a name's, 50 in 15 minutes): the 51st failure is refused before
    any password is checked, whatever the name; another address is not slowed, and a success
    from the sprayer's address does not reset its count."""
    answers = [api_login_from(client, f"khong-co-{i}.ubnd", "198.51.100.7") for i in range(60)]
    assert answers[:50] == [401] * 50
    assert answers[50:] == [429] * 10
    assert api_login_from(client, "khong-co-moi.ubnd", "198.51.100.8") == 401
    good = client.post(
        "/api/login",
        json={"username": people.usernames["van_thu"], "password": "Kho@test2026"},
        environ_overrides={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert good.status_code == 429 and good.json["error"]["code"] == "LOGIN_RATE_LIMITED"


def _app_behind(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, proxies: str) -> FlaskClient:
    from kho.config import Settings
    from web.app import create_app
    from web.context import Kho

    monkeypatch.setenv("KHO_TRUSTED_PROXIES", proxies)
    return create_app(Settings.from_env(), kho=Kho(Settings.from_env())).test_client()


def test_behind_a_configured_proxy_each_person_has_their_own_address(
    env: dict[str, str], kho: Any, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a reverse proxy every request came from the proxy's address: ten people mistyping
    their passwords shared one budget (the eleventh was refused, 429, on their first try), and
    the audit log recorded the proxy. With ``KHO_TRUSTED_PROXIES`` naming the proxy, the address
    is the one it forwards for; a request from anywhere else keeps its own address, whatever
    ``X-Forwarded-For`` it sends; by default the header is never read."""
    behind = _app_behind(env, monkeypatch, "10.0.0.5, 10.1.0.0/16")

    def attempt(client: FlaskClient, peer: str, forwarded: str | None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return client.post(
            "/api/login",
            json={"username": "ai-do.ubnd", "password": "sai"},
            headers=headers,
            environ_overrides={"REMOTE_ADDR": peer},
        ).status_code

    # Eleven people behind the proxy, each failing once: nobody is refused.
    assert [attempt(behind, "10.0.0.5", f"203.0.113.{i}") for i in range(11)] == [401] * 11
    # A chain of trusted proxies is walked back to the first address that is not one.
    assert attempt(behind, "10.0.0.5", "203.0.113.99, 10.1.4.4") == 401
    events = [e for e in kho.repo.audit.events() if e.action == "account:login-failed"]
    sources = {e.source for e in events}
    assert "203.0.113.0" in sources and "203.0.113.99" in sources and "10.0.0.5" not in sources
    # A client that is not a listed proxy cannot choose its address with the header.
    for _ in range(10):
        assert attempt(behind, "192.0.2.50", "203.0.113.200") == 401
    assert attempt(behind, "192.0.2.50", "203.0.113.201") == 429
    # Default: no proxy trusted, the header is ignored.
    monkeypatch.delenv("KHO_TRUSTED_PROXIES")
    plain = _app_behind(env, monkeypatch, "")
    for _ in range(10):
        assert attempt(plain, "10.0.0.5", "203.0.113.77") == 401
    assert attempt(plain, "10.0.0.5", "203.0.113.78") == 429


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.local", "10.0.0.0/33", "10.0.0.5;rm"])
def test_a_bad_trusted_proxy_setting_stops_start_up_with_a_clear_message(value: str) -> None:
    from kho.config import Settings
    from kho.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"KHO_DATA_DIR": "/tmp/kho-m5-none", "KHO_TRUSTED_PROXIES": value})
    assert refused.value.code == "CONFIG_INVALID"
    assert "KHO_TRUSTED_PROXIES" in refused.value.message and "không phải địa chỉ IP" in refused.value.message


def test_an_upload_route_reads_no_body_from_someone_not_logged_in(
    web: FlaskClient, parsed: list[int]
) -> None:
    """m5 kept the 51 MB limit on the six routes that take a file, which is right for a person
    logged in. But the pages' CSRF check reads the form before ``login_required`` answers: a
    person not logged in (a session from ``GET /login`` holds a CSRF token) sending 2.9 MB of
    multipart to ``POST /intake`` had it parsed, as r23's ``POST /login`` had, then was sent to
    the login page. Nobody logged in now has an upload body read: they are sent to log in."""
    web.get("/login")  # a session with a CSRF token, as anyone gets
    body, content_type = _multipart(60, 49_000)
    for path in ("/intake", "/outgoing/new", "/retention/transfers/check"):
        answer = web.post(path, data=body, content_type=content_type)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    assert parsed == []
