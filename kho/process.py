"""Which process wrote something: this machine's identity and whether a process of it is gone.

Guards left by a writer (the repository's duplicate guards, the S3 store's create claims) name
the host and process id of their writer, so that a re-run on the same machine can take over at
once a guard whose writer was killed, instead of waiting out a grace period.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from kho.timeutil import parse_iso

_HOST: str | None = None


def this_host() -> str:
    """This machine in this boot and this process-id namespace (host name, kernel boot id, pid
    namespace: containers on one kernel do not see each other's processes): a process id names
    one process only within it. Ends in ``/`` when any of them is unknown."""
    global _HOST
    if _HOST is None:
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
            namespace = os.readlink("/proc/self/ns/pid")
        except OSError:
            boot = namespace = ""
        name = os.uname().nodename  # (what socket.gethostname() returns, without importing it)
        _HOST = f"{name}/{boot}/{namespace}" if boot and namespace else f"{name}/"
    return _HOST


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine exists (a reused id counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def writer_gone(pid: object, host: object, *, here: str, alive: Callable[[int], bool]) -> bool:
    """Is the writer ``pid`` on ``host`` provably dead? Only a process of this machine, this boot
    and this pid namespace (``here``, known in full) can be asked (pure, given ``alive``)."""
    return _askable(pid, host, here) and not alive(pid)


def writer_alive(pid: object, host: object, *, here: str, alive: Callable[[int], bool]) -> bool:
    """Is the writer ``pid`` on ``host`` provably running: a process of this machine, this boot
    and this pid namespace that exists (a reused id counts as alive)? A writer of another machine
    cannot be asked: False (pure, given ``alive``)."""
    return _askable(pid, host, here) and alive(pid)


PID_MAX = 4_194_304
"""The largest process id a Linux kernel hands out (``PID_MAX_LIMIT``, 2**22): a larger one
names no process."""


def _askable(pid: object, host: object, here: str) -> TypeGuard[int]:
    """Whether the writer ``pid`` on ``host`` is a process this machine can ask about: this
    machine, this boot and this pid namespace (``here``, known in full), and ``pid`` one process's
    id. Not a bool, 0 or a negative number (``kill`` would ask a process group, or every process,
    and find fsck's own group alive: review rv51), nor an id past :data:`PID_MAX` (``kill``
    raised OverflowError out of a create or a repair): a stored object written by someone else
    names them, and they name no writer that can be asked."""
    return type(pid) is int and 0 < pid <= PID_MAX and host == here and not here.endswith("/")


LIVE_WRITER_HOLD_SECONDS = 24 * 3600
"""How long past its creation an uncommitted record, and its duplicate guards, are kept for a
writer of this machine that still runs (reviews rv50, rv51): a process paused between its
in-flight objects and its commit (SIGSTOP, a suspended VM, swap) is not dead; removing its key
lets it commit a record nobody can read, taking its guards over lets it commit a second record
of the same file and số/ký hiệu. A process that runs on with a creation it gave up (a server
whose write failed without withdrawing it) has that creation removed after this long, not never."""


CLAIM_RUNNING, CLAIM_FINISHED, CLAIM_ABANDONED, CLAIM_UNKNOWN = "running", "finished", "abandoned", "unknown"

CLOCK_SKEW_SECONDS = 900.0
"""How far ahead of this clock another machine's clock may write a claim's time (r33): S3
refuses a request signed more than 15 minutes off (RequestTimeTooSkewed), so no live writer of
the store is further ahead. A claim dated later than that was not written by a running act: a
forged or garbled time, which would otherwise count as "younger than the grace" until that day."""


def claim_age(holder: Mapping[str, Any], now: datetime) -> float | None:
    """Seconds since a claim's ``at`` (by the clock that wrote it, ``now``); None when unreadable."""
    try:
        return (now - parse_iso(str(holder["at"]))).total_seconds()
    except (KeyError, ValueError, TypeError):
        return None


def claim_state(
    holder: Mapping[str, Any],
    *,
    done: bool,
    age_seconds: float | None,
    here: str,
    alive: Callable[[int], bool],
    grace_seconds: float,
) -> str:
    """What is made of a claim an act left (a destruction's ``claims/destroying/<id>``, a nộp
    lưu's ``claims/submitting/<hồ sơ>``), pure given ``alive``. ``running``: its writer is alive
    on this machine, or it is another machine's (or names no writer) and younger than
    ``grace_seconds``. ``finished``: what the act writes is written (``done``: the "đã hủy" row,
    the submitted version). ``abandoned``: its writer died on this machine before that. ``unknown``:
    another machine's, older than the grace, or dated further ahead than :data:`CLOCK_SKEW_SECONDS`
    (r33: a claim dated next year refused recalls and nộp lưu until next year): its writer cannot
    be asked."""
    pid, host = holder.get("pid"), holder.get("host")
    if _askable(pid, host, here):
        if alive(pid):
            return CLAIM_RUNNING
        gone = True  # asked here: dead
    else:
        gone = False
    ahead = age_seconds is not None and age_seconds < -CLOCK_SKEW_SECONDS
    if not gone and not ahead and (age_seconds is None or age_seconds < grace_seconds):
        return CLAIM_RUNNING
    if done:
        return CLAIM_FINISHED
    return CLAIM_ABANDONED if gone else CLAIM_UNKNOWN
