"""The CLI's token file (``kho login``): the token goes only into the file named, mode 0600,
even when a file or a link already sits where the old code wrote its temporary copy (a16)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kho.config import Settings
from web.session import save_token, saved_token

SECRET = "a16-token-" + "x" * 32


def test_a_link_planted_at_the_temporary_name_does_not_receive_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"  # a folder another user may write to (not sticky)
    shared.mkdir()
    target = shared / "tokens.json"
    trap = tmp_path / "attacker-file"
    trap.write_text("")
    trap.chmod(0o666)
    (shared / "tokens.tmp").symlink_to(trap)  # where the token was first written
    monkeypatch.setenv("KHO_TOKEN_FILE", str(target))
    monkeypatch.delenv("KHO_TOKEN", raising=False)
    settings = Settings.from_env({"KHO_DATA_DIR": str(tmp_path / "kho")})
    save_token(settings, SECRET)
    assert SECRET not in trap.read_text()
    assert not target.is_symlink()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert saved_token(settings) == SECRET
