"""Reading what a forked writer reports on a pipe, for the kill tests (a child says which of its
writes landed or is held; the parent kills it in that state)."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable


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
