"""The scheduled operations under a real Celery beat and a real worker (Redis broker): the daily
backup, the fixity audit and the capacity check run on their schedule, act as the scheduler, and
are audited; the schedule itself is built from the settings."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from kho_redis import REDIS_URL, needs_redis
from kho_testing import incoming

from ingest.celery_app import BEAT_JOBS, BeatJob, beat_schedule
from kho.config import Settings, parse_schedule
from kho.errors import ConfigError
from repository.records import SYSTEM
from repository.service import open_repository
from repository.storage.local import LocalStore
from retention.backup import backups, read_manifest, store_hashes, verify_backup

ROOT = Path(__file__).resolve().parents[2]


def test_schedule_settings_parse_and_bad_ones_are_refused(tmp_path: Path) -> None:
    assert parse_schedule("02:00") == ("daily", 2, 0)
    assert parse_schedule("45s") == ("every", 45, 0)
    assert parse_schedule("2h") == ("every", 7200, 0)
    assert parse_schedule("off") is None
    for bad in ("25:00", "2:5", "soon", "-3s", "0m"):
        with pytest.raises(ValueError):
            parse_schedule(bad)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"KHO_DATA_DIR": str(tmp_path), "KHO_BACKUP_SCHEDULE": "mỗi ngày"})
    assert caught.value.code == "CONFIG_INVALID" and "KHO_BACKUP_SCHEDULE" in str(caught.value)


def test_beat_schedule_is_built_from_the_settings_and_extends_by_one_entry(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"KHO_DATA_DIR": str(tmp_path), "KHO_BACKUP_SCHEDULE": "01:30", "KHO_FIXITY_SCHEDULE": "off",
         "KHO_CAPACITY_SCHEDULE": "15m", "KHO_HANDLING_SCHEDULE": "off", "KHO_DUE_ALERT_SCHEDULE": "off"}
    )
    schedule = beat_schedule(settings)
    assert set(schedule) == {"daily-backup", "capacity-check"}  # off is left out
    assert schedule["daily-backup"]["schedule"] == crontab(hour=1, minute=30)
    assert schedule["capacity-check"]["schedule"] == timedelta(minutes=15)
    extra = BeatJob("demo", "kho.demo", "capacity_schedule")
    assert beat_schedule(settings, (*BEAT_JOBS, extra))["demo"]["task"] == "kho.demo"


@pytest.fixture()
def processes(tmp_path: Path) -> Iterator[Callable[[list[str], dict[str, str]], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{args[0]}-{len(started)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ingest.celery_app", *args],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@needs_redis
def test_beat_runs_backup_fixity_and_capacity_on_a_real_worker_and_audits_them(
    tmp_path: Path,
    make_env: Callable[..., dict[str, str]],
    processes: Callable[[list[str], dict[str, str]], subprocess.Popen[bytes]],
) -> None:
    queue = f"kho-test-beat-{uuid.uuid4().hex[:12]}"
    env = make_env(
        tmp_path / "kho",
        KHO_BROKER_URL=REDIS_URL,
        KHO_INGEST_QUEUE=queue,
        KHO_BACKUP_URLS=f"file://{tmp_path / 'copy-store'}",
        KHO_BACKUP_KEYS_URL=f"file://{tmp_path / 'copy-keys'}",
        KHO_BACKUP_SCHEDULE="3s",
        KHO_FIXITY_SCHEDULE="3s",
        KHO_FIXITY_PERIOD_DAYS="1",
        KHO_CAPACITY_SCHEDULE="3s",
        KHO_CAPACITY_WARN_PERCENT="1",  # any real disk is over 1 %: the alert must be raised
        KHO_CAPACITY_CRITICAL_PERCENT="100",
    )
    settings = Settings.from_env(env)
    repo = open_repository(settings)
    for n in (1, 2, 3):
        repo.create_document("den", incoming(code_number=str(n)), b"%PDF-1.4\n" + bytes([n]) * 3000,
                             f"cv{n}.pdf", SYSTEM)

    processes(["worker", "--pool=solo", "-Q", queue, "--without-gossip", "--without-mingle",
               "--without-heartbeat", "--loglevel=INFO"], env)
    processes(["beat", "--schedule", str(tmp_path / "beat-schedule"), "--max-interval", "1",
               "--loglevel=INFO"], env)

    wanted = {"backup:create", "fixity:check", "capacity:warning"}
    seen: dict[str, list] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        seen = {}
        for event in repo.audit.events():
            if event.actor == "scheduler":
                seen.setdefault(event.action, []).append(event)
        if wanted <= set(seen) and len(seen["backup:create"]) >= 2:
            break
        time.sleep(1)
    logs = {p.name: p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("*.log")}
    assert wanted <= set(seen), (sorted(seen), logs)

    labels = {e.details["label"] for e in seen["backup:create"]}
    assert labels == {"store", "keys"}
    assert all(e.source == "celery-beat" for events in seen.values() for e in events)
    fixity = seen["fixity:check"][0].details
    assert fixity["checked"] == 3 and fixity["damaged"] == [] and fixity["period"] == 1
    assert "store" in seen["capacity:warning"][0].details

    copy = LocalStore(tmp_path / "copy-store")
    store_backup = backups(copy, "store")[0]
    assert verify_backup(copy, store_backup).ok
    originals = {k: v for k, v in store_hashes(repo.store).items() if k.startswith("records/")}
    in_copy = {e["key"]: e["sha256"] for e in read_manifest(copy, store_backup)["objects"]}
    assert originals.items() <= in_copy.items()
    assert backups(LocalStore(tmp_path / "copy-keys"), "keys")
    assert repo.audit.verify().ok
