"""``kho backup``, ``kho backup verify``, ``kho restore``: a restore drill from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from repository.storage.local import LocalStore
from retention.backup import store_hashes
from web.cli import main


def test_backup_wipe_restore_from_the_cli(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    assert runner.invoke(main, ["audit", "keygen", str(key)]).exit_code == 0
    monkeypatch.setenv("KHO_AUDIT_SIGNING_KEY", str(key))
    data = Path(env["KHO_DATA_DIR"])
    media, second, keys = (f"file://{tmp_path / name}" for name in ("usb", "second", "keys-backup"))

    refused = runner.invoke(main, ["backup", "--to", media])
    assert refused.exit_code == 2 and "BACKUP_TARGET_MISSING" in refused.output
    made = runner.invoke(main, ["backup", "--to", media, "--to", second, "--keys-to", keys, "--json"])
    assert made.exit_code == 0, made.output
    results = json.loads(made.output.splitlines()[-1])
    assert [r["label"] for r in results] == ["store", "store", "keys"]
    before = store_hashes(LocalStore(data / "store"))
    assert runner.invoke(main, ["backup", "verify", "--from", media]).exit_code == 0
    assert runner.invoke(main, ["backup", "verify", "--from", keys, "--label", "keys"]).exit_code == 0
    assert (
        runner.invoke(main, ["backup", "shred-keys", "--from", keys]).exit_code == 0
    )  # nothing destroyed yet

    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", second, "--keys-from", keys])
    assert done.exit_code == 0, done.output
    after = store_hashes(LocalStore(data / "store"))
    changed = {k for k in after if after[k] != before.get(k)}
    # Only the restore's own audit event (and the witness that follows it) are new.
    assert all(k.startswith("audit/") for k in changed) and len(changed) == 2
    assert runner.invoke(main, ["fsck", "--deep"]).exit_code == 0
    monkeypatch.setenv("KHO_CAPACITY_WARN_PERCENT", "1")
    status = runner.invoke(main, ["status", "--json"])
    assert status.exit_code in (0, 1) and json.loads(status.output.splitlines()[-1])[0]["name"] == "store"
    fixity = runner.invoke(main, ["fixity", "--all", "--from", media])
    assert fixity.exit_code == 0 and "hỏng 0" in fixity.output, fixity.output
    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    checked = runner.invoke(main, ["audit", "verify", "--json"])
    assert json.loads(checked.output)["ok"] is True, checked.output
    again = runner.invoke(main, ["restore", "--from", second, "--keys-from", keys])
    assert again.exit_code == 2 and "BACKUP_INVALID" in again.output
