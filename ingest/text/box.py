"""pdfium reading a file that may be hostile, in a pre-started worker process bounded in memory and
time: a page that never ends or grows without end costs the bound and no more, and an abort
under the memory limit ends the worker, never the caller (a Celery or bulk worker, the web
process).

The workers are those of the signature verification (:class:`ingest.workerpool.VerifierPool`, a
module that imports no pyHanko) started with another entry point (``python -m
ingest.text._worker KIND MB``): fresh interpreters, not forked, so the caller's threads (the
store's write pools, a threaded web server) change nothing; each limits its own address space to
what it maps once pdfium is imported plus ``MB``; every exchange has a deadline; a worker that
overran, died or ran out of memory is replaced. One pool per process, kind and memory bound,
started on first use (or ahead: :func:`prestart`) and shared by the process's threads. Request
kinds: ``text`` (the text layer of every page: :func:`ingest.text.pdf.read_text_layer`),
``render`` (one page drawn for OCR, an 8-bit BMP: :func:`ingest.text.pdf.render_for_ocr`),
``view`` (one page image: :func:`web.pages.document_view.draw_page`), ``pages`` (a page count)
and ``print`` (the print copy, pypdf: :func:`web.pages.document_view.stamp_in_worker`).
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import re
import struct
import sys
import threading
import unicodedata
from typing import Any, BinaryIO

from ingest.text import errors as text_errors
from ingest.workerpool import (
    READY,
    BadReply,
    Limits,
    VerifierPool,
    _limit_memory,
    _mapped_bytes,
    _recv_request,
)
from kho import errors as kho_errors
from kho import jsontext

logger = logging.getLogger(__name__)

HANDLERS = {
    "text": ("ingest.text.pdf", "read_text_layer"),
    "view": ("web.pages.document_view", "draw_page"),
    "pages": ("web.pages.document_view", "count_pages"),
    "render": ("ingest.text.pdf", "render_for_ocr"),
    "print": ("web.pages.document_view", "stamp_in_worker"),
}
"""Request kind → (module, function) run in the worker as ``function(data, *args)``."""

WORKER_PRELOAD = ("pypdfium2", "pypdfium2.raw", "PIL.Image")
"""Imported by every worker before its memory limit is measured, whatever its kind: pdfium
(``web.pages.document_view`` imports it only inside its functions) and Pillow (page images)."""

POOL_OF = {"pages": "view", "render": "text", "print": "view"}
"""Kinds served by another kind's workers (same module, same bounds): the record page's page
count and the print copy by the page images' worker, a page drawn for OCR by the text layer's worker (the same
worker when ``ocr_render_memory_mb`` = ``text_layer_memory_mb``), no third process."""

MAX_RENDER_DPI = 10_000
"""Largest resolution taken back with a page drawn for OCR."""


def render_reply_cap(max_render_pixels: int) -> int:
    """Largest reply to a ``render`` request: an 8-bit BMP of ``max_render_pixels`` (a row is
    padded to 4 bytes: at most 4 bytes a pixel for a one-pixel-wide page), head and palette."""
    return 4 * max_render_pixels + (1 << 20)


MAX_PAGE_COUNT = 10_000_000
"""Largest page count taken back (pdfium counts at most a few million)."""

POOL_SIZES = {"text": "KHO_TEXT_WORKERS", "view": "KHO_VIEW_WORKERS"}
"""Workers per pool (default 1: a pipeline reads one document at a time; a threaded web server
may set more)."""


class BoxLimit(Exception):
    """The worker went past its bound: ``why`` is ``timeout``, or ``died`` (a signal or an exit
    without an answer: the memory limit, a native abort; or no worker ready)."""

    def __init__(self, why: str, detail: str) -> None:
        super().__init__(f"{why}: {detail}")
        self.why = why
        self.detail = detail


_pools: dict[tuple[str, int], VerifierPool] = {}
_pools_pid = os.getpid()
_pools_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A forked child starts with a fresh lock: another thread of the parent may have held it
    at the fork, and no thread of the child would ever release it."""
    global _pools_lock
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def pool(kind: str, memory_mb: int) -> VerifierPool:
    """The process's pool for ``kind`` with workers bounded at ``memory_mb`` over their start,
    made on first use. A forked process (a Celery pool process) never uses its parent's workers:
    their pipes belong to the parent."""
    global _pools_pid
    if kind not in HANDLERS:
        raise ValueError(f"unknown request kind {kind!r}")
    with _pools_lock:
        if _pools_pid != os.getpid():
            _pools.clear()  # the parent's; not closed here (that would stop the parent's workers)
            _pools_pid = os.getpid()
        found = _pools.get((kind, memory_mb))
        if found is None:
            size = int(os.environ.get(POOL_SIZES[kind], "1"))
            # the deadline is per request (``run``): the pool's own is only the default
            limits = Limits(
                timeout=180.0, memory_mb=memory_mb,
                ready_timeout=float(os.environ.get("KHO_SIGNATURE_READY_TIMEOUT", "10")),
            )
            found = _pools[(kind, memory_mb)] = VerifierPool(
                size, limits, command=(sys.executable, "-m", "ingest.text._worker", kind),
                name=f"pdfium {kind}",
            )
            atexit.register(found.close)
        return found


