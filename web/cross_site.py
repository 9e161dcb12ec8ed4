"""Audited GETs refused when another site sends them (review a20).

Page sessions are cookies with ``SameSite=Lax``: a browser sends them with a top-level GET that
another site starts (a link, ``window.location``). A GET changes nothing, but many are audited
acts of the person: a download, an export, a print copy, a recorded view or search. Another
site could make a logged-in person's browser perform them: files land in the Downloads folder
and the audit log says the person did it. CSRF tokens guard the POSTs only.

Which GETs are audited is not listed by hand (a new route could be forgotten): the audit log
itself is the list. :func:`install` gives the installation's :class:`repository.audit.AuditLog`
a guard that every append passes through. During a GET or HEAD whose ``Sec-Fetch-Site`` is
``cross-site``, an event recording an act (anything but :data:`UNGUARDED`) is refused with
:class:`kho.errors.CrossSiteRefused` (403 ``CROSS_SITE_REFUSED``, a Vietnamese page or the API's
JSON) before it is written. A GET writes nothing but its events (the store's reads are durable
already), and an audited act's event is written before its result is sent (durable before
visible), so nothing has been given out. Should a view catch the refusal and answer anyway,
the request's answer is replaced by the refusal (:func:`install`'s ``after_request``), so a
swallowed refusal cannot become an unaudited download.

Still served: ``same-origin`` and ``same-site`` (Kho's own links), ``none`` (an address typed or
pasted, a bookmark), and requests without the header (the CLI, scripts with a token, older
browsers). The refusal tells the person to open the address from Kho itself or paste it into
the address bar. Events that record what happened *to* the request rather than an act of it
are let through: the session's own (``account:``: a lock that ends, an idle session), a
refusal (``access:``) and a damaged object found while reading (``fixity:``)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, current_app, g, has_request_context, request

from kho.errors import CrossSiteRefused
from repository.audit import AuditLog, EventDraft

UNGUARDED = ("account:", "access:", "fixity:")
"""Action prefixes of events that a cross-site GET may still write (module docstring)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
MESSAGE = (
    "Yêu cầu này được gửi từ một trang web khác, nên Kho không thực hiện: tải về, xuất, in bản sao"
    " hay xem tài liệu đều được ghi vào nhật ký dưới tên bạn. Hãy mở lại thao tác từ trong Kho,"
    " hoặc dán địa chỉ vào thanh địa chỉ của trình duyệt."
)


def cross_site() -> bool:
    """Whether this request is a GET/HEAD that a browser says another site started."""
    return (
        request.method in SAFE_METHODS
        and request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site"
    )


def _guard(drafts: Sequence[EventDraft]) -> None:
    if not has_request_context() or not cross_site():
        return
    acts = [d.action for d in drafts if not d.action.startswith(UNGUARDED)]
    if acts:
        g.kho_cross_site_refused = acts
        raise CrossSiteRefused(MESSAGE, actions=sorted(set(acts)))


def install(app: Flask, audit: AuditLog) -> None:
    """Guard ``audit`` against cross-site GETs and make the refusal the answer; call once the
    app's error handlers are registered (the answer is theirs: a page, or JSON under ``/api``)."""
    audit.guard = _guard

    @app.after_request
    def refused_answer(response: Response) -> Response:
        acts = g.get("kho_cross_site_refused")
        if not acts:
            return response
        # Whatever the view answered (the refusal, or something after catching it), the answer
        # is the refusal: nothing of an act whose event was refused leaves.
        return current_app.make_response(
            current_app.handle_user_exception(CrossSiteRefused(MESSAGE, actions=sorted(set(acts))))
        )
