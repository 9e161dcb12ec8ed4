"""u13 (rv15's open item): two backup runs at once must not interleave.

``RESTORE_KEYS_BEHIND`` (rv15) compares the end of a store copy with the end of a key copy: two
``kho backup`` runs at once (the command line and the scheduled task, or two workers) could
interleave so that a key copy begun before a store copy ended seems to cover it. Now one run
holds the backup lock (an exclusive ``flock`` in the data folder, released by the kernel however
its holder ends) and a second is refused at once with BACKUP_RUNNING and a Vietnamese message;
a killed holder keeps nothing. Real processes: ``kho backup`` as a child process, the scheduled
task in a real prefork Celery worker on real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_people import make_people
from kho_redis import REDIS_URL, needs_redis
from kho_scheduled import events, export, wait_for
from kho_worker import ROOT, prefork_worker, stop_worker

from ingest.celery_app import make_app
from kho.config import Settings
from repository.storage import open_store
from retention.backup import MANIFESTS_PREFIX
from web.context import Kho

LOAD = 4000
"""Objects in the store, so that a backup is still copying when the test looks."""


def _installation(tmp_path: Path, make_env: Callable[..., dict[str, str]], **extra: str) -> dict[str, str]:
    env = make_env(
        tmp_path / "kho",
        KHO_BACKUP_URLS=str(tmp_path / "backup-a"),
        KHO_BACKUP_KEYS_URL=str(tmp_path / "backup-keys"),
        **extra,
    )
    settings = Settings.from_env(env)
    kho = Kho(settings, follow_index=False)
    make_people(kho)
    for i in range(LOAD):
        kho.repo.store.put_if_absent(f"u13-load/{i:05d}", os.urandom(512))
    return env


def _kho_backup(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", "backup"],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _kho_backup_now(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "backup"], env=env, cwd=ROOT, capture_output=True, timeout=300
    )


def _copying(destination: Path, run: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``run`` has written part of its copy (it holds whatever lock it takes)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if destination.exists() and any(p.is_file() for p in destination.rglob("*")):
            return
        assert run.poll() is None, log.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError("the first backup never started copying")


def _events(env: dict[str, str], action: str) -> list[object]:
    return events(Settings.from_env(env), action)


def test_a_second_kho_backup_while_one_runs_is_refused_and_copies_nothing(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    env = _installation(tmp_path, make_env)
    first_log = tmp_path / "first.log"
    first = _kho_backup(env, first_log)
    try:
        _copying(tmp_path / "backup-a", first, first_log)
        first.send_signal(signal.SIGSTOP)  # in the middle of its store copy, for as long as the test needs
        second = _kho_backup_now(env)
        events_meanwhile = _events(env, "backup:create")
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=300) == 0, first_log.read_text(errors="replace")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    said = second.stderr.decode()
    assert second.returncode == 2, (second.returncode, said, second.stdout.decode())
    assert "Lỗi [BACKUP_RUNNING]" in said, said
    assert f"tiến trình {first.pid}" in said and "không chép xen nhau" in said, said
    assert unicodedata.is_normalized("NFC", said)
    assert events_meanwhile == [], "the second run made a copy while the first was copying"
    made = _events(env, "backup:create")
    assert sorted(e.details["label"] for e in made) == ["keys", "store"]  # type: ignore[attr-defined]
    assert len(list(open_store(str(tmp_path / "backup-a")).list(MANIFESTS_PREFIX))) == 1


def test_a_killed_backup_does_not_keep_the_lock(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    env = _installation(tmp_path, make_env)
    log = tmp_path / "first.log"
    first = _kho_backup(env, log)
    _copying(tmp_path / "backup-a", first, log)
    first.send_signal(signal.SIGKILL)
    first.wait()
    again = _kho_backup_now(env)
    assert again.returncode == 0, again.stderr.decode()
    assert len(list(open_store(str(tmp_path / "backup-a")).list(MANIFESTS_PREFIX))) == 1


@needs_redis
def test_the_scheduled_backup_while_kho_backup_runs_is_refused_and_recorded(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _installation(
        tmp_path, make_env, KHO_BROKER_URL=REDIS_URL, KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}"
    )
    export(monkeypatch, env)
    worker = prefork_worker(env, tmp_path / "worker.log")
    log = tmp_path / "cli.log"
    cli = _kho_backup(env, log)
    try:
        _copying(tmp_path / "backup-a", cli, log)
        cli.send_signal(signal.SIGSTOP)
        make_app(REDIS_URL).send_task("kho.retention.backup", queue=env["KHO_INGEST_QUEUE"])
        failed = wait_for(lambda: _events(env, "backup:failed"), 90)
        made_meanwhile = _events(env, "backup:create")
        cli.send_signal(signal.SIGCONT)
        assert cli.wait(timeout=300) == 0, log.read_text(errors="replace")
    finally:
        stop_worker(worker)
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert len(failed) == 1, worker_log[-3000:]
    details = failed[0].details  # type: ignore[attr-defined]
    assert details["code"] == "BACKUP_RUNNING", details
    assert "không chép xen nhau" in details["message"] and details["notified"], details
    assert made_meanwhile == []
    assert sorted(e.details["label"] for e in _events(env, "backup:create")) == ["keys", "store"]  # type: ignore[attr-defined]


def test_a_link_in_place_of_the_lock_file_is_refused_with_a_code_not_followed(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    """Whoever can write the data folder plants a link where the lock file goes (to a file the
    backup must not truncate): refused, BACKUP_LOCK_UNAVAILABLE, the target untouched, no
    traceback."""
    env = make_env(
        tmp_path / "kho",
        KHO_BACKUP_URLS=str(tmp_path / "backup-a"),
        KHO_BACKUP_KEYS_URL=str(tmp_path / "backup-keys"),
    )
    Kho(Settings.from_env(env), follow_index=False)
    target = tmp_path / "precious.txt"
    target.write_text("giữ nguyên")
    locks = tmp_path / "kho" / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / "backup.lock").symlink_to(target)
    refused = _kho_backup_now(env)
    said = refused.stderr.decode()
    assert refused.returncode == 2, said
    assert "Lỗi [BACKUP_LOCK_UNAVAILABLE]" in said and "Traceback" not in said, said
    assert target.read_text() == "giữ nguyên"
    assert not (tmp_path / "backup-a").exists()
