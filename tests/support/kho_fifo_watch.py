"""Watch FIFOs for a reader: the pipeline tests of special files and links in an import folder
(u6, u8) assert that nothing opens them (a FIFO opened for reading blocks its reader until
someone writes to it)."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def readers_of(fifos: list[Path]) -> Iterator[list[Path]]:
    """Watch the FIFOs: a non-blocking open for writing succeeds only while someone has the FIFO
    open for reading. Each one found open is noted (and then closed, which lets the reader go
    on with an empty file instead of hanging the test)."""
    opened: list[Path] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.005):
            for fifo in fifos:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as exc:
                    if exc.errno not in (errno.ENXIO, errno.ENOENT):
                        raise
                    continue
                opened.append(fifo)
                os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield opened
    finally:
        stop.set()
        watcher.join()
