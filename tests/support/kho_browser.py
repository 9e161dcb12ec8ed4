"""The browser harness of the end-to-end tests: Debian's Chromium driven by Playwright against the
whole application on a real HTTP server, screenshots at 1280 and 360 px, axe-core on each page.

Test modules import the fixtures (``server``, ``browser``, ``shots``, ``axe_source``) and
:class:`Walk` from here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kho_people import PASSWORD, People
from playwright import sync_api as playwright_api
from werkzeug.serving import make_server

from web.app import create_app
from web.context import Kho

CHROMIUM = os.environ.get("KHO_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
AXE_CANDIDATES = (
    os.environ.get("KHO_AXE_JS", ""),
    str(Path(os.environ.get("KHO_AXE_DIR") or _CACHE / "kho/axe") / "node_modules/axe-core/axe.min.js"),
    "/var/cache/kho/axe/node_modules/axe-core/axe.min.js",
)
WIDTHS = (1280, 360)



def serve(kho: Kho, host: str = "127.0.0.1") -> Iterator[str]:
    """The whole application (pages and API) on a real HTTP server on loopback, like ``kho serve``,
    with the cookie settings of the environment; yields its address under ``host``."""
    app = create_app(kho.settings, kho=kho)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{host}:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture
def server(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The whole application (pages and API) on a real HTTP server on loopback, like ``kho serve``."""
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # plain http on 127.0.0.1
    yield from serve(kho)


def login_page(page: Any, server: str, username: str, password: str = PASSWORD) -> None:
    """Log in on ``server``'s login page in ``page`` (a Chromium tab) and wait for the answer."""
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module (a launch costs ~3 s on two loaded cores); each test opens its
    own context (cookies, storage), so no test sees another's session. Not per session: an open
    sync Playwright marks its asyncio loop as running between calls, which later tests'
    ``asyncio.run`` would trip over."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/install-system.sh)")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("KHO_SCREENSHOT_DIR")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def axe_source() -> str:
    for candidate in AXE_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    pytest.fail("axe-core not found: run scripts/install.sh (npm install axe-core --prefix ~/.cache/kho/axe)")


class Walk:
    """One browser tab, with the checks every main page gets."""

    def __init__(self, page: Any, base: str, shots: Path, axe: str | None) -> None:
        self.page, self.base, self.shots, self.axe = page, base, shots, axe
        self.violations: dict[str, list[str]] = {}
        self.overflow: dict[str, int] = {}
        self.taken: list[Path] = []
        self.axe_checked: list[str] = []
        self.minor: dict[str, list[str]] = {}

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("form button[type=submit]")

    def logout(self) -> None:
        self.page.click("header form button")
        self.page.wait_for_url("**/login")

    def check(self, name: str) -> None:
        """Screenshots at both widths, no sideways scrolling on a phone, axe on the page."""
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 800})
            path = self.shots / f"{name}-{width}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
            if width == 360:
                scroll = self.page.evaluate("document.documentElement.scrollWidth")
                if scroll > 362:
                    self.overflow[name] = scroll
        self.page.set_viewport_size({"width": 1280, "height": 800})
        if self.axe is not None:
            self.page.evaluate(self.axe)
            result = self.page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, n: v.nodes.length,"
                " target: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
            )
            bad = [f"{v['id']} ({v['impact']}): {v['target']}" for v in result
                   if v["impact"] in ("serious", "critical")]
            self.axe_checked.append(name)
            if bad:
                self.violations[name] = bad
            rest = [
                f"{v['id']} ({v['impact']})" for v in result if v["impact"] not in ("serious", "critical")
            ]
            if rest:
                self.minor[name] = rest


def logged_in(browser: Any, server: str, shots: Path, username: str) -> tuple[Any, Any]:
    """A fresh context (its own cookies, Vietnamese locale) with ``username`` logged in on the
    home page: (context, page)."""
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, None)
    walk.login(username)
    walk.page.wait_for_url(server + "/")
    return context, walk.page


@pytest.fixture
def trap() -> Iterator[tuple[str, dict[str, str]]]:
    """Another site (for the cross-site tests, a20 and rv12): serves ``page["html"]`` at ``http://localhost:<port>/``."""
    page: dict[str, str] = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_address[1]}", page
    httpd.shutdown()
    thread.join(5)


def clerk_with_a_record(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Path
) -> tuple[Any, Any, str]:
    """A văn thư logged in to Kho in Chromium (context, page) and the path of a record they
    registered (the cross-site tests: a20, rv12)."""
    from kho_web import login, register_one

    clerk = create_app(kho.settings, kho=kho).test_client()
    login(clerk, people, "van_thu")
    record = register_one(clerk, signed["valid"])
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    walk = Walk(context.new_page(), server, tmp_path, None)
    walk.login(people.usernames["van_thu"])
    return context, walk.page, record
