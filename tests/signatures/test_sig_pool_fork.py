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
