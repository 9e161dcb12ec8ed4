"""A process forked from one that owns the shared verification pool (a bulk import forks its
workers after a one-file import started the pool in the parent; a Celery prefork or gunicorn
``--preload`` child) starts a pool of its own: the parent's workers talk through the parent's
pipes, and two processes sharing one worker read each other's replies."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import json, os, sys
    from ingest.signatures import _pool

    parent = _pool.shared_pool()
    parent.prestart()  # as bulk._init_worker does in the parent for a one-file import
    parent_worker = parent._idle[0].process.pid
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        child = _pool.shared_pool()
        child.prestart()  # as bulk._init_worker does in each forked worker
        found = {"same_pool": child is parent, "worker": child._idle[0].process.pid}
        os.write(write_end, json.dumps(found).encode())
        child.close()
        os._exit(0)
    os.close(write_end)
    found = json.loads(os.read(read_end, 4096))
    os.waitpid(pid, 0)
    found["parent_worker"] = parent_worker
    print(json.dumps(found))
''')


def test_a_forked_process_starts_its_own_verification_worker() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["same_pool"] is False
    assert found["worker"] != found["parent_worker"], found


LOCKED = textwrap.dedent('''
    import os, signal, sys
    from ingest.signatures import _pool
    from ingest.text import box

    # another thread of the parent is making a pool at the moment of the fork
    box._pools_lock.acquire()
    _pool._shared_lock.acquire()
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)  # a deadlock ends the child with SIGALRM
        box.pool("text", 2048)
        _pool.shared_pool()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
''')


def test_a_child_forked_while_a_pool_lock_was_held_can_still_make_its_pools() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOCKED], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0"  # not -14 (SIGALRM: deadlocked)