def prestart(kind: str, memory_mb: int) -> None:
    """Start the pool's first worker now (returns at once; its start overlaps the caller's)."""
    pool(kind, memory_mb).prestart()


def run(
    kind: str, data: bytes, args: tuple[Any, ...], *, timeout: float, memory_mb: int,
    max_reply: int = 256 * 1024 * 1024,
) -> Any:
    """``HANDLERS[kind](data, *args)`` in a worker bounded by ``memory_mb`` and ``timeout``
    seconds: its result, or the error it raised (rebuilt from its code, message and details:
    :func:`decode_reply`); :class:`BoxLimit` when the worker went past a bound or its reply
    (at most ``max_reply`` bytes) was refused."""
    status, payload = pool(POOL_OF.get(kind, kind), memory_mb).call(
        data, (kind, *args), timeout,
        decode=lambda blob: decode_reply(kind, blob), max_reply=max_reply,
    )
    if status == "ok":
        return payload
    if status == "error":
        raise payload
    if status == "timeout":
        raise BoxLimit("timeout", f"{timeout:g} s")
    raise BoxLimit("died", f"{status} {payload}")


def worker_main(kind: str, memory_mb: int) -> None:
    """Loop of one worker (``python -m ingest.text._worker KIND MB``): the protocol of the
    verification workers (:data:`READY`, then a request; one reply per request)."""
    import faulthandler

    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    protocol_in = sys.stdin.buffer
    faulthandler.disable()  # a native abort under the limit is an answer, not a traceback
    # imported before the limit is measured and set: the handler's module, and what the
    # handlers import on first use (a request's allowance is for the document, not for them)
    for module in (HANDLERS[kind][0], *WORKER_PRELOAD):
        importlib.import_module(module)
    # What this interpreter maps with pdfium loaded, plus the document's allowance (as a17's
    # forked child had it over what it inherited).
    _limit_memory(_mapped_bytes() + memory_mb * 1024 * 1024)
    while True:
        protocol_out.write(READY)
        protocol_out.flush()
        try:
            data, asked, *args = _recv_request(protocol_in)
        except (EOFError, OSError):
            return
        _send_reply(protocol_out, _reply(asked, data, args))
        del data


def _reply(kind: str, data: bytes, args: list[Any]) -> tuple[dict[str, Any], bytes]:
    """The reply to one request as (JSON head, raw bytes): :func:`decode_reply` reads it."""
    module, name = HANDLERS[kind]
    try:
        result = getattr(importlib.import_module(module), name)(data, *args)
    except MemoryError:
        return {"status": "memory"}, b""
    except kho_errors.KhoError as exc:
        details = {str(k): v if isinstance(v, _SCALARS) else str(v) for k, v in exc.details.items()}
        return {"status": "error", "class": type(exc).__name__, "code": exc.code,
                "message": exc.message, "details": details}, b""
    except Exception as exc:  # not one of Kho's: its text
        return {"status": "error", "class": "RuntimeError",
                "message": f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE]}, b""
    if kind == "text":
        pages = [[p.number, p.text, p.needs_ocr, p.empty] for p in result]
        return {"status": "ok", "pages": pages}, b""
    if kind == "pages":
        return {"status": "ok", "count": int(result)}, b""
    if kind == "render":
        image, warning = result
        return {"status": "ok", "dpi": int(image.dpi),
                "warning": None if warning is None else warning.message}, bytes(image.data)
    return {"status": "ok"}, bytes(result)


def _send_reply(stream: BinaryIO, reply: tuple[dict[str, Any], bytes]) -> None:
    # ASCII with \u escapes: any str round-trips, a lone surrogate from a PDF included
    head = json.dumps(reply[0], ensure_ascii=True).encode("ascii")
    blob = struct.pack(">I", len(head)) + head + reply[1]
    stream.write(struct.pack(">Q", len(blob)) + blob)
    stream.flush()


