"""Whoever names the files of an intake folder must not write on the operator's terminal: a
name carrying ESC sequences (cursor moves, line erases, OSC 52 that sets the clipboard), CR or
LF was printed as it was by ``kho ingest`` (the failure line) and ``kho ingest status``."""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import make_people

from ingest.cli import _shown
from kho.config import Settings
from kho.files import printable
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


REORDERING = "tờ\u061c\u200e\u200f\u202eFDP.exe\u202c\u2067x\u2069\u2028\u2029\ufeff\u00ad trình.pdf"
"""A name with bidi marks, overrides and isolates (the line shows "exe.PDF" as "…pdf"), the line
and paragraph separators, a byte-order mark and a soft hyphen: none is a control character."""


def test_a_name_that_reorders_or_breaks_the_line_is_printed_escaped(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / REORDERING).write_bytes(b"")
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    runner = CliRunner()

    took = runner.invoke(main, ["ingest", str(folder), "--workers", "1"])
    listed = runner.invoke(main, ["ingest", "status"])
    assert took.exit_code == 1 and listed.exit_code == 0, (took.output, listed.output)
    hidden = {c for c in REORDERING if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")}
    assert len(hidden) == 11
    for result in (took, listed):
        printed = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert not hidden & set(printed), printed
        escaped = "\\u061c\\u200e\\u200f\\u202eFDP.exe\\u202c\\u2067x\\u2069\\u2028\\u2029\\ufeff\\xad"
        assert f"tờ{escaped} trình.pdf" in printed, printed


def test_printable_is_the_one_rule_for_every_hidden_character() -> None:
    """``kho.files.printable`` (names in refusals, settings, bulk items) and ``kho ingest``'s
    lines escape the same characters: each of categories Cc, Cf, Zl, Zp; spaces stay."""
    categories = ("Cc", "Cf", "Zl", "Zp")
    hidden = [chr(n) for n in range(sys.maxunicode + 1) if unicodedata.category(chr(n)) in categories]
    for char in hidden:
        shown = printable(f"a{char}b")
        assert char not in shown and shown == _shown(f"a{char}b"), repr(char)
    assert printable("Hồ sơ 01\u00a0(bản chính).pdf") == "Hồ sơ 01\u00a0(bản chính).pdf"  # spaces stay
    assert printable("a\udc80b") == "a\\x80b"  # a byte of another code page


def test_a_fifo_named_on_the_command_line_is_refused_as_not_a_file(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kho ingest`` given a FIFO (or a device, a socket) by name: refused before any read as
    not a regular file (``SOURCE_NOT_FILE``), not as a file "replaced after the scan"
    (``SOURCE_CHANGED``, which it was given before); the other file named is imported."""
    fifo = tmp_path / "ong-dan.pdf"
    os.mkfifo(fifo)
    good = tmp_path / "cong-van.txt"
    good.write_text("Công văn số 7 về việc tiếp nhận hồ sơ.\n", encoding="utf-8")
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])

    took = CliRunner().invoke(main, ["ingest", str(fifo), str(good), "--workers", "1"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert took.exit_code == 1, printed
    failure = next(ln for ln in printed.splitlines() if ln.startswith("  lỗi ["))
    assert failure.startswith("  lỗi [SOURCE_NOT_FILE]") and "ong-dan.pdf" in failure, failure
    assert "không phải tệp thông thường" in failure and "thay thế" not in failure
    assert "Xong: 1, lỗi: 1" in printed, printed
