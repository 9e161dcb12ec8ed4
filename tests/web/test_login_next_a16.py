"""The page a login sends the person back to (``next``) is on this site only (a16). A browser
reads ``\\`` as ``/`` in an http(s) URL and drops tabs and line breaks (WHATWG URL), so
``/\\evil.example`` and ``/<tab>/evil.example`` are ``//evil.example``: another site, where a
copy of the login page can ask for the password again ("phiên đã hết hạn"). Held on main:
``safe_next`` sends a scheme, a host, ``//`` and the tab/newline forms (which ``urlsplit``
strips) home, and werkzeug percent-encodes a backslash in ``Location`` (``/%5Cevil.example``,
a path on this site). The test resolves ``Location`` as a browser does, so it fails if either
stops holding."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import csrf

AWAY = [
    "/\\evil.example/x", "/\t/evil.example/x", "\\\\evil.example/x", "/\\/evil.example",
    "/\n/evil.example", "//evil.example/x", "https://evil.example/x", " //evil.example",
]
SITE = "https://kho.example/login"


def _host_a_browser_goes_to(location: str) -> str:
    """WHATWG URL parsing of ``Location`` against this site: tab, CR and LF removed, a raw
    backslash read as a slash (an http(s) URL), then resolved."""
    cleaned = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/")
    return urlsplit(urljoin(SITE, cleaned.strip())).netloc


@pytest.mark.parametrize("target", AWAY)
def test_a_next_that_a_browser_reads_as_another_site_goes_home(
    web: FlaskClient, people: People, target: str
) -> None:
    done = web.post(
        "/login",
        data={"username": people.usernames["van_thu"], "password": PASSWORD, "csrf_token": csrf(web),
              "next": target},
    )
    assert done.status_code == 302
    assert _host_a_browser_goes_to(done.headers["Location"]) == "kho.example", done.headers["Location"]
    again = web.get("/login", query_string={"next": target})  # logged in: sent on at once
    assert again.status_code == 302
    assert _host_a_browser_goes_to(again.headers["Location"]) == "kho.example", again.headers["Location"]


def test_a_next_on_this_site_is_kept(web: FlaskClient, people: People) -> None:
    done = web.post(
        "/login",
        data={"username": people.usernames["van_thu"], "password": PASSWORD, "csrf_token": csrf(web),
              "next": "/search?q=c%C3%B4ng+v%C4%83n"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/search?q=c%C3%B4ng+v%C4%83n"


def test_the_browser_reading_of_the_check_sees_a_raw_backslash_as_another_site() -> None:
    """The check itself can fail: an unencoded backslash is another host to a browser."""
    assert _host_a_browser_goes_to("/\\evil.example/x") == "evil.example"
    assert _host_a_browser_goes_to("/\t/evil.example") == "evil.example"
    assert _host_a_browser_goes_to("/%5Cevil.example/x") == "kho.example"
