"""Which process wrote something: this machine's identity and whether a process of it is gone.

Guards left by a writer (the repository's duplicate guards, the S3 store's create claims) name
the host and process id of their writer, so that a re-run on the same machine can take over at
once a guard whose writer was killed, instead of waiting out a grace period.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
    return isinstance(pid, int) and host == here and not here.endswith("/") and not alive(pid)
