"""A process started without ``KHO_MASTER_KEY`` beside a sealed installation (review rv22, item
1): every entry point — the CLI, the web API, a Celery task — tells the operator in Vietnamese to
give it the same key (``AUDIT_SEAL_KEY_MISSING``), never a traceback, and writes no event. On
main each wrote unsealed events that every keyed ``verify`` then named as ``seal`` findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from kho.config import Settings
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.app import create_app
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed


@pytest.fixture
def keyless(people: People, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kho]:
    """Another process of the installation, started without the key (after ``people`` sealed
    the accounts' events)."""
    monkeypatch.delenv("KHO_MASTER_KEY")
    installation = Kho(Settings.from_env())
    yield installation
    installation.close()


def _log(kho: Kho) -> tuple[list[str], bytes]:
    return [i.key for i in kho.repo.store.list(EVENTS_PREFIX)], kho.repo.store.get(WITNESS_KEY)


def _told(text: str) -> None:
    assert "AUDIT_SEAL_KEY_MISSING" in text and "KHO_MASTER_KEY" in text, text
    assert "Traceback" not in text, text


def test_the_cli_without_the_key_refuses_with_a_message(people: People, keyless: Kho) -> None:
    before = _log(people.kho)
    login = CliRunner().invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 2, login.output
    _told(login.output)
    assert login.exception is None or isinstance(login.exception, SystemExit)
    assert _log(people.kho) == before


def test_the_api_without_the_key_answers_503_with_the_code(people: People, keyless: Kho) -> None:
    before = _log(people.kho)
    client = create_app(keyless.settings, kho=keyless).test_client()
    answer = client.post("/api/login", json={"username": people.usernames["van_thu"], "password": PASSWORD})
    assert answer.status_code == 503 and answer.is_json
    error = answer.get_json()["error"]
    assert error["code"] == "AUDIT_SEAL_KEY_MISSING"
    _told(f"{error['code']} {error['message']}")
    assert _log(people.kho) == before


def test_a_scheduled_task_without_the_key_returns_the_code_and_tells_the_operators(
    people: People, keyless: Kho, audit_signing_key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly backup of a worker without the key: its checkpoint is refused (it cannot tell
    a forged event) and so is the event of its failure; the task returns the code (no exception
    escapes the worker) and every quản trị and lưu trữ viên is told, with the message."""
    from repository.service import open_accounts
    from retention.tasks import scheduled_backup

    monkeypatch.setenv("KHO_BACKUP_URLS", (tmp_path / "usb").as_uri())
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", (tmp_path / "keys-backup").as_uri())
    before = _log(people.kho)
    assert scheduled_backup() == {"ok": False, "code": "AUDIT_SEAL_KEY_MISSING"}
    accounts = open_accounts(people.kho.repo, Settings.from_env())
    for who in ("quan_tri", "luu_tru"):
        notes = [n for n in accounts.notifications(people.usernames[who]) if n.kind == "backup"]
        assert len(notes) == 1, notes
        _told(notes[0].message)
    assert _log(people.kho) == before
    assert people.kho.repo.audit.verify().ok


def test_kho_audit_checkpoint_over_a_forged_event_says_which_and_signs_nothing(
    people: People, audit_signing_key: Path
) -> None:
    """Review rv22, item 2, from the CLI: a keyed ``kho audit checkpoint`` refuses to sign over a
    forged (unsealed-after-sealed) event and names its position; nothing is signed."""
    import audit_tamper as tamper

    from repository.anchor import CHECKPOINTS_PREFIX

    runner = CliRunner()
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0  # a sound log: signed
    forged = tamper.append_forged(people.kho.repo.store, {"actor": "x", "action": "record:view"})
    signed = [i.key for i in people.kho.repo.store.list(CHECKPOINTS_PREFIX)]
    refused = runner.invoke(main, ["audit", "checkpoint"])
    assert refused.exit_code == 2, refused.output
    assert "AUDIT_SEAL_BROKEN" in refused.output and f"#{forged.seq}" in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert [i.key for i in people.kho.repo.store.list(CHECKPOINTS_PREFIX)] == signed
