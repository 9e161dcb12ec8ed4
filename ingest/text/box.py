"""One call in a forked child with a memory and a time bound, for native code (pdfium) reading a
file that may be hostile: a page that never ends or grows without end costs the bound and no
more, and an abort under the memory limit ends the child, never the caller (a Celery worker,
the web process). The same box as ``ingest.signatures._pool.ForkVerifier``, for any function
whose result pickles.

Without ``os.fork``, or with other Python threads in the caller (a forked child carries only
the calling thread: a lock another thread holds would never be released), the call runs in
process, unbounded, as before this module.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class BoxLimit(Exception):
    """The child went past its bound: ``why`` is ``timeout``, or ``died`` (a signal or an exit
    without an answer: the memory limit, a native abort)."""

    def __init__(self, why: str, detail: str) -> None:
        super().__init__(f"{why}: {detail}")
        self.why = why
        self.detail = detail


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def run_bounded(fn: Callable[[], T], *, timeout: float, memory_mb: int) -> T:
    """``fn()`` in a forked child whose address space may grow by ``memory_mb`` over what it
    inherits, killed after ``timeout`` seconds. Its result or exception comes back pickled;
    :class:`BoxLimit` when it went past a bound."""
    if not can_fork():
        return fn()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 0
        try:
            _child(write_fd, fn, memory_mb)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    reply: tuple[str, Any] | None = None
    timed_out = False
    with os.fdopen(read_fd, "rb") as stream:
        try:
            ready, _, _ = select.select([stream], [], [], timeout)
            if ready:
                reply = pickle.load(stream)
            else:
                timed_out = True
        except (EOFError, OSError, pickle.UnpicklingError):
            reply = None
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        raise BoxLimit("timeout", f"{timeout:g} s")
    if reply is None:
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        raise BoxLimit("died", f"exit {code}")
    kind, value = reply
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def _child(write_fd: int, fn: Callable[[], Any], memory_mb: int) -> None:
    import faulthandler

    faulthandler.disable()  # a native abort under the limit is an answer, not a traceback
    _limit_memory(_mapped_bytes() + memory_mb * 1024 * 1024)
    with os.fdopen(write_fd, "wb") as out:
        try:
            reply: tuple[str, Any] = ("ok", fn())
        except Exception as exc:  # handed to the parent as it was
            reply = ("error", exc)
        try:
            data = pickle.dumps(reply)
        except Exception:  # one that does not pickle: its text
            data = pickle.dumps(("error", RuntimeError(str(reply[1]))))
        out.write(data)


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(limit: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
