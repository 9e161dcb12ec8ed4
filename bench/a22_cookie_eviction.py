"""Whether a sibling subdomain can plant or evict a ``__Host-`` cookie in Debian's Chromium
(review a22). A host ``kho.localhost`` sets ``__Host-dev`` (Secure, HttpOnly, SameSite=Strict,
``Priority`` as given); its sibling ``evil.kho.localhost`` then sets N cookies for
``Domain=kho.localhost`` (``Priority`` as given) and tries to plant ``__Host-dev`` and the old
unprefixed device name. Prints, per case, whether the host's cookie survived and what was planted.

    .venv/bin/python bench/a22_cookie_eviction.py
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright import sync_api

CASES = ((200, "Medium", "Medium"), (200, "High", "Medium"), (200, "High", "High"), (400, "High", "High"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        asked = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        self.send_response(200)
        if self.path.startswith("/set"):
            self.send_header(
                "Set-Cookie",
                "__Host-dev=1; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=9999;"
                f" Priority={asked['p']}",
            )
        if self.path.startswith("/fill"):
            for i in range(int(asked["n"])):
                self.send_header(
                    "Set-Cookie",
                    f"f{i}=x; Domain=kho.localhost; Path=/; Secure; Max-Age=9999; Priority={asked['p']}",
                )
            self.send_header("Set-Cookie", "__Host-dev=evil; Domain=kho.localhost; Path=/; Secure")
            self.send_header("Set-Cookie", "kho_device_x=evil; Domain=kho.localhost; Path=/; Secure")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]
with sync_api.sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
    for count, mine, theirs in CASES:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://kho.localhost:{port}/set?p={mine}")
        page.goto(f"http://evil.kho.localhost:{port}/fill?n={count}&p={theirs}")
        jar = context.cookies()
        kept = any(c["name"] == "__Host-dev" and c["value"] == "1" for c in jar)
        planted = sorted({c["name"] for c in jar if c["value"] == "evil"})
        print(
            f"sibling sets {count:3} cookies (Priority={theirs:6}), host cookie Priority={mine:6}:"
            f" __Host- cookie kept: {kept!s:5}  jar {len(jar):3}  planted: {planted}"
        )
        context.close()
    browser.close()
server.shutdown()
