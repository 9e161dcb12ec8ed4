"""CPU seconds of a command and of every process it starts, orphans included.

    .venv/bin/python bench/s14_cpu.py -- COMMAND...

Pool workers of ``multiprocessing`` end with ``os._exit``: the verification and text workers
they started outlive them, are re-parented, and their CPU reaches no ``getrusage`` of the run.
This wrapper makes itself the child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so every
descendant that ends is reaped here, and prints the command's output followed by one JSON line:
``{"cpu": user+system of all descendants, "wall": seconds, "rc": exit code}``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    start = time.perf_counter()
    process = subprocess.Popen(command)
    rc = process.wait()
    wall = time.perf_counter() - start
    deadline = time.monotonic() + 30  # orphaned workers see their pipe close and end
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "rc": rc}), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
