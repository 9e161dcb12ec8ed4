"""How the local folder makes a write durable (POSIX): a file's data with ``fsync`` of the file,
a name in a directory (a link, a rename, a directory made) with ``fsync`` of the directory.

A :class:`~repository.storage.local.LocalStore` is built with one :class:`Durability` (or
:class:`NoDurability`, ``KHO_FSYNC=false``): every fsync the store asks for goes through it, so
a test can record the order of the store's syncs against what became visible.
"""

from __future__ import annotations

import os
from pathlib import Path


class Durability:
    """fsync, for real."""

    def file(self, fd: int, path: Path) -> None:
        """Make the data of the open file ``fd`` (at ``path``) durable."""
        os.fsync(fd)

    def directory(self, path: Path) -> None:
        """Make the entries of directory ``path`` (names linked, renamed or made in it) durable."""
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class NoDurability(Durability):
    """Nothing is synced (``KHO_FSYNC=false``: tests, benchmarks, throw-away stores)."""

    def file(self, fd: int, path: Path) -> None:
        pass

    def directory(self, path: Path) -> None:
        pass
