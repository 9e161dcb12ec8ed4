"""The answer to a ``HEAD`` on a route that sends a file (:mod:`kho.head` is the rule).

Every ``HEAD`` runs its ``GET`` view under :func:`kho.head.head_only`: the view's permission
checks run as for a ``GET``; at the commit point of its act (an export recorded, an original
read, a page rendered) it stops, and the answer is the headers the route declares with
:func:`file_route`, without a body, a file built or an export recorded. A ``HEAD`` that reaches
no commit point is the ``GET`` without its body, as before. A view that declares no headers is a
page, not a file: it stops at a commit point only when it reads an original on the way (the record
page counts the pages of a PDF the text step did not count), and its ``HEAD`` is answered as the
page's ``GET`` is, ``text/html`` (r29: it was ``application/octet-stream``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, Response, request

from kho.head import HeadOnly, head_only

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FileHeaders:
    """What a ``GET`` of a file route sends besides the file."""

    media_type: str
    disposition: str | None = None
    """The ``Content-Disposition`` value (``attachment; filename=…`` or ``inline; …``)."""
    extra: dict[str, str] = field(default_factory=dict)


def attachment(name: str, inline: bool = False) -> str:
    return f'{"inline" if inline else "attachment"}; filename="{name}"'


def file_response(data: bytes, shown: FileHeaders) -> Response:
    """A ``GET``'s answer: ``data`` with the headers its route declares (:func:`file_route`), so
    the ``GET`` and its ``HEAD`` are told by one declaration."""
    response = Response(data, mimetype=shown.media_type)
    if shown.disposition:
        response.headers["Content-Disposition"] = shown.disposition
    response.headers.update(shown.extra)
    return response


def file_route(headers: Callable[..., FileHeaders]) -> Callable[[F], F]:
    """Declare what a ``GET`` of this view sends with its file: ``headers(stop, **view_args)``
    (``stop``: the :class:`HeadOnly` raised at the commit point). Put it under the route."""

    def mark(view: F) -> F:
        view.kho_file_headers = headers  # type: ignore[attr-defined]
        return view

    return mark


def head_answer(view: Any, stop: HeadOnly) -> Response:
    spec = getattr(view, "kho_file_headers", None)
    shown = spec(stop, **(request.view_args or {})) if spec is not None else None
    # An iterator, not bytes: werkzeug would send "Content-Length: 0" for an empty body. The length
    # is unknown unless the commit point knows it (a stored original).
    # (no headers declared: a page, answered with the type a page's GET has, Response's default)
    response = Response(iter(()), mimetype=shown.media_type if shown else None)
    if shown is not None:
        if shown.disposition:
            response.headers["Content-Disposition"] = shown.disposition
        response.headers.update(shown.extra)
        # (what the commit point knows of the file it stopped at: that file is this route's, a
        # page's is not; a page that read an original must not answer its length and hash)
        response.headers.update(stop.headers)
    return response


class KhoFlask(Flask):
    """Flask, answering ``HEAD`` by :mod:`kho.head`'s rule (one place for every route)."""

    def dispatch_request(self) -> Any:
        if request.method != "HEAD":
            return super().dispatch_request()
        with head_only():
            try:
                return super().dispatch_request()
            except HeadOnly as stop:
                return head_answer(self.view_functions.get(request.endpoint or ""), stop)
