"""A Celery worker process that runs tasks starts its verification and bounded pdfium text
workers as it starts (``worker_process_init``), not when its first signed PDF arrives: that
document no longer waits for two interpreters to import (~0.4 s; m12, issue #14 lead 3). The
workers are the ones the pipeline then uses: the first document is verified by the worker
started ahead, no second one is started."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_redis import NEEDS_REDIS, REDIS_URL
from kho_worker import worker_command

from ingest.bulk import import_paths
from kho.config import Settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = NEEDS_REDIS

KINDS = {"signature": "ingest.signatures._worker", "text": "ingest.text._worker text"}


def _children(pid: int) -> dict[str, list[int]]:
    """The worker processes ``pid`` started, by kind."""
    found: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) != pid:
            continue
        for kind, module in KINDS.items():
            if f"-m {module}" in command:
                found[kind].append(int(entry))
    return found


def test_a_celery_worker_starts_its_signature_and_text_workers_before_its_first_task(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], signed: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(
        tmp_path / "kho", KHO_BROKER_URL=REDIS_URL, KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}",
    )
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(worker_command(env["KHO_INGEST_QUEUE"]), env=env, cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            started = _children(worker.pid)
            while not all(started.values()) and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
                started = _children(worker.pid)
            # no task has been sent: only the process's start can have started them
            assert {kind: len(pids) for kind, pids in started.items()} == {"signature": 1, "text": 1}, (
                (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            )

            for key, value in env.items():
                if key.startswith("KHO_"):
                    monkeypatch.setenv(key, value)
            folder = tmp_path / "in"
            folder.mkdir()
            (folder / "qd.pdf").write_bytes(signed["valid-1"])
            report = import_paths([folder], settings=Settings.from_env(), wait=True,
                                  poll_interval=0.2, wait_timeout=90)
            assert [(i.state, i.reason_code) for i in report.items] == [("xong", None)]
            # the document was read and verified by the workers started ahead
            assert _children(worker.pid) == started
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
