"""Whoever names the files of an intake folder must not write on the operator's terminal: a
name carrying ESC sequences (cursor moves, line erases, OSC 52 that sets the clipboard), CR or
LF was printed as it was by ``kho ingest`` (the failure line) and ``kho ingest status``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import make_people

from kho.config import Settings
from web.cli import main
from web.context import Kho

HOSTILE = "a\x1b]52;c;cm0gLXJmIH4=\x07\x1b[1A\x1b[2K\rXong: 1, lỗi: 0\n.pdf"


def test_a_hostile_file_name_is_printed_escaped(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / HOSTILE).write_bytes(b"")
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    runner = CliRunner()

    took = runner.invoke(main, ["ingest", str(folder), "--workers", "1"])
    listed = runner.invoke(main, ["ingest", "status"])
    assert took.exit_code == 1 and listed.exit_code == 0, (took.output, listed.output)
    for result in (took, listed):
        printed = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert "\x1b" not in printed and "\x07" not in printed and "\r" not in printed, printed
        assert "\\x1b]52;c;" in printed, printed
    failure = next(ln for ln in (took.output + took.stderr).splitlines() if ln.startswith("  lỗi ["))
    assert "\\x0a.pdf" in failure  # the name's line feed is shown, not obeyed
