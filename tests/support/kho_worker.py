"""A real Celery worker for the pipeline tests: the command that starts one, and what it is doing
when a test gave up waiting for it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

_START = (
    "import faulthandler, signal, sys;"
    "faulthandler.register(signal.SIGUSR2, all_threads=True);"
    "from celery.__main__ import main;"
    "sys.argv[0] = 'celery';"
    "sys.exit(main())"
)


def worker_command(queue: str) -> list[str]:
    """``celery -A ingest.celery_app worker`` on ``queue`` (one process, solo pool), with every
    thread's stack written to its output on SIGUSR2 (:func:`stacks`) — also while it waits in C
    (a lock, a socket), where a Python signal handler would never run."""
    return [
        sys.executable,
        "-c",
        _START,
        "-A",
        "ingest.celery_app",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def stacks(worker: subprocess.Popen[bytes], log: Path) -> str:
    """The worker's log, with the stacks of all its threads at the end (for a failed wait)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGUSR2)
        time.sleep(1.0)
    return log.read_text(errors="replace")
