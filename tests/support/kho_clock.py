"""A clock that tests move forward (the account service's and the login limiter's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovedClock:
    """Now, plus ``offset`` (which the test moves)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset
