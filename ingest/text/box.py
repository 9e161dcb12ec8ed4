"""pdfium reading a file that may be hostile, in a pre-started worker process bounded in memory
and time: a page that never ends or grows without end costs the bound and no more, and an abort
under the memory limit ends the worker, never the caller (a Celery or bulk worker, the web
process).

The workers are those of the signature verification (:class:`ingest.signatures._pool.VerifierPool`)
started with another entry point (``python -m ingest.text._worker KIND MB``): fresh interpreters,
not forked, so the caller's threads (the store's write pools, a threaded web server) change
nothing; each limits its own address space to what it maps once pdfium is imported plus ``MB``;
every exchange has a deadline; a worker that overran, died or ran out of memory is replaced. One
pool per process, kind and memory bound, started on first use (or ahead: :func:`prestart`) and
shared by the process's threads. Request kinds: ``text`` (the text layer of every page:
:func:`ingest.text.pdf.read_text_layer`) and ``view`` (one page image:
:func:`web.pages.document_view.draw_page`).
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import pickle
import sys
import threading
from typing import Any

from ingest.signatures._pool import (
    READY,
    Limits,
    VerifierPool,
    _limit_memory,
    _mapped_bytes,
    _recv_request,
    _send,
)

logger = logging.getLogger(__name__)

HANDLERS = {
    "text": ("ingest.text.pdf", "read_text_layer"),
    "view": ("web.pages.document_view", "draw_page"),
}
"""Request kind → (module, function) run in the worker as ``function(data, *args)``."""

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


def run(kind: str, data: bytes, args: tuple[Any, ...], *, timeout: float, memory_mb: int) -> Any:
    """``HANDLERS[kind](data, *args)`` in a worker bounded by ``memory_mb`` and ``timeout``
    seconds: its result, or the exception it raised (as it was raised there);
    :class:`BoxLimit` when the worker went past a bound."""
    status, payload = pool(kind, memory_mb).call(data, (kind, *args), timeout)
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
    importlib.import_module(HANDLERS[kind][0])  # imported before the limit is measured and set
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
        _send(protocol_out, _reply(asked, data, args))
        del data


def _reply(kind: str, data: bytes, args: list[Any]) -> tuple[str, Any]:
    module, name = HANDLERS[kind]
    try:
        reply: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), name)(data, *args))
    except MemoryError:
        return "memory", None
    except Exception as exc:  # handed to the caller as it was
        reply = ("error", exc)
    try:
        pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # one that does not pickle: its text
        return "error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}"[:300])
    return reply
