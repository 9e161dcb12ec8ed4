"""The scheduled tasks' tests (u11, u13): an installation for a real prefork worker, its audit
events, and a worker that reaches the S3 gateway through a slow relay."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_redis import REDIS_URL
from kho_relay import Relay
from kho_retention import s3_env
from kho_worker import prefork_worker

from kho.config import Settings
from repository.service import open_repository


def export(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """``env``'s ``KHO_*`` variables in this process too; its settings."""
    for key, value in env.items():
        if key.startswith("KHO_"):
            monkeypatch.setenv(key, value)
    return Settings.from_env()


def events(settings: Settings, action: str) -> list[object]:
    return [e for e in open_repository(settings).audit.events() if e.action == action]


def wait_for(what: Callable[[], list[object]], seconds: float) -> list[object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(0.3)
    return []


def on_s3(
    tmp_path: Path, make_env: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch, **limits: str
) -> tuple[dict[str, str], Settings]:
    """A Kho on the S3 gateway with a broker queue of its own and ``limits``."""
    gateway = s3_env(tmp_path)
    env = make_env(
        tmp_path / "kho",
        KHO_BROKER_URL=REDIS_URL,
        KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}",
        **limits,
        **{k: v for k, v in gateway.items() if k.startswith(("KHO_STORE", "KHO_KEYSTORE", "KHO_S3"))},
    )
    return env, export(monkeypatch, env)


def worker_over_a_slow_gateway(env: dict[str, str], tmp_path: Path) -> tuple[Relay, subprocess.Popen[bytes]]:
    """A prefork worker reaching the gateway through a relay that holds each new connection
    2.5 s (a slow network; nothing patched)."""
    relay = Relay(env["KHO_S3_ENDPOINT"], delay=2.5).start()
    return relay, prefork_worker({**env, "KHO_S3_ENDPOINT": relay.address}, tmp_path / "worker.log")
