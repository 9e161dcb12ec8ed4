"""The JSON API (``/api/…``): every call is made by an authenticated account.

Authentication is ``Authorization: Bearer <token>`` — a token from ``POST /api/login`` or one a
quản trị issued. Nothing else names the caller: an ``X-Kho-User`` header is ignored. Every
record operation goes through the repository service, where the access policy decides.

Errors answer ``{"error": {"code": ..., "message": <Vietnamese>}}`` with the error's HTTP
status (401 not authenticated, 403 refused, 404 not found, 409 conflict, 413 too large,
422 invalid input); never a traceback. Lists answer one page (``?page=&page_size=``,
``{"items", "page", "page_size", "total", "pages"}``). The contract is the OpenAPI document at
``/api/openapi.json`` (:mod:`web.openapi`): a route added here must be described there.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from kho import jsontext
from kho.config import Settings
from kho.digits import ascii_int
from kho.errors import BodyTooLarge, IdentifierInvalid, KhoError
from kho.timeutil import parse_iso
from repository.audit import one_catch_up_begin, one_catch_up_end
from repository.policy import Action, search_scope
from repository.records import Actor, Repository, is_record_id
from web import cross_site, worklists
from web.context import Kho, over_http
from web.heads import FileHeaders, KhoFlask, attachment, file_route
from web.proxies import TrustedProxies, networks

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

USERNAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,63}$")

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 200
"""List routes answer one page: ``?page=`` (from 1) and ``?page_size=`` (1…200, default 50)."""
PAGE_MAX = 1_000_000
SMALL_BODY_MAX = 2 * 1024 * 1024
"""Bytes of a request body that carries no file: JSON, or a form sent urlencoded (every page
form but the uploads). The app's limit (``MAX_CONTENT_LENGTH``) is the upload limit of an
original (50 MB), and a body that size parses into 1.3 GB of Python objects as JSON
(``[{},{},…]``) or 2 GB as a form (``a&a&…``), before any check: ``POST /api/login`` and
``POST /login`` took it from anyone. 2 MiB holds a file plan of some thousands of items typed
on its page (Vietnamese text is 6–9 bytes a letter once urlencoded). A multipart body is bounded
the same way, except on the routes that receive a file (:func:`takes_upload`), where the upload
limit, :data:`FORM_MEMORY_MAX` per text field and :data:`FORM_PARTS_MAX` parts apply."""
SMALL_BODY_TYPES = ("application/x-www-form-urlencoded",)
UPLOAD_TYPES = ("multipart/form-data",)
FORM_MEMORY_MAX = 500_000
"""Bytes of one text field of a multipart form (werkzeug's ``max_form_memory_size``)."""
FORM_PARTS_MAX = 1_000
"""Parts of one multipart form, files included (werkzeug's ``max_form_parts``)."""
_TAKES_UPLOAD = "kho_takes_upload"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKENLESS_ENDPOINTS = frozenset({"login", "change_password"})
"""The API writes that take no token (``POST /api/login``, ``POST /api/password``): every
other write is authenticated before its input is read (``authenticate_writes``)."""


def takes_upload(view: F) -> F:
    """Mark a view that receives a file in a multipart body (an original, a transfer package):
    only there is such a body read up to the upload limit (``MAX_CONTENT_LENGTH``); a multipart
    body sent to any other route is bounded like JSON (:func:`bound_small_body`)."""
    setattr(view, _TAKES_UPLOAD, True)
    return view


def is_upload_route() -> bool:
    """Whether the request goes to a view marked :func:`takes_upload`."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _TAKES_UPLOAD, False))


class ApiError(KhoError):
    http_status = 422


class NotAuthenticated(KhoError):
    code = "AUTH_REQUIRED"
    http_status = 401


def _reply(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status, mimetype="application/json")


def _error(code: str, message: str, status: int, details: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return _reply({"error": body}, status)


def _record_id(value: str) -> str:
    if not is_record_id(value):
        raise IdentifierInvalid(
            "Mã văn bản/hồ sơ không hợp lệ (24 chữ số thập lục phân).", code="RECORD_ID_INVALID"
        )
    return value


def _json(raw: str | bytes, message: str, code: str) -> Any:
    """JSON text sent by a caller, or ``ApiError(code)`` (422) for anything that is not: malformed
    text, a number of more than 4,300 digits (``ValueError``), and nesting deeper than the
    parser's stack (``RecursionError``, which no JSON error covers: ``[[[…]]]`` gave a 500 on
    every JSON route, ``/api/login`` included)."""
    try:
        data = jsontext.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(message, code=code) from exc
    if _may_hold_surrogates(raw) and _has_lone_surrogate(data):
        raise ApiError(
            "Nội dung yêu cầu có ký tự không hợp lệ (nửa cặp UTF-16 “\\ud800”–“\\udfff” đứng một mình).",
            code=code,
        )
    return data


LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_SOURCE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
"""Where a surrogate can come from in JSON bytes: an escape ``\\uD800``–``\\uDFFF``, or the
bytes ``ED A0``–``ED BF`` (decoded with ``surrogatepass``). Without either the walk is skipped."""
SURROGATE_SOURCE_TEXT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def _may_hold_surrogates(raw: str | bytes) -> bool:
    if isinstance(raw, bytes):
        if json.detect_encoding(raw) not in ("utf-8", "utf-8-sig"):
            return True  # UTF-16/32 JSON (the parser takes it): a lone unit needs no escape
        # ``in`` first (a byte search, ~20x faster than the pattern on a body without either)
        return (b"\\u" in raw or b"\xed" in raw) and SURROGATE_SOURCE.search(raw) is not None
    return SURROGATE_SOURCE_TEXT.search(raw) is not None


def _has_lone_surrogate(data: Any) -> bool:
    """Whether parsed JSON holds a string with half a UTF-16 pair (``"\\ud800"``, or the bytes
    ``ED A0 80``, which the parser lets through): no UTF-8 text can carry it, and the first
    ``.encode()`` downstream (the login limiter's key, the store) raised a 500 (review a26)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def bound_small_body() -> None:
    """Run before every request (API and pages): a JSON or urlencoded body, or a multipart one
    sent to a route that takes no upload (:func:`takes_upload`), is read here, at most
    :data:`SMALL_BODY_MAX` bytes, and kept for ``get_data``/``form``; beyond, 413
    ``BODY_TOO_LARGE`` (told by Content-Length before anything is read, or while a chunked body
    is read), before any parser or check sees it. A multipart body of 49 MB sent to
    ``POST /login`` was parsed (+51 MB, 0.44 s) before the CSRF check refused it."""
    small = request.is_json or request.mimetype in SMALL_BODY_TYPES
    if not small and not (request.mimetype in UPLOAD_TYPES and not is_upload_route()):
        return
    too_large = BodyTooLarge(
        f"Nội dung yêu cầu quá lớn: tối đa {SMALL_BODY_MAX // (1024 * 1024)} MB.", limit=SMALL_BODY_MAX
    )
    if (request.content_length or 0) > SMALL_BODY_MAX:
        raise too_large
    # A chunked body (no Content-Length) is read one byte past the bound, never further.
    request.max_content_length = SMALL_BODY_MAX + 1
    try:
        raw = request.get_data(cache=True)  # the form is parsed from this copy
    except RequestEntityTooLarge as exc:
        raise too_large from exc
    if len(raw) > SMALL_BODY_MAX:
        raise too_large


FORM_TOO_LARGE_MESSAGE = (
    f"Biểu mẫu quá lớn: một trường văn bản vượt quá {FORM_MEMORY_MAX // 1000} KB hoặc biểu mẫu có"
    f" hơn {FORM_PARTS_MAX:,} phần.".replace(",", ".")
)


def too_large_refusal(max_file_bytes: int) -> tuple[str, str]:
    """The code and Vietnamese message of a 413 werkzeug raised (API and pages alike): the
    upload limit when the body is larger than it, otherwise one text field of a multipart form
    over ``MAX_FORM_MEMORY_SIZE`` or more parts than ``MAX_FORM_PARTS``, which were answered
    "Tệp quá lớn: tối đa 50 MB" for a file of a few bytes."""
    length, limit = request.content_length, current_app.config.get("MAX_CONTENT_LENGTH")
    if length is not None and limit is not None and length <= limit:
        return "FORM_TOO_LARGE", FORM_TOO_LARGE_MESSAGE
    return "FILE_TOO_LARGE", f"Tệp quá lớn: tối đa {max_file_bytes // (1024 * 1024)} MB."


def _body() -> dict[str, Any]:
    """The JSON object of the request (422 for anything else; its size: :func:`bound_small_body`)."""
    message = "Nội dung yêu cầu phải là một đối tượng JSON."
    data = _json(request.get_data(cache=True), message, "BODY_INVALID") if request.is_json else None
    if not isinstance(data, dict):
        raise ApiError(message, code="BODY_INVALID")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(f"Thiếu trường “{name}”.", code="FIELD_REQUIRED", field=name)
        return None
    if not isinstance(value, str):
        raise ApiError(f"Trường “{name}” phải là chuỗi.", code="FIELD_INVALID", field=name)
    return value


def _int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(f"Trường “{name}” phải là số nguyên.", code="FIELD_INVALID", field=name)
    return value


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    """A JSON boolean (``"false"`` or ``0`` are refused, not read as true or false)."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ApiError(f"Trường “{name}” phải là true hoặc false.", code="FIELD_INVALID", field=name)
    return value


def _strings(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(f"Trường “{name}” phải là danh sách chuỗi.", code="FIELD_INVALID", field=name)
    return tuple(value)


def _datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = parse_iso(raw if "T" in raw else raw + "T00:00:00+07:00")
        moment.astimezone(UTC)  # (0001-01-01 in Vietnam is before year 1 in UTC: OverflowError)
    except (ValueError, OverflowError) as exc:
        raise ApiError(f"Thời điểm “{name}” không hợp lệ.", code="DATE_INVALID") from exc
    return moment


def _count_arg(name: str, default: int | None, code: str) -> int | None:
    """A non-negative integer query parameter, strictly: ``?version=2.0`` is refused (422), not
    silently read as absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise ApiError(f"Tham số “{name}” phải là số nguyên không âm.", code=code, field=name)
    return int(raw)


def _page_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # kho.digits: ``int()`` of more than 4,300 digits is a ValueError (``?page=`` and 5,000
    # nines: a 500 on every paged list before review rv45)
    number = ascii_int(raw)
    if number is None or not 1 <= number <= maximum:
        raise ApiError(
            f"Tham số “{name}” phải là số nguyên từ 1 đến {maximum}.", code="PAGE_INVALID", field=name
        )
    return number


def _paged(
    items: Sequence[Any], convert: Callable[[Any], Any], extra: Mapping[str, Any] | None = None
) -> Response:
    """One page of a list: ``{"items", "page", "page_size", "total", "pages"}``, and ``extra``'s
    fields about the whole list (the same on every page)."""
    page = _page_arg("page", 1, PAGE_MAX)
    size = _page_arg("page_size", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
    total = len(items)
    start = (page - 1) * size
    return _reply(
        {
            "items": [convert(item) for item in items[start : start + size]],
            "page": page,
            "page_size": size,
            "total": total,
            "pages": max(1, -(-total // size)),
            **(extra or {}),
        }
    )


def _token_dict(token: Any) -> dict[str, Any]:
    """A personal access token as listed: never its secret (only the SHA-256 digest names it)."""
    return {
        "digest": token.digest,
        "name": token.name,
        "created_at": token.created_at,
        "created_by": token.created_by,
        "revoked": token.revoked,
        "expires_at": token.expires_at,
        "scope": str(token.scope),
    }


ONE_CATCH_UP_VIEWS = frozenset({"records.show", "get_record"})
"""Endpoints that read one record and write nothing but their own audit events (the record page,
``GET /api/records/<id>``): their token check and their history of events share one catch-up of
the audit log's index (:func:`repository.audit.one_catch_up_begin`, s27). A request that acts on
a record (a destruction, a hold, a guard) is never one of them."""


def _one_catch_up_for_a_view() -> None:
    if request.method in ("GET", "HEAD") and request.endpoint in ONE_CATCH_UP_VIEWS:
        g.one_catch_up = one_catch_up_begin()


def _end_one_catch_up(_: BaseException | None) -> None:
    token = g.pop("one_catch_up", None)
    if token is not None:
        one_catch_up_end(token)


def create_app(
    settings: Settings | None = None, repo: Repository | None = None, kho: Kho | None = None
) -> Flask:
    """The API of one installation (``kho`` wires everything; tests may pass a repository)."""
    settings = settings or Settings.from_env()
    if kho is None:
        kho = Kho(settings, repo)
    kho.sweep_work_root()  # a killed process's working folders, before any request
    app = KhoFlask("kho")  # (a HEAD answered by one rule: web.heads)
    # Uploads beyond the limit are refused before they are read (413).
    app.config["MAX_CONTENT_LENGTH"] = kho.repo.max_file_bytes + 1024 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = FORM_MEMORY_MAX
    app.config["MAX_FORM_PARTS"] = FORM_PARTS_MAX
    if settings.trusted_proxies:  # the person's address, not the proxy's (web.proxies)
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks(settings.trusted_proxies))  # type: ignore[method-assign]
    app.before_request(bound_small_body)  # first: before the pages' CSRF check reads the form
    app.before_request(_one_catch_up_for_a_view)  # before the token check's catch-up
    app.teardown_request(_end_one_catch_up)
    app.extensions["kho"] = kho
    accounts = kho.accounts
    service = kho.repo

    # -- identity ------------------------------------------------------------------------------
    def actor() -> Actor:
        if "actor" in g:
            return g.actor
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("Cần đăng nhập: gửi mã truy cập trong tiêu đề Authorization: Bearer.")
        g.actor, g.account = kho.holder_from_token(
            secret.strip(), request.remote_addr, request.method, ends_itself=request.endpoint == "logout"
        )
        g.token = secret.strip()
        return g.actor

    def account_of(who: Actor) -> Any:
        """The caller's account as this request's token checks read it (m29: not read a second
        time, as the pages' ``current_account``); read for anyone else."""
        read = g.get("account")
        return read if read is not None and read.username == who.user else accounts.get(who.user)

    def authenticate_writes() -> None:
        """Name the caller of every API write before its view reads any input: about 27 views
        read their body or query first, so a request without a token was answered 422
        (``BODY_INVALID``, ``FIELD_REQUIRED``…) instead of 401, its JSON parsed for anyone
        (a16). The view's own ``actor()`` then reuses ``g.actor``. Login and the password
        change are the two doors without a token."""
        if (
            request.method in WRITE_METHODS
            and request.path.startswith("/api/")
            and request.endpoint is not None
            and request.endpoint not in TOKENLESS_ENDPOINTS
        ):
            actor()

    app.before_request(authenticate_writes)  # after bound_small_body: a body's size first

    # -- errors --------------------------------------------------------------------------------
    @app.errorhandler(KhoError)
    def on_kho_error(error: KhoError) -> Response:
        error = over_http(kho.refusal(error, g.get("actor")))
        return _error(error.code, error.message, error.http_status, error.details or None)

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        known = {
            404: ("NOT_FOUND", "Không tìm thấy địa chỉ này."),
            405: ("METHOD_NOT_ALLOWED", "Phương thức không được hỗ trợ ở địa chỉ này."),
            413: too_large_refusal(kho.repo.max_file_bytes),
            400: ("BAD_REQUEST", "Yêu cầu không hợp lệ."),
        }
        code, message = known.get(status, ("HTTP_ERROR", "Yêu cầu không xử lý được."))
        response = _error(code, message, status)
        if status == 405 and "Allow" in dict(error.get_headers()):
            response.headers["Allow"] = dict(error.get_headers())["Allow"]  # RFC 9110: what is offered
        return response

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.path, exc_info=error)
        return _error("INTERNAL_ERROR", "Lỗi hệ thống; sự cố đã được ghi lại. Vui lòng thử lại sau.", 500)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response

    @app.get("/healthz")
    def healthz() -> Response:
        kho.repo.store.exists("catalog/health")
        return _reply({"status": "ok"})

    @app.get("/api/openapi.json")
    def openapi() -> Response:
        """The OpenAPI 3.1 description of this API (public: it holds no data)."""
        from web.openapi import build

        return _reply(build())

    # -- login ---------------------------------------------------------------------------------
    def limited(username: str, attempt: Callable[[], Any]) -> Any:
        """``attempt`` under the login limiter the pages use (:func:`web.pages.common.limited`):
        refused with ``LOGIN_RATE_LIMITED`` (429) past it; a refused password counts."""
        from web.pages.common import limited as under_limit

        return under_limit(username, attempt)

    @app.post("/api/login")
    def login() -> Response:
        from repository.accounts import device_token

        data = _body()
        username = (_text(data, "username", required=True) or "").strip().lower()
        password = _text(data, "password", required=True) or ""
        # A client keeps the ``device`` of its last login and sends it back (a browser's device
        # cookie, review a21): without a valid one its wrong passwords lock only clients without.
        device = _text(data, "device") or ""
        account = limited(
            username, lambda: accounts.authenticate(username, password, request.remote_addr, device)
        )
        token = accounts.issue_token(account.username, "api-login", account, request.remote_addr)
        trusted = device_token(account, accounts.clock())
        return _reply({"token": token, "account": account.public_dict(), "device": trusted})

    @app.post("/api/password")
    def change_password() -> Response:
        """Change a password with the old one (also the way through a first-login change).
        Every other token of the account ends; the bearer token sent with the request, if
        any, stays valid (the caller stays logged in)."""
        from repository.accounts import device_token, token_digest

        data = _body()
        username = (_text(data, "username", required=True) or "").strip().lower()
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        current = secret.strip() if scheme.lower() == "bearer" else ""
        old = _text(data, "old_password", required=True) or ""
        new = _text(data, "new_password", required=True) or ""
        device = _text(data, "device") or ""
        changed = limited(
            username,
            lambda: accounts.change_password(
                username, old, new, request.remote_addr, keep=token_digest(current) if current else None,
                device=device,
            ),
        )
        return _reply({"ok": True, "device": device_token(changed, accounts.clock())})

    @app.post("/api/logout")
    def logout() -> Response:
        who = actor()
        from repository.accounts import token_digest

        accounts.revoke_token(who.user, token_digest(g.token), account_of(who), request.remote_addr)
        return _reply({"ok": True})

    @app.post("/api/sign-out-everywhere")
    def sign_out_everywhere() -> Response:
        """The person's "Đăng xuất khỏi mọi trình duyệt" (page ``/sign-out-everywhere``, review
        a22) for an API caller (review a24): every other token of the account ends and no browser
        is trusted any more; the bearer token sent stays, and the answer carries the new device
        token (as ``/api/password``). Same service, rule and audit event as the page."""
        from repository.accounts import device_token, token_digest

        who = actor()
        after = accounts.sign_out_everywhere(account_of(who), token_digest(g.token), request.remote_addr)
        return _reply({"ok": True, "device": device_token(after, accounts.clock())})

    @app.get("/api/me")
    def me() -> Response:
        who = actor()
        account = account_of(who)
        return _reply(
            {
                "account": account.public_dict(),
                "notifications": [n.to_dict() for n in kho.notifications(who)],
            }
        )

    # -- records -------------------------------------------------------------------------------
    @app.get("/api/records/<record_id>")
    def get_record(record_id: str) -> Response:
        version = _count_arg("version", None, "VERSION_INVALID")
        who = actor()
        record = service.get(_record_id(record_id), version, actor=who)
        return _reply(service.as_seen_by(record, who).to_dict())

    @app.get("/api/records/<record_id>/history")
    def record_history(record_id: str) -> Response:
        return _paged(service.history_as_seen(_record_id(record_id), actor=actor()), lambda r: r.to_dict())

    @app.get("/api/records/<record_id>/audit")
    def record_audit(record_id: str) -> Response:
        events = service.audit_events(actor=actor(), record_id=_record_id(record_id))
        return _paged(events, lambda e: e.__dict__)

    def original_headers(stop: Any, record_id: str) -> FileHeaders:
        stored = stop.described
        return FileHeaders(stored.media_type or "application/octet-stream", attachment(stored.stored_name))

    @app.get("/api/records/<record_id>/content")
    @file_route(original_headers)
    def record_content(record_id: str) -> Response:
        rid = _record_id(record_id)
        stored, data = service.read_content(rid, actor=actor(), action="content:download")
        response = Response(data, mimetype=stored.media_type or "application/octet-stream")
        response.headers["Content-Disposition"] = attachment(stored.stored_name)
        response.headers["X-Content-SHA256"] = stored.sha256
        return response

    @app.post("/api/records")
    @takes_upload
    def create_record() -> Response:
        who = actor()
        raw = request.form.get("metadata", "{}")
        metadata = _json(raw, "Trường metadata phải là JSON hợp lệ.", "METADATA_FILE_INVALID")
        if not isinstance(metadata, dict):
            raise ApiError("Trường metadata phải là một đối tượng JSON.", code="METADATA_FILE_INVALID")
        direction = request.form.get("direction", "")
        if direction not in ("den", "di"):
            raise ApiError("Trường direction phải là “den” hoặc “di”.", code="DIRECTION_INVALID")
        register = request.form.get("register", "true") != "false"
        options = {
            "register": register,
            "advisory_body": request.form.get("advisory_body") or None,
            "override_reason": request.form.get("override_reason") or None,
            "duplicate_reason": request.form.get("duplicate_reason") or None,
        }
        upload = request.files.get("file")
        if upload is not None:
            record = kho.receive.receive_and_register(
                upload.read(), upload.filename or "", direction, metadata, who, **options
            )
        else:
            record = service.create_document(direction, metadata, None, None, who, **options)
        return _reply(record.to_dict(), 201)

    @app.patch("/api/records/<record_id>")
    def update_record(record_id: str) -> Response:
        who = actor()
        data = _body()
        changes = data.get("changes")
        if not isinstance(changes, dict):
            raise ApiError(
                "Trường “changes” phải là một đối tượng JSON.", code="FIELD_INVALID", field="changes"
            )
        record = service.update_metadata(
            _record_id(record_id),
            changes,
            expected_version=_int(data, "expected_version"),
            actor=who,
            note=_text(data, "note"),
        )
        return _reply(service.shown_to(record, who).to_dict())

    @app.post("/api/records/<record_id>/grants")
    def grant(record_id: str) -> Response:
        who = actor()
        data = _body()
        record = kho.grant(
            _record_id(record_id),
            users=_strings(data, "users"),
            units=_strings(data, "units"),
            revoke=_flag(data, "revoke", False),
            actor=who,
        )
        return _reply(service.shown_to(record, who).to_dict())

    # -- receive → register ---------------------------------------------------------------------
    @app.post("/api/intake")
    @takes_upload
    def receive() -> Response:
        who = actor()
        upload = request.files.get("file")
        if upload is None:
            raise ApiError("Thiếu tệp văn bản (trường file).", code="FILE_REQUIRED")
        direction = request.form.get("direction", "den")
        review = kho.receive.receive(upload.read(), upload.filename or "", direction, who)
        return _reply(review.to_dict(), 201)

    @app.get("/api/intake")
    def intake_list() -> Response:
        return _paged(worklists.intake_queue(kho, actor()), lambda r: r.to_dict())

    @app.get("/api/intake/<record_id>")
    def intake_show(record_id: str) -> Response:
        return _reply(kho.receive.review(_record_id(record_id), actor()).to_dict())

    @app.post("/api/intake/<record_id>/confirm")
    def intake_confirm(record_id: str) -> Response:
        data = _body()
        metadata = data.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ApiError("Trường “metadata” phải là một đối tượng JSON.", code="FIELD_INVALID")
        record = kho.receive.confirm(
            _record_id(record_id),
            metadata,
            expected_version=_int(data, "expected_version"),
            actor=actor(),
            register=_flag(data, "register", True),
            advisory_body=_text(data, "advisory_body"),
            override_reason=_text(data, "override_reason"),
            duplicate_reason=_text(data, "duplicate_reason"),
            use_suggestions=_flag(data, "use_suggestions", False),
        )
        return _reply(record.to_dict())

    @app.post("/api/intake/<record_id>/return")
    def intake_return(record_id: str) -> Response:
        data = _body()
        record = kho.receive.return_document(_record_id(record_id), actor(), _text(data, "reason"))
        return _reply(record.to_dict())

    # -- registers, hồ sơ ----------------------------------------------------------------------
    @app.get("/api/registers/<series>/<year>")
    def register_list(series: str, year: str) -> Response:
        from repository.metadata import parse_date
        from repository.registers import register_year

        who = actor()
        number = register_year(year)  # the page's rule (422 FIELD_INVALID)
        try:
            start = parse_date(request.args.get("from"))
            end = parse_date(request.args.get("to"))
        except ValueError as exc:
            raise ApiError(f"Ngày không hợp lệ: {exc}.", code="DATE_INVALID") from exc
        rows = service.register(series, number, date_from=start, date_to=end, actor=who)
        # m64's note: numbers given before a backup whose documents the restored copy lacks.
        shown = service.register_note(series, number, actor=who)
        return _paged(rows, lambda r: r.to_dict(), {"numbers_lost_in_backup": shown})

    @app.post("/api/files")
    def file_create() -> Response:
        data = _body()
        metadata = data.get("metadata", data)
        if not isinstance(metadata, dict):
            raise ApiError("Trường “metadata” phải là một đối tượng JSON.", code="FIELD_INVALID")
        return _reply(service.create_file(metadata, actor()).to_dict(), 201)

    @app.post("/api/files/<file_id>/documents")
    def file_add(file_id: str) -> Response:
        who = actor()
        data = _body()
        record = service.add_to_file(
            _record_id(file_id),
            _record_id(_text(data, "document_id", required=True) or ""),
            expected_version=_int(data, "expected_version"),
            actor=who,
        )
        return _reply(service.shown_to(record, who).to_dict())

    @app.delete("/api/files/<file_id>/documents/<document_id>")
    def file_remove(file_id: str, document_id: str) -> Response:
        expected = _count_arg("expected_version", None, "FIELD_INVALID")
        if expected is None:
            raise ApiError(
                "Thiếu tham số “expected_version”.", code="FIELD_REQUIRED", field="expected_version"
            )
        record = service.remove_from_file(
            _record_id(file_id),
            _record_id(document_id),
            expected_version=expected,
            actor=actor(),
            reason=request.args.get("reason", ""),
        )
        return _reply(service.shown_to(record, actor()).to_dict())

    # -- search --------------------------------------------------------------------------------
    @app.get("/api/search")
    def search() -> Response:
        from search.cli import result_to_dict
        from search.query import FACETS, Principal, filters_from_mapping, parse_query

        who = actor()
        service.authorize(who, Action.SEARCH)
        text = request.args.get("q", "")
        # Dates are one value each; every other filter may repeat (values are alternatives).
        filters: dict[str, Any] = {
            k: (request.args.get(k) if k.endswith(("_from", "_to")) else request.args.getlist(k))
            for k in request.args
            if k not in ("q", "page", "page_size", "sort")
        }
        query = parse_query(
            text,
            Principal.from_scope(search_scope(who.as_principal)),
            filters=filters_from_mapping(filters),
            sort=request.args.get("sort", "relevance"),
            page=_count_arg("page", 1, "SEARCH_PAGE_INVALID") or 0,
            page_size=_count_arg("page_size", 20, "SEARCH_PAGE_INVALID") or 0,
            facets=FACETS,
        )
        from search.labels import value_label
        from web.pages.search import checked
        from web.worklists import unit_names

        result = checked(kho.backend.search(query), who)
        service.audit_search(who, text, result.total, filters)

        data = result_to_dict(result)
        names = unit_names(kho)
        for facet in data["facets"]:  # each value as people read it (unit names, not ids)
            for value in facet["values"]:
                value["label"] = value_label(facet["name"], value["value"], names)
        return _reply(data)

    # -- audit ---------------------------------------------------------------------------------
    @app.get("/api/audit")
    def audit_log() -> Response:
        record_id = request.args.get("record")
        events = service.audit_events(
            actor=actor(),
            record_id=_record_id(record_id) if record_id else None,
            user=request.args.get("user") or None,
            action=request.args.get("action") or None,
            since=_datetime_arg("since"),
            until=_datetime_arg("until"),
        )
        return _paged(events, lambda e: e.__dict__)

    @app.get("/api/audit/verify")
    def audit_verify() -> Response:
        from repository.acknowledge import findings_digest

        report = service.audit_verify(actor=actor())
        return _reply(
            {
                "ok": report.ok,
                "events": report.events,
                "findings": [f.__dict__ for f in report.findings],
                "findings_digest": findings_digest(report.findings) if not report.ok else None,
            }
        )

    @app.post("/api/audit/acknowledge")
    def audit_acknowledge() -> Response:
        """The auditor's signed acknowledgement (``kho audit acknowledge``), by an access token
        issued before the log refused events (a login now cannot be recorded; the web form
        and the command authenticate by password instead)."""
        who = actor()
        data = _body()
        event, cp, report = service.audit_acknowledge(
            actor=who,
            digest=_text(data, "findings", required=True) or "",
            reason=_text(data, "reason", required=True) or "",
            login={"user": who.user, "method": "token", "source": who.source, "via": "api"},
        )
        return _reply(
            {
                "ok": report.ok,
                "event": event.seq,
                "checkpoint": cp["number"],
                "findings": [f.__dict__ for f in report.findings],
            },
            201,
        )

    # -- accounts (quản trị) -------------------------------------------------------------------
    @app.get("/api/units")
    def units() -> Response:
        actor()
        return _paged(accounts.units(), lambda u: u.to_dict())

    @app.post("/api/units")
    def unit_create() -> Response:
        who = actor()
        data = _body()
        unit = accounts.create_unit(
            _text(data, "unit_id", required=True) or "",
            _text(data, "name", required=True) or "",
            _text(data, "code", required=True) or "",
            _text(data, "parent_id"),
            account_of(who),
        )
        return _reply(unit.to_dict(), 201)

    @app.get("/api/accounts")
    def account_list() -> Response:
        who = actor()
        service.authorize(who, Action.ACCOUNT_MANAGE)
        return _paged(accounts.managed_by(account_of(who)), lambda a: a.public_dict())

    @app.post("/api/accounts")
    def account_create() -> Response:
        who = actor()
        data = _body()
        """Two-person initial password, first step: the creator receives the first half (once);
        another quản trị or the lãnh đạo of the unit confirms (``confirm-reset``)."""
        account, first = accounts.create_account(
            _text(data, "full_name", required=True) or "",
            _text(data, "unit", required=True) or "",
            _strings(data, "roles"),
            _int(data, "clearance") if "clearance" in data else 0,
            _text(data, "email"),
            account_of(who),
            request.remote_addr,
        )
        return _reply({"account": account.public_dict(), "first_half": first}, 201)

    def _username(value: str) -> str:
        if not USERNAME.fullmatch(value):  # (``$`` also matches before a final line break)
            raise IdentifierInvalid("Tên tài khoản không hợp lệ.", code="ACCOUNT_NOT_FOUND")
        return value

    @app.post("/api/accounts/<username>/lock")
    def account_lock(username: str) -> Response:
        who = actor()
        data = _body()
        account = accounts.lock(
            _username(username), _text(data, "reason") or "admin", account_of(who), request.remote_addr
        )
        return _reply(account.public_dict())

    @app.post("/api/accounts/<username>/unlock")
    def account_unlock(username: str) -> Response:
        who = actor()
        return _reply(
            accounts.unlock(_username(username), account_of(who), request.remote_addr).public_dict()
        )

    @app.post("/api/accounts/<username>/reset")
    def account_reset(username: str) -> Response:
        """Two-person reset, first step: the quản trị receives the first half of the one-time
        password (once: it is stored only as a hash)."""
        who = actor()
        account, first = accounts.reset_password(_username(username), account_of(who), request.remote_addr)
        return _reply({"account": account.public_dict(), "first_half": first})

    @app.post("/api/accounts/<username>/confirm-reset")
    def account_confirm_reset(username: str) -> Response:
        """Two-person reset or new account, second step: another quản trị or the lãnh đạo of the
        person's unit (never the one who reset or created it, nor the person) receives the second
        half."""
        who = actor()
        account, second = accounts.confirm_reset(_username(username), account_of(who), request.remote_addr)
        return _reply({"account": account.public_dict(), "second_half": second})

    @app.post("/api/accounts/<username>/clearance")
    def account_clearance(username: str) -> Response:
        """Set someone's clearance (review a25: the service's ``set_clearance`` had no door): a
        quản trị of the person's units; a raise only up to the clearance the quản trị holds
        (``policy.grants_clearance``, ``SECRECY_CLEARANCE_DENIED``), never their own
        (``SELF_CHANGE``). Audited ``account:clearance``; the person is told."""
        who = actor()
        level = _int(_body(), "clearance")
        account = accounts.set_clearance(_username(username), level, account_of(who), request.remote_addr)
        return _reply(account.public_dict())

    @app.post("/api/accounts/<username>/roles")
    def account_roles(username: str) -> Response:
        who = actor()
        data = _body()
        pairs = data.get("memberships")
        if not isinstance(pairs, list) or not all(
            isinstance(p, dict) and isinstance(p.get("unit"), str) and isinstance(p.get("role"), str)
            for p in pairs
        ):
            raise ApiError(
                "Trường “memberships” phải là danh sách {unit, role}.",
                code="FIELD_INVALID",
                field="memberships",
            )
        account = accounts.set_roles(
            _username(username), [(p["unit"], p["role"]) for p in pairs], account_of(who), request.remote_addr
        )
        return _reply(account.public_dict())

    @app.post("/api/accounts/<username>/tokens")
    def token_issue(username: str) -> Response:
        who = actor()
        data = _body()
        token = accounts.issue_token(
            _username(username),
            _text(data, "name") or "api",
            account_of(who),
            request.remote_addr,
            days=data.get("days"),
            scope=data.get("scope"),
        )
        return _reply({"token": token}, 201)

    @app.get("/api/accounts/<username>/tokens")
    def token_list(username: str) -> Response:
        who = actor()
        tokens = accounts.list_tokens(_username(username), account_of(who), request.remote_addr)
        return _paged(tokens, _token_dict)

    @app.delete("/api/accounts/<username>/tokens/<digest>")
    def token_revoke(username: str, digest: str) -> Response:
        who = actor()
        accounts.revoke_token(_username(username), digest, account_of(who), request.remote_addr)
        return _reply({"ok": True})

    # -- handling incoming documents (issue 15) -------------------------------------------------
    from repository.workflow import Act, Handling

    def _handling_dict(state: Handling) -> dict[str, Any]:
        return {
            "record_id": state.record_id,
            "seq": state.seq,
            "status": state.status,
            "status_label": state.status_label,
            "deadline": state.deadline,
            "leaders": list(state.leaders),
            "units": list(state.units),
            "directed_by": state.directed_by,
            "tasks": [
                {
                    "task_id": t.task_id,
                    "assigner": t.assigner,
                    "units": list(t.units),
                    "users": list(t.users),
                    "handler": t.handler, "deadline": t.deadline, "content": t.content, "status": t.status,
                    "finished_on": t.finished_on, "extensions": t.extensions,
                    "extension": t.extension.__dict__ if t.extension else None,
                }
                for t in state.tasks
            ],
            "answers": [{"record_id": a, "label": b} for a, b in state.answers],
            "outgoing": [s.__dict__ for s in state.outgoing],
            "steps": [s.to_dict() for s in state.steps],
            "trace": state.trace(),
            "phu_luc_vi": state.phu_luc_vi(),
        }

    @app.get("/api/handling/<record_id>")
    def handling_show(record_id: str) -> Response:
        _, state = kho.handling.state(_record_id(record_id), actor=actor())
        return _reply(_handling_dict(state))

    @app.post("/api/handling/<record_id>/steps")
    def handling_step(record_id: str) -> Response:
        data = _body()
        try:
            act = Act(_text(data, "act", required=True))
        except ValueError as exc:
            raise ApiError(
                "Trường “act” không hợp lệ: " + ", ".join(a.value for a in Act) + ".", code="FIELD_INVALID",
                field="act",
            ) from exc
        fields: dict[str, Any] = {}
        for name in ("users", "units", "cooperate_users", "cooperate_units"):
            if name in data:
                fields[name] = _strings(data, name)
        for name in ("task", "deadline", "note", "content", "ref", "code", "organ"):
            value = _text(data, name)
            if value is not None:
                fields[name] = value
        if "ref" in fields:
            _record_id(fields["ref"])
        if "approved" in data:
            fields["approved"] = _flag(data, "approved", False)
        expected = _int(data, "expected_seq")
        if expected < 0:
            raise ApiError("Trường “expected_seq” phải ≥ 0.", code="FIELD_INVALID", field="expected_seq")
        state = kho.handling.take(_record_id(record_id), act, expected_seq=expected, actor=actor(), **fields)
        return _reply(_handling_dict(state), 201)

    @app.get("/api/work")
    def my_work() -> Response:
        who = actor()
        h, sight = kho.handling, kho.handling.sight(who)
        counts, items = h.counts(who, sight=sight), h.my_work(who, sight=sight)
        return _reply({"counts": counts.__dict__, "items": [i.__dict__ for i in items]})

    def _date_arg(name: str, default: date) -> date:
        raw = request.args.get(name)
        if raw is None:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ApiError(
                f"Ngày “{name}” không hợp lệ (YYYY-MM-DD).", code="DATE_INVALID", field=name
            ) from exc

    @app.get("/api/handling/report")
    def handling_report() -> Response:
        today = kho.handling.today()
        start, end = _date_arg("start", today.replace(day=1)), _date_arg("end", today)
        if end < start:
            raise ApiError("“end” phải sau “start”.", code="DATE_INVALID", field="end")
        kind = request.args.get("kind", "den")
        if kind not in ("den", "di"):
            raise ApiError("“kind” phải là den hoặc di.", code="FIELD_INVALID", field="kind")
        report = kho.handling.report(actor(), start, end, request.args.get("unit") or None, kind)
        return _reply({**report, "start": start.isoformat(), "end": end.isoformat()})
    from web.retention_api import register_retention_api

    register_retention_api(app, kho, actor)

    from web.disposal_api import register_disposal_api

    register_disposal_api(
        app, kho, actor, reply=_reply, body=_body, text=_text, strings=_strings, flag=_flag,
        record_id=_record_id,
    )

    from web.api_extra import register_extra_api
    from web.pages import register_pages

    register_extra_api(app, kho, actor, account_of)
    register_pages(app, kho)
    cross_site.install(app, kho.repo.audit)  # last: its answer is the pages' or the API's
    return app
