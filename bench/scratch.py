"""Scratch folders for bench scripts: made like ``tempfile.mkdtemp`` and removed when the
script exits (normally or by an exception; not on SIGKILL).

A bench run writes hundreds of MB to a few GB; folders left behind filled the disk to
Elasticsearch's flood stage twice in session 39 and failed two CI runs. A script that wants its
folder kept for inspection passes ``keep=True``."""

from __future__ import annotations

import atexit
import shutil
import tempfile


def mkdtemp(prefix: str | None = None, dir: str | None = None, *, keep: bool = False) -> str:
    path = tempfile.mkdtemp(prefix=prefix, dir=dir)
    if not keep:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
