"""A backup destination whose holder removed the newest copy (store and keys), for the restore
tests of a rolled-back copy (a3, m6)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_testing import CLERK, incoming

from kho.config import Settings
from repository.service import open_repository
from repository.storage.local import LocalStore
from web.cli import main


@dataclass(frozen=True)
class RolledBack:
    first: str
    """The document both copies hold."""
    later: str
    """The document registered between the two copies: the older copy does not hold it."""
    store_url: str
    keys_url: str


def newest_copies_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RolledBack:
    """Two nightly copies with a registration between them (each backup signs a checkpoint
    when ``KHO_AUDIT_SIGNING_KEY`` is set); the holder of the backups removes the newest
    manifest of each."""
    runner = CliRunner()
    usb, keys = tmp_path / "usb", tmp_path / "keys-backup"
    monkeypatch.setenv("KHO_BACKUP_URLS", usb.as_uri())
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", keys.as_uri())
    repo = open_repository(Settings.from_env())
    first = repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4\n" + b"a" * 400, "a.pdf", CLERK)
    assert runner.invoke(main, ["backup"]).exit_code == 0
    later = repo.create_document("den", incoming(code_number="2"), b"%PDF-1.4\n" + b"b" * 400, "b.pdf", CLERK)
    assert runner.invoke(main, ["backup"]).exit_code == 0
    for place in (usb, keys):
        newest = sorted(info.key for info in LocalStore(place).list("backups/"))[-1]
        LocalStore(place).delete(newest)
    return RolledBack(first.record_id, later.record_id, usb.as_uri(), keys.as_uri())


def wipe(env: dict[str, str]) -> Path:
    """The machine lost: its store, key store and index gone. Its data folder."""
    data = Path(env["KHO_DATA_DIR"])
    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    return data
