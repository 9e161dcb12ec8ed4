"""Working folders of an act that unpacks or saves large files (an imported package's
extraction, its upload), kept under the installation's own data folder and recoverable after a
kill.

A folder in ``/tmp`` made by ``tempfile`` is removed by its ``finally``; a process killed by
SIGKILL or the OOM killer runs no ``finally`` and leaves it (up to 2 GiB for a package), where
nothing of Kho ever looks again (rv17). Here each folder names its owner (host and process id)
in a small file written before any content, and every new folder first sweeps the folders whose
owner is provably gone.

Whether the owner is alive is the kernel's answer (rv27): the owner holds an exclusive ``flock``
on the folder's :data:`LOCK` for as long as the folder is in use, and the kernel drops it when
the owner exits, however it exits. A sweeper that can take the lock knows the owner is gone,
whatever its pid says: a pid reused by another process since, or a pid of another pid namespace
(a web container and a worker container sharing ``<data>``), which the owner file's pid rule
could not judge (it kept such folders for ever). The lock file is locked under a temporary name
and then renamed into place, so no sweeper ever sees a lock file its owner does not yet hold.
A folder without a lock file (made by a Kho before rv27, or killed before its lock was in place)
is judged by the owner file's pid rule as before (:mod:`kho.process`'s claim rule).
"""

from __future__ import annotations

import contextlib
import fcntl
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
LOCK = "owner.lock"
"""The file in each working folder its owner holds an exclusive ``flock`` on while it works."""
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
    held = -1
    try:
        held = _hold(folder)
        owner = {"pid": os.getpid(), "host": this_host(), "at": to_iso_utc(utcnow())}
        (folder / OWNER).write_text(json.dumps(owner), encoding="utf-8")
        content = folder / CONTENT
        content.mkdir()
        yield content
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if held >= 0:
            os.close(held)  # after the removal: no sweeper takes a folder still being removed


def _hold(folder: Path) -> int:
    """Lock ``folder``'s :data:`LOCK` for this process and return the descriptor that holds it
    (closing it, or the process ending, releases the lock)."""
    pending = folder / f".{LOCK}"
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(pending, folder / LOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lock_state(folder: Path) -> bool | None:
    """Whether ``folder``'s owner still holds its :data:`LOCK` (the kernel's answer); None when
    the folder has no lock file (a folder of a Kho before rv27: its owner file decides)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return True  # unreadable, a link: not ours to judge, kept
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def sweep(
    root: Path,
    prefix: str,
    *,
    now: datetime | None = None,
    alive: Callable[[int], bool] = process_alive,
) -> list[Path]:
    """Remove the working folders of ``prefix`` under ``root`` whose owner is provably gone:
    its :data:`LOCK` is free (the kernel's answer), or, for a folder without a lock file, its
    owner file names a process of this machine, boot and pid namespace that no longer exists;
    and those without either file older than :data:`UNOWNED_GRACE_SECONDS`. Returns them."""
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
        locked = _lock_state(entry)
        holder = _owner(entry / OWNER)
        if locked is not None:
            stale = not locked
        elif holder is None:
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
