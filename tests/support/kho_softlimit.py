"""Celery's soft time limit lost in a finalizer (m55): the handler the worker's pool processes
install, on SIGUSR1 in this process, and a weakref callback the limit is delivered in."""

from __future__ import annotations

import signal
import sys
import weakref
from collections.abc import Iterator

import pytest

from kho.timelimit import forget_lost_limit, soft_limit_handler


@pytest.fixture()
def soft_limit_on_usr1() -> Iterator[None]:
    """SIGUSR1 raises the soft limit here as in a pool process (billiard's
    ``soft_timeout_sighandler``, replaced by ``ingest.tasks``); everything put back after."""
    previous = signal.signal(signal.SIGUSR1, soft_limit_handler)
    hook = sys.unraisablehook
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)
        sys.unraisablehook = hook
        forget_lost_limit()


class _Referent:
    pass


def limit_in_a_finalizer() -> None:
    """The soft limit delivered while a weakref callback runs (as ``WeakSet._remove`` in CI):
    its handler raises there and Python swallows the raise ("Exception ignored in …"); this
    function returns."""
    referent = _Referent()
    ref = weakref.ref(referent, lambda _: signal.raise_signal(signal.SIGUSR1))
    del referent
    assert ref() is None
