"""A clock that tests move forward (the account service's and the login limiter's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


class MovedClock:
    """Now, plus ``offset`` (which the test moves)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def workers_on(kho: Any, clock: MovedClock, monkeypatch: Any, secret: str) -> tuple[Any, Any]:
    """Two web workers (each its own installation of ``kho``'s settings, one session secret) on
    ``kho``'s store, the account services of all three and the workers' login limiters on
    ``clock``; sessions and tokens idle for 10 days before they end, so that a test spanning
    days sees them end by a lock, not by idleness."""
    from web.app import create_app

    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    monkeypatch.setenv("KHO_SESSION_SECRET", secret)
    apps = create_app(kho.settings), create_app(kho.settings)
    for accounts in (kho.accounts, *(app.extensions["kho"].accounts for app in apps)):
        monkeypatch.setattr(accounts, "clock", clock)
        monkeypatch.setattr(accounts, "session_idle", timedelta(days=10))
        monkeypatch.setattr(accounts, "token_idle", timedelta(days=10))
    for app in apps:
        monkeypatch.setattr(app.extensions["kho_login_limiter"], "clock", lambda: clock().timestamp())
    return apps
