"""rv32 (rv28's open window): a process that acts and exits at once notes its last act.

Every process that writes notes the head it wrote outside the store (``written-head.state``),
at most every ``NOTE_EVERY`` seconds; the head of the last half second was noted by a timer,
a daemon thread that dies with the process. A command (or a web worker) whose last act came
within 0.5 s of its previous one and which then exited left the note one act behind: that act
could be rolled back in the store (its event object deleted, the witness put back) and a fresh
process appended in its place, unrefused. Now the factories close what they opened when the
process ends (the ``kho`` command's context, gunicorn's ``worker_exit``, Celery's process
shutdown, the scheduled runs), which notes the pending head. Real ``kho`` and gunicorn
processes, the local folder and real Ceph S3."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_people import PASSWORD, People, make_people
from kho_retention import kho_env, s3_env
from kho_testing import CLERK, incoming
from kho_worker import ROOT

from kho.config import Settings
from kho.errors import AuditHistoryBehind
from repository import formats
from repository.audit import WITNESS_KEY, AuditEvent, event_key
from repository.rollback import written_head
from repository.service import open_repository
from web.context import Kho


def _installation(kind: str, tmp_path: Path) -> tuple[dict[str, str], People]:
    values = s3_env(tmp_path) if kind == "s3" else kho_env(tmp_path)
    env = {
        **os.environ,
        **values,
        "KHO_TOKEN_FILE": str(tmp_path / "token.json"),
        "KHO_VERIFY_AGENT_PRESTART": "0",
        "KHO_COOKIE_SECURE": "false",
    }
    env.pop("KHO_TOKEN", None)
    kho = Kho(Settings.from_env(env), follow_index=False)
    people = make_people(kho)
    kho.close()
    return env, people


def _last_two(settings: Settings) -> tuple[AuditEvent, AuditEvent]:
    events = list(open_repository(settings).audit.events())
    return events[-2], events[-1]


def _last_act_rolled_back(settings: Settings, before: AuditEvent, last: AuditEvent) -> None:
    """The store put back to the state before the process's last act (S3 versions rolled back,
    a folder copied over): its event object gone, the witness naming the event before it."""
    store = open_repository(settings).store
    assert store.exists(event_key(last.seq)) and store.exists(event_key(before.seq))  # two acts
    store.delete(event_key(last.seq))
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": before.seq, "hash": before.hash}))


def _refused_after_the_rollback(settings: Settings, last: AuditEvent) -> None:
    assert settings.audit_checkpoint_dir is not None
    noted = written_head(settings.audit_checkpoint_dir)
    assert noted is not None and (noted.seq, noted.hash) == (last.seq, last.hash)  # the last act
    fresh = open_repository(settings)
    keys = sorted(i.key for i in fresh.store.list("audit/"))
    with pytest.raises(AuditHistoryBehind) as refused:
        fresh.create_document("den", incoming(code_number="901"), None, None, CLERK)
    assert refused.value.code == "AUDIT_HISTORY_BEHIND"
    assert sorted(i.key for i in fresh.store.list("audit/")) == keys  # nothing written


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_command_that_acts_twice_and_exits_at_once_notes_its_last_act(kind: str, tmp_path: Path) -> None:
    env, people = _installation(kind, tmp_path)
    settings = Settings.from_env(env)
    started = time.monotonic()
    done = subprocess.run(  # ``kho login``: the login, then the token issued, then the exit
        [sys.executable, "-m", "web.cli", "login", "--password-stdin", people.usernames["van_thu"]],
        env=env, cwd=ROOT, input=f"{PASSWORD}\n".encode(), capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    before, last = _last_two(settings)
    assert (before.action, last.action) == ("account:login", "account:token-issue")
    assert time.monotonic() - started < 60

    _last_act_rolled_back(settings, before, last)
    _refused_after_the_rollback(settings, last)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until(ready: Callable[[], bool], server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if ready():
            return
        assert server.poll() is None, log.read_text(errors="replace")
        time.sleep(0.1)
    raise AssertionError(log.read_text(errors="replace"))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def test_a_web_worker_that_acts_and_stops_at_once_notes_its_last_act(tmp_path: Path) -> None:
    """The gunicorn worker of ``kho serve --production`` (its command, from the CLI): a login
    through the API (two acts), then the server stopped at once (SIGINT, as Ctrl-C: its workers
    quit within 0.1 s; a graceful SIGTERM lets a worker linger up to a second, past the timer)."""
    from web.cli import gunicorn_argv

    env, people = _installation("local", tmp_path)
    settings = Settings.from_env(env)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        gunicorn_argv("127.0.0.1", port, 1),
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), server, log)
        body = json.dumps({"username": people.usernames["van_thu"], "password": PASSWORD}).encode()
        asked = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/login", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(asked, timeout=30) as answer:
            assert answer.status == 200
        server.send_signal(signal.SIGINT)  # at once: within NOTE_EVERY of the login's first act
        server.wait(timeout=60)
        assert "Worker exiting" in log.read_text(errors="replace")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    before, last = _last_two(settings)
    assert (before.action, last.action) == ("account:login", "account:token-issue")

    _last_act_rolled_back(settings, before, last)
    _refused_after_the_rollback(settings, last)