# What the caller takes back from a worker that parsed hostile bytes: data, never code. The
# reply is a length, a JSON head and raw bytes (the page image); every field is checked here.
_SCALARS = (str, int, float, bool, type(None))
_MAX_MESSAGE = 2000
_MAX_DETAILS = 20
_CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_PNG = b"\x89PNG\r\n\x1a\n"
_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        kho_errors.KhoError, kho_errors.NotFound, text_errors.FileCorrupt,
        text_errors.FileEncrypted, text_errors.FileTooManyPages, text_errors.FileTextTooLarge,
        text_errors.FileBomb, text_errors.FileTooComplex,
    )
}
"""The errors a worker's handler raises that the caller rebuilds as themselves (by name; any
other is a ``RuntimeError`` with its text)."""


def decode_reply(kind: str, blob: bytes) -> tuple[str, Any]:
    """``(status, payload)`` of a worker's reply to a ``kind`` request, checked field by field:
    :class:`BadReply` for anything else (nothing in it is run, imported or looked up)."""
    if len(blob) < 4:
        raise BadReply("reply too short")
    (head_size,) = struct.unpack(">I", blob[:4])
    if head_size > len(blob) - 4:
        raise BadReply("reply head longer than the reply")
    try:
        head = jsontext.loads(blob[4 : 4 + head_size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadReply(f"reply head not JSON: {type(exc).__name__}") from exc
    raw = blob[4 + head_size :]
    if not isinstance(head, dict):
        raise BadReply("reply head not an object")
    status = head.get("status")
    if status == "memory" and set(head) == {"status"} and not raw:
        return "memory", None
    if status == "error" and not raw:
        return "error", _error(head)
    if status == "ok" and kind == "text" and set(head) == {"status", "pages"} and not raw:
        return "ok", _pages(head["pages"])
    if status == "ok" and kind == "view" and set(head) == {"status"} and raw.startswith(_PNG):
        return "ok", raw
    if status == "ok" and kind == "print" and set(head) == {"status"} and raw.startswith(b"%PDF-"):
        return "ok", raw
    if status == "ok" and kind == "pages" and set(head) == {"status", "count"} and not raw:
        count = head["count"]
        if type(count) is int and 0 <= count <= MAX_PAGE_COUNT:
            return "ok", count
    if status == "ok" and kind == "render" and set(head) == {"status", "dpi", "warning"}:
        dpi, warning = head["dpi"], head["warning"]
        if (type(dpi) is int and 1 <= dpi <= MAX_RENDER_DPI and raw.startswith(b"BM")
                and (warning is None
                     or (isinstance(warning, str) and len(warning) <= _MAX_MESSAGE))):
            note = None if warning is None else unicodedata.normalize("NFC", warning)
            return "ok", (dpi, raw, note)
    raise BadReply(f"reply not a {kind} answer")


def _pages(pages: Any) -> list[Any]:
    from ingest.text.pdf import _PageInfo

    if not isinstance(pages, list):
        raise BadReply("pages not a list")
    out = []
    for expected, page in enumerate(pages, 1):
        if not (isinstance(page, list) and len(page) == 4):
            raise BadReply("page not [number, text, needs_ocr, empty]")
        number, text, needs_ocr, empty = page
        if (type(number) is not int or number != expected or not isinstance(text, str)
                or type(needs_ocr) is not bool or type(empty) is not bool):
            raise BadReply(f"page {expected} malformed")
        out.append(_PageInfo(number, text, needs_ocr, empty))
    return out


def _error(head: dict[str, Any]) -> Exception:
    name, message = head.get("class"), head.get("message")
    if not (isinstance(name, str) and isinstance(message, str) and len(message) <= _MAX_MESSAGE):
        raise BadReply("error without class or message")
    message = unicodedata.normalize("NFC", message)
    if name == "RuntimeError" and set(head) == {"status", "class", "message"}:
        return RuntimeError(message)
    cls = _ERRORS.get(name)
    code, details = head.get("code"), head.get("details")
    if (cls is None or set(head) != {"status", "class", "code", "message", "details"}
            or not isinstance(code, str) or not _CODE_RE.fullmatch(code)
            or not isinstance(details, dict) or len(details) > _MAX_DETAILS
            or not all(isinstance(k, str) and len(k) <= 64 and isinstance(v, _SCALARS)
                       and (not isinstance(v, str) or len(v) <= _MAX_MESSAGE)
                       for k, v in details.items())):
        raise BadReply(f"error {name!r} malformed")
    error = cls(message, code=code)
    error.details = dict(details)
    return error
