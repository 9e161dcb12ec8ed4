"""A restore whose copy is behind the signed checkpoints outside the store is refused before it
writes anything (a3 left it reported: exit 1 after the store was already rolled back).

The holder of the backup destinations removes the newest copy (store and keys). The default
restore then picks the older one, in which a document registered in between, and every event
after, never happened. The checkpoint signed by the second backup (outside the store, in
``KHO_AUDIT_CHECKPOINT_DIR``) shows it; the restore reads the copy's audit log against it first."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_backups import RolledBack, newest_copies_removed, wipe
from kho_people import People
from kho_testing import CLERK

from kho.config import Settings
from repository.service import open_repository
from repository.storage.local import LocalStore
from retention.backup import store_hashes
from web.cli import main


@pytest.fixture
def copies(
    people: People,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> RolledBack:
    """Two copies with a registration between them, the newest removed by their holder."""
    return newest_copies_removed(tmp_path, monkeypatch)


def test_a_copy_behind_the_checkpoints_is_refused_before_anything_is_written(
    copies: RolledBack, env: dict[str, str]
) -> None:
    usb, keys = copies.store_url, copies.keys_url
    data = wipe(env)
    refused = CliRunner().invoke(main, ["restore", "--from", usb, "--keys-from", keys])
    assert refused.exit_code == 2, refused.output  # before: 1, with the store already restored
    assert "RESTORE_HISTORY_BEHIND" in refused.output and "Chưa khôi phục gì" in refused.output
    assert "--accept-older-history" in refused.output
    assert not list(LocalStore(data / "store").list(""))  # nothing written, keys neither
    assert not list(LocalStore(data / "keys").list(""))


def test_a_forced_restore_of_an_older_copy_leaves_the_live_store_as_it_was(
    copies: RolledBack, env: dict[str, str]
) -> None:
    """``--force`` over the live store: before, the store was rolled back (the later document
    gone) and only a warning said so; now it is refused and the live store is untouched."""
    later, usb, keys = copies.later, copies.store_url, copies.keys_url
    live = LocalStore(Path(env["KHO_DATA_DIR"]) / "store")
    before = store_hashes(live)
    refused = CliRunner().invoke(main, ["restore", "--from", usb, "--keys-from", keys, "--force"])
    assert refused.exit_code == 2 and "RESTORE_HISTORY_BEHIND" in refused.output, refused.output
    assert store_hashes(live) == before
    assert open_repository(Settings.from_env()).read_content(later, actor=CLERK)


def test_an_older_copy_is_restored_only_with_an_audited_reason(
    copies: RolledBack, env: dict[str, str]
) -> None:
    usb, keys = copies.store_url, copies.keys_url
    data = wipe(env)
    runner = CliRunner()
    asked = ["restore", "--from", usb, "--keys-from", keys, "--accept-older-history"]
    blank = runner.invoke(main, [*asked, "  "])
    assert blank.exit_code == 2 and "RESTORE_REASON_REQUIRED" in blank.output, blank.output
    assert not list(LocalStore(data / "store").list(""))
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = runner.invoke(main, [*asked, reason])
    assert done.exit_code == 0, done.output
    assert "không khớp điểm mốc" in done.output and "--accept-older-history" in done.output
    restored = open_repository(Settings.from_env())
    event = next(e for e in restored.audit.events() if e.action == "backup:restore")
    assert event.details["history_override"] == reason
    assert event.details["history_findings"]
