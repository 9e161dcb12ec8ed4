"""rv28 (u13's open items): a restore takes the backup lock, fixity runs are one at a time.

``kho restore`` replaced the store while ``kho backup`` copied it (the copy mixes two states), a
second restore replaced it again half-way, and two fixity runs (or one during a restore) repaired
the same originals, or wrote a repaired original into a store being replaced (bringing back what
the restore destroyed again). Now a restore holds the backup and the fixity locks
(:mod:`retention.runlock`), a fixity run the fixity lock; whoever comes second is refused at once
with a stable code (RESTORE_BUSY, BACKUP_RUNNING, FIXITY_RUNNING), nothing done. Real processes:
``kho`` children stopped (SIGSTOP) in the middle of their copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from kho_people import make_people
from kho_scheduled import events
from kho_worker import ROOT

from kho.config import Settings
from retention import runlock
from web.context import Kho

LOAD = 4000
"""Objects in the store, so that a copy is still running when the test looks."""


def _installation(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], name: str, load: int
) -> dict[str, str]:
    env = make_env(
        tmp_path / name,
        KHO_BACKUP_URLS=str(tmp_path / "backup-a"),
        KHO_BACKUP_KEYS_URL=str(tmp_path / "backup-keys"),
    )
    kho = Kho(Settings.from_env(env), follow_index=False)
    make_people(kho)
    for i in range(load):
        kho.repo.store.put_if_absent(f"rv28-load/{i:05d}", os.urandom(512))
    return env


def _kho(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args], env=env, cwd=ROOT, capture_output=True, timeout=300
    )


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _stopped_while_copying(run: subprocess.Popen[bytes], log: Path, copied: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if copied():
            run.send_signal(signal.SIGSTOP)
            return
        assert run.poll() is None, log.read_text(errors="replace")
        time.sleep(0.02)
    raise AssertionError("the run never started copying")


def _refused(done: subprocess.CompletedProcess[bytes], code: str) -> str:
    said = done.stderr.decode()
    assert done.returncode == 2, (done.returncode, said, done.stdout.decode())
    assert f"Lỗi [{code}]" in said and "Traceback" not in said, said
    assert unicodedata.is_normalized("NFC", said)
    return said


def _files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def _restore_args(tmp_path: Path, *extra: str) -> tuple[str, ...]:
    return (
        "restore",
        "--from",
        str(tmp_path / "backup-a"),
        "--keys-from",
        str(tmp_path / "backup-keys"),
        *extra,
    )


def test_a_restore_while_a_backup_copies_is_refused_and_replaces_nothing(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    env = _installation(tmp_path, make_env, "kho", LOAD)
    assert _kho(env, "backup").returncode == 0
    log = tmp_path / "backup.log"
    second = {**env, "KHO_BACKUP_URLS": str(tmp_path / "backup-b")}
    run = _start(second, log, "backup")
    try:
        _stopped_while_copying(run, log, lambda: _files(tmp_path / "backup-b") > 10)
        refused = _kho(env, *_restore_args(tmp_path, "--force"))
        restored_meanwhile = events(Settings.from_env(env), "backup:restore")
        run.send_signal(signal.SIGCONT)
        assert run.wait(timeout=300) == 0, log.read_text(errors="replace")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    said = _refused(refused, "RESTORE_BUSY")
    assert f"tiến trình {run.pid}" in said and "sao lưu" in said and "chưa khôi phục gì" in said, said
    assert restored_meanwhile == []


def test_a_second_restore_a_backup_and_a_fixity_run_during_a_restore_are_refused(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    source = _installation(tmp_path, make_env, "source", LOAD)
    assert _kho(source, "backup").returncode == 0
    env = _installation(tmp_path, make_env, "kho", 0)
    log = tmp_path / "restore.log"
    run = _start(env, log, *_restore_args(tmp_path, "--force"))
    try:
        _stopped_while_copying(
            run, log, lambda: _files(tmp_path / "kho" / "store" / "objects" / "rv28-load") > 10
        )
        again = _kho(env, *_restore_args(tmp_path, "--force"))
        backup = _kho({**env, "KHO_BACKUP_URLS": str(tmp_path / "backup-c")}, "backup")
        fixity = _kho(env, "fixity", "--all")
        run.send_signal(signal.SIGCONT)
        assert run.wait(timeout=300) == 0, log.read_text(errors="replace")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    said = _refused(again, "RESTORE_BUSY")
    assert f"tiến trình {run.pid}" in said and "lần khôi phục khác" in said, said
    said = _refused(backup, "BACKUP_RUNNING")
    assert "lần khôi phục khác" in said and "không chép xen nhau" in said, said
    assert not (tmp_path / "backup-c").exists()
    said = _refused(fixity, "FIXITY_RUNNING")
    assert "lần khôi phục khác" in said, said
    restored = events(Settings.from_env(env), "backup:restore")
    assert len(restored) == 1 and "failed_step" not in restored[0].details  # type: ignore[attr-defined]


def test_two_fixity_runs_at_once_the_second_is_refused_and_a_killed_one_keeps_nothing(
    tmp_path: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    """The first fixity run is a real process holding the lock as run_fixity does (a fixity run
    over a few records ends too fast to be caught half-way); killed, the next run goes."""
    env = _installation(tmp_path, make_env, "kho", 0)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from retention import runlock\n"
            "with runlock.held(Path(sys.argv[1]), 'fixity'):\n"
            "    print('held', flush=True); time.sleep(300)\n",
            env["KHO_DATA_DIR"],
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        refused = _kho(env, "fixity", "--all")
        restore = _kho(env, *_restore_args(tmp_path, "--force"))
    finally:
        holder.kill()
        holder.wait()
    said = _refused(refused, "FIXITY_RUNNING")
    assert f"tiến trình {holder.pid}" in said and "lần kiểm tra toàn vẹn khác" in said, said
    assert events(Settings.from_env(env), "fixity:check") == []
    _refused(restore, "RESTORE_BUSY")
    after = _kho(env, "fixity", "--all")
    assert after.returncode == 0, after.stderr.decode()
    assert runlock.lock_path(Path(env["KHO_DATA_DIR"]), "fixity").exists()
