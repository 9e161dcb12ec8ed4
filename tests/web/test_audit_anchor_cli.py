"""``kho audit keygen | checkpoint | verify --checkpoint | export``: the anchored audit from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from repository.anchor import CHECKPOINTS_PREFIX
from repository.audit_offline import main as verify_offline
from web.cli import main


def test_checkpoint_verify_and_export(
    people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    key = tmp_path / "offstore" / "audit.key"
    key.parent.mkdir()
    made = runner.invoke(main, ["audit", "keygen", str(key)])
    assert made.exit_code == 0, made.output
    assert runner.invoke(main, ["audit", "keygen", str(key)]).exit_code == 2  # never overwritten
    monkeypatch.setenv("KHO_AUDIT_SIGNING_KEY", str(key))

    kept = tmp_path / "auditor-copy.json"
    done = runner.invoke(main, ["audit", "checkpoint", "--out", str(kept), "--json"])
    assert done.exit_code == 0, done.output
    cp = json.loads(done.output.splitlines()[-1])
    assert cp["number"] == 1 and json.loads(kept.read_text())["head"] == cp["head"]
    assert list(people.kho.repo.store.list(CHECKPOINTS_PREFIX))

    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    checked = runner.invoke(main, ["audit", "verify", "--checkpoint", str(kept), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["ok"] is True

    out = tmp_path / "export"
    exported = runner.invoke(main, ["audit", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert verify_offline([str(out), "--public-key", str(key) + ".pub", "--checkpoint", str(kept)]) == 0
