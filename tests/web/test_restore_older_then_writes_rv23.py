"""``kho restore --accept-older-history`` is the operator's legitimate way back to an older copy:
it notes the restored head in the checkpoint folder outside the store, so that processes started
after it write to the restored store; the same older copy put back by hand (not through
``kho restore``) is refused ``AUDIT_HISTORY_BEHIND`` (review rv23, :mod:`repository.rollback`,
tests/repository/test_store_rolled_back_rv23.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_backups import RolledBack, newest_copies_removed, wipe
from kho_people import People
from kho_testing import CLERK, incoming

from kho.config import Settings
from repository.rollback import RESTORED_HEAD
from repository.service import open_repository
from web.cli import main


@pytest.fixture
def copies(
    people: People,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> RolledBack:
    return newest_copies_removed(tmp_path, monkeypatch)


def test_an_older_copy_restored_with_its_reason_is_written_to_by_the_next_processes(
    copies: RolledBack, env: dict[str, str]
) -> None:
    wipe(env)
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = CliRunner().invoke(
        main,
        [
            "restore",
            "--from",
            copies.store_url,
            "--keys-from",
            copies.keys_url,
            "--accept-older-history",
            reason,
        ],
    )
    assert done.exit_code == 0, done.output
    settings = Settings.from_env()
    assert settings.audit_checkpoint_dir is not None
    note = json.loads((settings.audit_checkpoint_dir / RESTORED_HEAD).read_text(encoding="utf-8"))
    restored = open_repository(settings)
    assert note["through"] == 2  # both backups signed one; superseded by the restored head
    assert note["seq"] == max(e.seq for e in restored.audit.events() if e.action != "backup:restore")
    # A process started after the restore registers (the restore is the operator's decision);
    # without the note it would be refused: the copy is behind checkpoint 2.
    record = restored.create_document("den", incoming(code_number="9"), None, None, CLERK)
    assert record.registration is not None
    assert open_repository(settings).read_content(copies.first, actor=CLERK)
