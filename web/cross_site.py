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

Still served: ``same-origin`` (Kho's own links), ``none`` (an address typed or pasted, a
bookmark), and requests without the header (the CLI, scripts with a token, older browsers).
``same-site`` is refused like ``cross-site`` (review rv12): it is any other host of the same
registrable domain, such as the agency's webmail or portal on a sibling subdomain, which is
exactly "another site" to the person; Kho's own links are ``same-origin``. Any other value is
refused too (only the two trusted values are let through).

The refusal of a *page* (not ``/api``, not a route that sends a file, :func:`web.heads.file_route`)
says plainly that the link came from another site and offers one link, "Tiếp tục mở trong Kho",
to the same address rebuilt from Kho's URL map: a click on Kho's own page is ``same-origin``, a
conscious act. Kho's pages cannot be framed (``X-Frame-Options: DENY``, CSP ``frame-ancestors
'none'``, :mod:`web.pages`), so that link cannot be clickjacked. A file route's refusal offers
no such link (the file would be one the other site chose). A login page opened from another
site with a ``next`` address sends the person, once logged in, to that same page
(:func:`continue_page`) rather than straight to the address: the redirect after the login form
is ``same-origin`` and would otherwise carry out the other site's choice.

Events that record what happened *to* the request rather than an act of it
are let through: the session's own (``account:``: a lock that ends, an idle session), a
refusal (``access:``) and a damaged object found while reading (``fixity:``)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs

from flask import Flask, Response, current_app, g, has_request_context, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kho.errors import CrossSiteRefused
from repository.audit import AuditLog, EventDraft

UNGUARDED = ("account:", "access:", "fixity:")
"""Action prefixes of events that a cross-site GET may still write (module docstring)."""
SAFE_METHODS = frozenset({"GET", "HEAD"})
TRUSTED = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values whose GET may record an act (absent: not a browser that sends it)."""
VIA_OTHER_SITE = "other-site"
"""The login form's ``via`` when the login page was opened from another site."""
PAGE_MESSAGE = (
    "Bạn mở trang này từ một liên kết trên trang web khác (thư điện tử, tin nhắn, cổng thông tin…),"
    " nên Kho chưa mở: xem tài liệu được ghi vào nhật ký dưới tên bạn. Nếu bạn muốn xem, hãy bấm"
    " nút bên dưới."
)
MESSAGE = (
    "Yêu cầu này được gửi từ một trang web khác, nên Kho không thực hiện: tải về, xuất, in bản sao"
    " hay xem tài liệu đều được ghi vào nhật ký dưới tên bạn. Hãy mở lại thao tác từ trong Kho,"
    " hoặc dán địa chỉ vào thanh địa chỉ của trình duyệt."
)


def cross_site() -> bool:
    """Whether this request is a GET/HEAD that a browser says Kho itself did not start: its
    ``Sec-Fetch-Site`` is there and is not ``same-origin`` or ``none`` (so ``cross-site``,
    ``same-site`` and anything unknown)."""
    site = request.headers.get("Sec-Fetch-Site")
    return request.method in SAFE_METHODS and site is not None and site.strip().lower() not in TRUSTED


def kho_address(path: str, query: dict[str, list[str]] | None = None) -> str | None:
    """``path`` (and ``query``) rebuilt from Kho's own URL map when it names a page GET of Kho,
    else None: what a "continue" link may point to (never another host, whatever the path's
    backslashes, tabs or double slashes)."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None or not path.startswith("/"):
        return None
    try:
        endpoint, args = adapter.match(path, method="GET")
    except (HTTPException, RequestRedirect):
        return None
    view = current_app.view_functions.get(endpoint)
    if view is None or getattr(view, "kho_file_headers", None) is not None or path.startswith("/api/"):
        return None  # a file or the API: no link that would carry out another site's choice
    for name in args:
        (query or {}).pop(name, None)
    return url_for(endpoint, **args, **(query or {}))


def continue_page(target: str | None, status: int, message: str = PAGE_MESSAGE) -> Response:
    """The page that says the address came from another site, with one link to it in Kho."""
    response = Response(
        render_template("cross_site.html", message=message, target=target, code=CrossSiteRefused.code),
        status,
        mimetype="text/html",
    )
    if status == 403:
        response.headers["X-Kho-Error"] = CrossSiteRefused.code
    return response


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
        if not request.path.startswith("/api/"):
            target = kho_address(request.path, request.args.to_dict(flat=False))
            if target is not None:
                return continue_page(target, 403)
        return current_app.make_response(
            current_app.handle_user_exception(CrossSiteRefused(MESSAGE, actions=sorted(set(acts))))
        )

    @app.get("/continue", endpoint="cross_site_continue")
    def continue_view() -> Response:
        """After a login opened from another site: the page to go on to, by a click."""
        parts = request.args.get("to", "").split("?", 1)
        query = parse_qs(parts[1], keep_blank_values=True) if len(parts) > 1 else {}
        target = kho_address(parts[0], query)
        return continue_page(target, 200)
