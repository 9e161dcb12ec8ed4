"""A real Celery worker for the pipeline tests: the command that starts one, and what it is doing
when a test gave up waiting for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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


def prefork_worker(
    env: dict[str, str], log: Path, *, preload: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """A worker on ``env``'s ``KHO_INGEST_QUEUE`` with one prefork pool process: time limits
    are the pool's (the solo pool enforces none). ``preload``: modules its main process imports
    before it forks the pool process, which then does not import them in its first task."""
    command = worker_command(env["KHO_INGEST_QUEUE"])
    if preload:
        command[command.index(_START)] = "import " + ", ".join(preload) + ";" + _START
    command[command.index("--pool=solo")] = "--pool=prefork"
    command += ["--concurrency", "1"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def pool_processes(parent: int) -> list[int]:
    """The children of process ``parent`` (a prefork worker's pool processes)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                out.append(int(entry.name))
    return out


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Stop a worker, waking any pool process a test stopped (SIGSTOP) first."""
    for pid in pool_processes(worker.pid):
        os.kill(pid, signal.SIGCONT)
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
