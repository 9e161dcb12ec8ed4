"""The daily deadline job of document handling: on the beat schedule, and run by a real Celery
worker over a real Redis broker it flags an overdue task and notifies."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from kho_redis import REDIS_URL, needs_redis
from kho_worker import stacks, worker_command

from ingest.celery_app import app, make_app
from ingest.handling_tasks import FLAG_DEADLINES_TASK
from kho.config import Settings
from kho.timeutil import utcnow, vn_date
from repository.workflow import Act
from web.context import Kho

ROOT = Path(__file__).resolve().parents[2]


def test_the_job_is_on_the_beat_schedule_daily() -> None:
    entry = make_app("memory://").conf.beat_schedule["handling-deadlines"]
    assert entry["task"] == FLAG_DEADLINES_TASK
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == {6}  # 06:30 Vietnam time
    assert "ingest.handling_tasks" in app.conf.include


@needs_redis
def test_a_real_worker_flags_an_overdue_task_and_notifies(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    notices = _run_worker(tmp_path, make_env, monkeypatch, due_in_days=-1, messages=[{}])
    assert notices and "Quá hạn" in notices[0].text


@needs_redis
def test_a_forged_message_naming_a_future_day_flags_nothing(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever can write to the broker sent ``kho.handling.flag_deadlines`` with a far future
    ``today``: the worker flagged a task due in two weeks "Quá hạn" and notified its people,
    and (a flag is sent once per task) the real alert would never have come. The day is the
    worker's clock: the forged message fails, the beat's own run that follows flags nothing."""
    notices = _run_worker(
        tmp_path, make_env, monkeypatch, due_in_days=14, messages=[{"today": "2099-12-31"}, {}], wait=False
    )
    assert notices == []


def _run_worker(
    tmp_path: Path,
    make_env: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    *,
    due_in_days: int,
    messages: list[dict[str, str]],
    wait: bool = True,
) -> list[Any]:
    """A task due ``due_in_days`` from today (the steps taken three weeks earlier), a real
    worker, the ``messages`` (kwargs) sent in order; the handler's deadline notices once the
    worker has run them all (``wait``: until a notice comes)."""
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from kho_people import UNIT_B, make_people
    from kho_testing import incoming

    env = make_env(
        tmp_path / "kho",
        KHO_BROKER_URL=REDIS_URL,
        KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}",
        KHO_PASSWORD_MEMORY_KB="1024",
        KHO_PASSWORD_TIME_COST="1",
    )
    for key, value in env.items():
        if key.startswith("KHO_"):
            monkeypatch.setenv(key, value)
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document("den", incoming(), None, None, people.actor("van_thu"))
    h = kho.handling
    h.clock = lambda: utcnow() - timedelta(days=21)  # the steps were taken three weeks ago
    h.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    due = vn_date(utcnow()).toordinal() + due_in_days  # the agency's day (UTC+7)
    h.take(
        doc.record_id,
        Act.DIRECT,
        expected_seq=1,
        actor=people.actor("lanh_dao"),
        units=[UNIT_B],
        users=[people.usernames["chuyen_vien_b"]],
        deadline=date.fromordinal(due).isoformat(),
    )
    kho.close()

    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        worker_command(env["KHO_INGEST_QUEUE"]),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        sender = make_app(REDIS_URL)
        for kwargs in messages:  # as beat sends it (its options name the queue), and forged ones
            sender.send_task(FLAG_DEADLINES_TASK, kwargs=kwargs, queue=env["KHO_INGEST_QUEUE"])
        kho = Kho(Settings.from_env(), follow_index=False)
        handler = people.actor("chuyen_vien_b")
        deadline = time.monotonic() + 120
        notices: list[Any] = []
        runs = 0
        while time.monotonic() < deadline:
            notices = [n for n in kho.handling.notices(handler) if n.act in ("overdue", "due_soon")]
            runs = sum(e.action == "handling:flag-deadlines" for e in kho.repo.audit.events())
            if (notices and wait) or (not wait and runs >= 1 and log_says(tmp_path, len(messages))):
                break
            time.sleep(0.5)
        assert runs >= 1, stacks(worker, tmp_path / "worker.log")
        kho.close()
        return notices
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()


def log_says(tmp_path: Path, messages: int) -> bool:
    """Whether the worker's log shows ``messages`` tasks ended (succeeded or raised)."""
    text = (tmp_path / "worker.log").read_text(errors="replace")
    return text.count("succeeded in") + text.count("raised unexpected") >= messages
