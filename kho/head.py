"""A ``HEAD`` request: the headers a ``GET`` would get, with nothing produced and no act recorded.

Flask answers ``HEAD`` by running the ``GET`` view and dropping the body. For a view that builds
a file (an export, a download, a page image) that meant the file was built and its export, or
its download, was written to the audit log for a body never sent (m5, r27, m7). One rule, where
the acts are committed rather than in each view: the web runs every ``HEAD`` under
:func:`head_only`, and each place where a content act or an export is committed calls
:func:`stop_if_head` *after* its permission check and *before* it produces or records anything.
The view stops there (:class:`HeadOnly`) and the web answers the headers the route declares.
No I/O here: the state is a context variable, so a CLI command or a Celery task never sees it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_HEAD_ONLY: ContextVar[bool] = ContextVar("kho_head_only", default=False)


class HeadOnly(BaseException):  # (a signal, not an error: no view may catch it as one)
    """Raised at an act's commit point while a ``HEAD`` is answered: the permission checks before
    it have passed; nothing after it runs. ``headers``: what the commit point knows that a
    ``GET`` would send (a stored original's length and SHA-256); ``described``: what it read of
    the file (a stored original's description: its name and type)."""

    def __init__(self, headers: Mapping[str, str] | None = None, described: Any = None) -> None:
        super().__init__("HEAD: stopped before the act")
        self.headers: dict[str, str] = dict(headers or {})
        self.described = described


@contextmanager
def head_only() -> Iterator[None]:
    """Everything run inside answers a ``HEAD``: commit points stop it (:func:`stop_if_head`)."""
    token = _HEAD_ONLY.set(True)
    try:
        yield
    finally:
        _HEAD_ONLY.reset(token)


def is_head() -> bool:
    return _HEAD_ONLY.get()


def stop_if_head(headers: Mapping[str, str] | None = None, described: Any = None) -> None:
    """At a commit point (permission checked, nothing produced or recorded yet): stop a ``HEAD``."""
    if _HEAD_ONLY.get():
        raise HeadOnly(headers, described)
