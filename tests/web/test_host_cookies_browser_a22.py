"""``__Host-`` cookies (review a22) in Debian's Chromium: Kho served with ``KHO_COOKIE_SECURE`` on at
``http://kho.localhost`` (Chromium treats ``*.localhost`` as a secure origin and resolves it to
loopback), a sibling site at ``http://evil.kho.localhost`` that sets cookies for
``Domain=kho.localhost``. The sibling cannot plant a session (login CSRF: the victim working in
the attacker's account) nor a device cookie of the owner's name."""

# ruff: noqa: F811 - the harness fixtures (browser) are imported by name

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from kho_browser import browser, login_page, serve  # noqa: F401 - fixture
from kho_people import People

from web.context import Kho


@pytest.fixture
def secure_server(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The whole application with secure cookies, at ``http://kho.localhost:<port>``."""
    monkeypatch.setenv("KHO_COOKIE_SECURE", "true")
    yield from serve(kho, "kho.localhost")


@pytest.fixture
def sibling() -> Iterator[str]:
    """``http://evil.kho.localhost:<port>/plant?name=…&value=…``: sets the cookie for the parent
    domain, both as a ``__Host-`` cookie (which a browser must refuse) and under the plain name."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = parse_qs(urlparse(self.path).query)
            self.send_response(200)
            for name, value in zip(asked.get("name", []), asked.get("value", []), strict=True):
                for planted in ("__Host-" + name, name):
                    self.send_header(
                        "Set-Cookie", f"{planted}={value}; Domain=kho.localhost; Path=/; Secure; SameSite=Lax"
                    )
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://evil.kho.localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(5)


def test_a_sibling_subdomain_plants_no_session_and_no_device_cookie_in_chromium(
    secure_server: str, sibling: str, browser: Any, people: People
) -> None:
    """On main the session cookie is ``kho_session``: the sibling's cookie is read and the victim
    is logged in as the attacker."""
    attacker = browser.new_context()
    login_page(attacker.new_page(), secure_server, people.usernames["van_thu_b"])
    jar = {c["name"]: c for c in attacker.cookies()}
    session_name = next(n for n in jar if n.endswith("kho_session"))
    attackers_session = jar[session_name]["value"]
    attacker.close()

    victim = browser.new_context()
    page = victim.new_page()
    page.goto(f"{sibling}/plant?name=kho_session&value={attackers_session}")
    planted = [(c["name"], c["domain"]) for c in victim.cookies()]
    assert ("__Host-kho_session", ".kho.localhost") not in planted  # Chromium refuses it
    page.goto(secure_server + "/")
    assert "/login" in page.url, page.url  # the attacker's session is not the victim's
    assert people.usernames["van_thu_b"] not in page.content()
    assert session_name == "__Host-kho_session", sorted(jar)
    assert jar[session_name]["secure"] and jar[session_name]["httpOnly"] and jar[session_name]["path"] == "/"

    # The owner logs in; the sibling's device cookie of the owner's name is refused too.
    owner = people.usernames["lanh_dao"]
    login_page(page, secure_server, owner)
    assert "/login" not in page.url and owner in page.content()
    device = "__Host-kho_device_" + owner
    page.goto(f"{sibling}/plant?name=kho_device_{owner}&value=1.1.forged")
    mine = [c for c in victim.cookies() if c["name"] == device]
    assert len(mine) == 1 and mine[0]["domain"] == "kho.localhost" and mine[0]["value"] != "1.1.forged"
    assert mine[0]["httpOnly"] and mine[0]["secure"] and mine[0]["sameSite"] == "Strict"
    victim.close()
