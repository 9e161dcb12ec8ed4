"""Working folders of an act that unpacks or saves large files (an imported package's
extraction, its upload), kept under the installation's own data folder and recoverable after a
kill.

A folder in ``/tmp`` made by ``tempfile`` is removed by its ``finally``; a process killed by
SIGKILL or the OOM killer runs no ``finally`` and leaves it (up to 2 GiB for a package), where
nothing of Kho ever looks again (rv17). Here each folder names its owner (host and process id,
:mod:`kho.process`'s claim rule) in a small file written before any content, and every new
folder first sweeps the folders whose owner is provably gone. A folder whose owner is alive, or
cannot be asked (another machine, another pid namespace), is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from kho.process import CLAIM_ABANDONED, claim_age, claim_state, process_alive, this_host
from kho.timeutil import to_iso_utc, utcnow

OWNER = "owner.json"
"""The file in each working folder naming its owner: ``{"pid", "host", "at"}``."""
CONTENT = "work"
"""The sub-folder a caller is given: what it unpacks never meets the owner file."""
UNOWNED_GRACE_SECONDS = 3600.0
"""A folder without a readable owner file (killed between making it and writing the file, a
fraction of a millisecond) is removed once it is older than this."""


@contextlib.contextmanager
def working_folder(root: Path, prefix: str) -> Iterator[Path]:
    """A new empty folder under ``root`` for one act, removed when the act ends; stale folders
    of ``prefix`` (their owner gone) are removed first. ``root`` is made private (0700)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep(root, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        owner = {"pid": os.getpid(), "host": this_host(), "at": to_iso_utc(utcnow())}
        (folder / OWNER).write_text(json.dumps(owner), encoding="utf-8")
        content = folder / CONTENT
        content.mkdir()
        yield content
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep(
    root: Path,
    prefix: str,
    *,
    now: datetime | None = None,
    alive: Callable[[int], bool] = process_alive,
) -> list[Path]:
    """Remove the working folders of ``prefix`` under ``root`` whose owner is provably gone
    (a process of this machine, boot and pid namespace that no longer exists), and those
    without a readable owner file older than :data:`UNOWNED_GRACE_SECONDS`. Returns them."""
    moment = now or utcnow()
    here = this_host()
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        holder = _owner(entry / OWNER)
        if holder is None:
            try:
                age = moment.timestamp() - entry.stat().st_mtime
            except OSError:
                continue
            stale = age > UNOWNED_GRACE_SECONDS
        else:
            state = claim_state(
                holder,
                done=False,
                age_seconds=claim_age(holder, moment),
                here=here,
                alive=alive,
                grace_seconds=UNOWNED_GRACE_SECONDS,
            )
            stale = state == CLAIM_ABANDONED
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _owner(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
