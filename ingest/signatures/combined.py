"""One pdfium read of a born-digital PDF for both the text step and the verification.

The text step of the pipeline, for a PDF, asks the verification worker (:mod:`._pool`) for
"verify + text layer" in one request. The worker opens the document with its own pdfium once
and loads each page and text page once: from them it takes the viewer's view of the final
document (:func:`._viewer.page_view_with`) and the text layer, by the text worker's own rule
(:func:`ingest.text.pdf.page_info_on`), under the text layer's memory bound. Then it verifies
as it would otherwise, the view given to the whole-document check instead of a second read
(:func:`.verify.final_view_given`). The verifier never takes a reading made by another
process: the view and the verdict come from the same worker and the same bytes.

Any failure of the combined request (the text layer's memory or time bound, a file pdfium
cannot read, the verification's own limits, a refused reply) answers ``None``: the caller
then reads the text in the text worker and verifies in a separate request, exactly as without
this module, so a hostile document gets exactly the codes it gets there (FILE_TOO_COMPLEX,
INDETERMINATE).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ingest.signatures.model import PdfVerification
from ingest.workerpool import BadReply, VerifierPool, _mapped_bytes

if TYPE_CHECKING:
    from ingest.signatures.rules import CryptoPolicy
    from ingest.signatures.trust import TrustStore
    from ingest.text.pdf import _PageInfo
    from ingest.text.settings import TextSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadOnce:
    """What one combined request gives: the text layer and the verification of one PDF."""

    pages: list[_PageInfo]
    """Every page's text layer, as :func:`ingest.text.pdf.read_text_layer` reads it."""
    verification: PdfVerification
    """The verdict, as :func:`ingest.signatures.verify_pdf` gives it."""


class TextLayerOverTime(Exception):
    """The text layer took longer than ``text_layer_timeout`` in the combined read."""


def verify_and_read_text(
    data: bytes,
    trust: TrustStore,
    *,
    allow_fetching: bool,
    policy: CryptoPolicy,
    settings: TextSettings,
    pool: VerifierPool | None = None,
    now: datetime | None = None,
) -> ReadOnce | None:
    """The text layer and the verification of ``data`` from one request to the verification
    worker, or ``None`` when the request failed in any way (the caller reads and verifies as
    it does without it). Never raises for the document."""
    from ingest.signatures import _pool
    from ingest.text import box

    workers = pool or _pool.shared_pool()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    request: tuple[Any, ...] = (allow_fetching, moment, policy, settings)
    try:  # the trust list goes to a worker once, by its digest after that (workerpool.Material)
        status, payload = workers.call(
            data, request, settings.text_layer_timeout + workers.limits.timeout,
            material=trust.worker_material,
        )
    except Exception as exc:  # the pool itself failed: the separate requests will say
        logger.warning("combined verify + text request failed: %s", exc)
        return None
    if status != "ok":
        logger.info("combined verify + text request: %s %s", status, payload)
        return None
    try:
        if not (isinstance(payload, dict) and set(payload) == {"verification", "pages"}):
            raise BadReply("reply not {verification, pages}")
        return ReadOnce(
            pages=box._pages(payload["pages"]),
            verification=PdfVerification.from_dict(payload["verification"]),
        )
    except Exception as exc:  # a refused reply: the separate requests answer
        logger.warning("combined verify + text reply refused: %s", exc)
        return None


def combined_reply(
    data: bytes,
    trust: Any,
    allow_fetching: bool,
    now: Any,
    policy: Any,
    settings: TextSettings,
    cleanup: list[Callable[[], None]] | None = None,
) -> tuple[str, Any]:
    """The worker's answer to "verify + text layer": ``ok`` with the verification (as
    :func:`._pool._verify_reply` gives it) and the pages, ``unread`` when the text layer was not
    read within its bounds (nothing verified), or the verification's own problem."""
    from ingest.signatures import verify
    from ingest.signatures._pool import _verify_reply

    try:
        view, pages = read_once(data, settings)
    except MemoryError:
        return "memory", None
    except BaseException as exc:  # never leave the caller waiting
        return "unread", f"{type(exc).__name__}: {exc}"[:300]
    with verify.final_view_given(data, view):
        status, payload = _verify_reply(data, trust, allow_fetching, now, policy, cleanup)
    if status != "ok":
        return status, payload
    rows = [[p.number, p.text, p.needs_ocr, p.empty] for p in pages]
    return "ok", {"verification": payload, "pages": rows}


def read_once(data: bytes, settings: TextSettings) -> tuple[Any, list[_PageInfo]]:
    """The viewer's view of ``data`` and its text layer, each page and text page loaded once,
    within the text layer's memory bound and page count; :class:`TextLayerOverTime` past its
    time (the caller's deadline bounds a page that never ends)."""
    from ingest.signatures import _viewer
    from ingest.text.pdf import page_info_on

    began = time.monotonic()
    with _memory_bound(settings.text_layer_memory_mb):
        view, pages = _viewer.page_view_with(
            data,
            # the page's objects walked once, for the view and the text layer's rule
            lambda page, textpage, number, read: page_info_on(  # type: ignore[arg-type]
                page, textpage, number, settings, content=(bool(read.objects), read.image_bounds)
            ),
            min(settings.max_pages, _viewer.VIEW_MAX_PAGES),
        )
    elapsed = time.monotonic() - began
    if elapsed > settings.text_layer_timeout:
        raise TextLayerOverTime(f"{elapsed:.1f} s > {settings.text_layer_timeout:g} s")
    return view, pages


@contextlib.contextmanager
def _memory_bound(memory_mb: int) -> Iterator[None]:
    """Within the block, this process's address space is at most what it maps now plus
    ``memory_mb`` (the text worker's bound over its start), where that is below its own
    limit; the limit it had is restored after."""
    try:
        import resource
    except ImportError:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    bound = _mapped_bytes() + memory_mb * 1024 * 1024
    if soft != resource.RLIM_INFINITY and soft <= bound:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
