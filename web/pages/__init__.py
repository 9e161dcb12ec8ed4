"""The Vietnamese web pages: server-rendered, one blueprint per area, no business rules.

Pages call the same services the API and the CLI call (:class:`web.context.Kho`). A page
session is Flask's signed cookie holding only an API-style token issued at login (revoked at
logout) and a CSRF secret; who acts is always resolved from that token by the account service.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import Flask, Response, request

from web import cookies
from web.context import Kho
from web.pages import (
    admin,
    audit,
    auth,
    disposal,
    files,
    handling,
    home,
    intake,
    outgoing,
    records,
    registers,
    retention,
    search,
)
from web.pages.common import install_common

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
BLUEPRINTS = (
    auth, home, intake, outgoing, records, registers, search, files, disposal, audit, admin, handling,
    retention,
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _cookie_settings() -> tuple[bool, str]:
    """``KHO_COOKIE_SECURE`` and ``KHO_SESSION_SECRET``, checked (:class:`ConfigError` for a bad
    or weak value, :func:`kho.config.session_secret`)."""
    from kho.config import process_settings

    settings = process_settings()
    return settings.cookie_secure, settings.session_secret


def register_pages(app: Flask, kho: Kho) -> None:
    """Mount the pages on the API's app (the API under /api stays token-authenticated)."""
    # A fixed secret lets several workers share sessions; without one, sessions last as long as
    # the process (a restart logs everyone out, which is safe).
    secure, secret = _cookie_settings()
    if not secret:
        logger.warning("KHO_SESSION_SECRET is not set: page sessions last only as long as this process")
    app.secret_key = secret or secrets.token_hex(32)
    app.config.update(
        SESSION_COOKIE_NAME=cookies.name(cookies.SESSION, secure),  # __Host- when secure (a22)
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",  # what __Host- requires: Path=/ and no Domain
        SESSION_COOKIE_DOMAIN=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.setdefault("KHO_LOGIN_LIMIT", (10, 15 * 60))
    install_common(app, kho, HERE / "templates", HERE / "static")
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)

    @app.after_request
    def page_headers(response: Response) -> Response:
        if not request.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Content-Type-Options"] = "nosniff"
            if not request.path.startswith("/assets/"):
                response.headers["Cache-Control"] = "no-store"
        return response
