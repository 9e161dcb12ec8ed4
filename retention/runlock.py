"""One run at a time of an operation that must not interleave with itself (the backup).

The lock is an exclusive ``flock`` on ``<KHO_DATA_DIR>/locks/<name>.lock``: the kernel releases it
when its holder exits, however it exits (SIGKILL, a Celery hard time limit, a power cut of the
process), so a killed run never keeps it and nothing has to expire. Every process that may run
the operation (``kho`` at the command line, the Celery workers) shares the data folder on one
host (``docker-compose.yml``: the ``kho-data`` volume), which is what makes the lock one lock.

A second run does not wait: it is refused at once with the holder's process, host and start time
(written into the file by the holder), and the caller says so in Vietnamese.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kho.os_reasons import errno_name, os_reason
from kho.timeutil import to_iso_utc, utcnow

LOCKS_FOLDER = "locks"


@dataclass(frozen=True)
class Holder:
    """Who holds a run lock, as its holder wrote it (empty when it could not be read)."""

    pid: int | None
    host: str
    started: str
    operation: str = ""
    """What the holder runs (``backup``, ``restore``, ``fixity``), as it wrote it."""


class Unavailable(Exception):
    """The lock file cannot be opened (the folder read-only, a link in its place, …)."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(f"{path}: {os_reason(cause)}")
        self.path = path
        self.errno_name = errno_name(cause)


class Busy(Exception):
    """The lock is held by another process."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(holder)
        self.holder = holder


def lock_path(data_dir: Path, name: str) -> Path:
    return data_dir / LOCKS_FOLDER / f"{name}.lock"


def _read_holder(fd: int) -> Holder:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8")) if raw else {}
    except (OSError, ValueError):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data.get("host", "")),
        started=str(data.get("started", "")),
        operation=str(data.get("operation", "")),
    )


@contextlib.contextmanager
def held(data_dir: Path, name: str, operation: str = "") -> Iterator[Holder]:
    """Hold the run lock ``name`` for the ``with`` block, or raise :class:`Busy` at once
    (:class:`Unavailable` when its file cannot be opened). ``operation`` (default ``name``) is
    written for whoever is refused: a restore holds the backup lock too."""
    path = lock_path(data_dir, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # a link planted in its place is refused (O_NOFOLLOW), not followed
        raise Unavailable(path, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(_read_holder(fd)) from None
        started = to_iso_utc(utcnow())
        me = Holder(pid=os.getpid(), host=socket.gethostname(), started=started, operation=operation or name)
        body = json.dumps(
            {"pid": me.pid, "host": me.host, "started": me.started, "operation": me.operation}
        ).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, body, 0)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
