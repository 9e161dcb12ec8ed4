"""Forked writers for the kill and pause tests: reading what a child reports on a pipe (which of
its writes landed or is held; the parent kills it in that state), and a child stopped (SIGSTOP)
at one moment of its real code, then resumed or killed (:func:`paused_child`)."""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def read_lines_until(fd: int, done: Callable[[list[str]], bool], timeout: float = 60) -> list[str]:
    """The lines written to the pipe ``fd``, read until ``done(lines)``; fails the test when the
    writer ends first or ``timeout`` seconds pass."""
    seen: list[str] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    while not done(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"the writer never reached the state: {seen}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        assert chunk, f"the writer ended before the state: {seen}"
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        seen.extend(line.decode() for line in lines)
    return seen


def stop_once_at(
    owner: type, name: str, stop: Callable[[], None], when: Callable[..., bool] | None = None
) -> None:
    """In a forked child: ``owner.name`` calls ``stop()`` before it runs the first time
    ``when(*args)`` holds (always, without ``when``). Patching the class is the point: the child
    is a real writer stopped at one moment of its real code."""
    real = getattr(owner, name)
    stopped: list[bool] = []

    def hooked(*args: Any, **kwargs: Any) -> Any:
        if not stopped and (when is None or when(*args, **kwargs)):
            stopped.append(True)
            stop()
        return real(*args, **kwargs)

    setattr(owner, name, hooked)


@dataclass
class PausedChild:
    """A forked writer stopped (SIGSTOP) at the moment its work chose (:func:`paused_child`)."""

    pid: int
    pipe: int
    ended: bool = False

    def resume(self) -> list[str]:
        """Let it go on (SIGCONT) to its end: its answer in words, ``["got", …]`` (what its work
        returned) or ``["refused", CODE]``; fails the test unless it exited 0."""
        os.kill(self.pid, signal.SIGCONT)
        seen = read_lines_until(self.pipe, lambda seen: any(s.startswith(ANSWERS) for s in seen))
        status = self._wait()
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, seen
        return next(s for s in seen if s.startswith(ANSWERS)).split()

    def kill(self) -> None:
        """SIGKILL it where it stopped (a writer dying at that moment)."""
        os.kill(self.pid, signal.SIGKILL)
        self._wait()

    def _wait(self) -> int:
        self.ended = True
        _, status = os.waitpid(self.pid, 0)
        return status


ANSWERS = ("got ", "refused ")


@contextmanager
def paused_child(work: Callable[[Callable[[], None]], str]) -> Iterator[PausedChild]:
    """Fork a child that runs ``work(stop)``: ``work`` makes its repository, installs the hook
    that calls ``stop()`` at the chosen moment (:func:`stop_once_at`) and does the act, whose
    answer it returns ("got <answer>"; an error, "refused <its code>"). Entered once the child
    has stopped itself; on leaving, a child neither resumed nor killed is let go and waited for."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        code = 1
        try:

            def stop() -> None:
                os.write(write_end, b"paused\n")
                os.kill(os.getpid(), signal.SIGSTOP)

            try:
                answer = f"got {work(stop)}"
            except Exception as exc:  # (reported to the parent, which asserts on it)
                answer = f"refused {getattr(exc, 'code', type(exc).__name__)}"
            os.write(write_end, f"{answer}\n".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    child = PausedChild(pid, read_end)
    try:
        read_lines_until(read_end, lambda seen: "paused" in seen)
        # Stopped, not only about to stop: the line is written before the SIGSTOP, and a parent
        # that sent SIGCONT in between lost it (the child then stopped for good: review rv61).
        _, status = os.waitpid(pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"the child did not stop: status {status}"
        yield child
    finally:
        if not child.ended:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            child._wait()
        os.close(read_end)
