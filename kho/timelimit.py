"""Celery's soft time limit as the ingest worker raises it, and the limit a finalizer swallowed.

billiard delivers the soft limit as a signal whose handler raises in the task's main thread
wherever it is. Where that is a finalizer or a weakref callback (``WeakSet._remove`` in the
middle of a verification, a ``__del__`` run by the collector), Python cannot raise it into the
code that was running: it reports the exception as "unraisable" ("Exception ignored in …") and
goes on, and the limit fires only once. The verification returned its verdict and the job ran
on to the hard limit, which kills the process (CI, session 47: ``test_soft_limit_swallowed_rv13``).

The handler therefore also installs :func:`_keep_lost_limit` as ``sys.unraisablehook``: a
:class:`SoftTimeLimit` that reaches it is kept, and :func:`raise_lost_limit` raises it again at
the next check point (after a verification's answer, after each pipeline step, at each object
a backup copies and each record a fixity check reads). A limit that propagated as usual never
reaches the hook, so it is never raised twice. Each ingest and scheduled task starts with
:func:`forget_lost_limit`: a limit lost in a task that then finished is not the next task's.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

logger = logging.getLogger(__name__)


class SoftTimeLimit(BaseException):
    """Celery's soft time limit as the ingest worker raises it (:func:`soft_limit_handler`):
    not an :class:`Exception`. billiard's own ``SoftTimeLimitExceeded`` is one, raised by a
    signal in the task's main thread wherever it is, so every broad ``except Exception`` took it
    for a file's or a store's failure: the signature step stored a made-up verdict
    (INDETERMINATE, "the worker pool failed") and the job went on past its limit (review
    rv13). Like ``KeyboardInterrupt``, which the store's write groups and the workers' pools
    were built to be interrupted by, it reaches the task through every such block."""


_lost = threading.Event()
"""Set when a :class:`SoftTimeLimit` was swallowed by a finalizer (:func:`_keep_lost_limit`)."""

_hook_before: Any = None
"""The ``sys.unraisablehook`` :func:`_keep_lost_limit` replaced: every other exception goes there."""


def soft_limit_handler(signum: int, frame: object) -> None:
    """The SIGUSR1 handler of the ingest worker's pool processes (billiard's
    ``soft_timeout_sighandler`` replaced by :mod:`ingest.tasks`)."""
    _watch_for_a_lost_limit()
    raise SoftTimeLimit()


def _watch_for_a_lost_limit() -> None:
    """Put :func:`_keep_lost_limit` in front of the current ``sys.unraisablehook`` (once; again
    if something, a test runner, put its own back since)."""
    global _hook_before
    if sys.unraisablehook is not _keep_lost_limit:
        _hook_before = sys.unraisablehook
        sys.unraisablehook = _keep_lost_limit


def _keep_lost_limit(unraisable: Any) -> None:
    if isinstance(unraisable.exc_value, SoftTimeLimit):
        _lost.set()
        logger.warning(
            "the soft time limit landed in %r and was swallowed there: raised at the next check",
            unraisable.object,
        )
        return
    (_hook_before or sys.__unraisablehook__)(unraisable)


def raise_lost_limit() -> None:
    """Raise the soft time limit a finalizer swallowed since the task began (once), if any."""
    if _lost.is_set():
        _lost.clear()
        raise SoftTimeLimit()


def forget_lost_limit() -> None:
    """A task begins: a limit lost in the one before (which then finished) is not its own."""
    _lost.clear()


def is_time_limit(error: BaseException) -> bool:
    """Celery's soft time limit, raised in the task's thread by a signal handler."""
    from billiard.exceptions import SoftTimeLimitExceeded

    return isinstance(error, (SoftTimeLimit, SoftTimeLimitExceeded))
