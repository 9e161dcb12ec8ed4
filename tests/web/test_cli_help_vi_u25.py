"""Every ``kho`` help page speaks Vietnamese, click's own words included (u25).

Click wrote "Usage:", "Options:", "Commands:", "Show this message and exit.", "[required]",
"[default: …]" and its metavars (TEXT, INTEGER, FILE, an argument's name) in English on each of
the tree's help pages; :mod:`web.cli_help` says them in Vietnamese in one formatter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kho_cli_tree import every_command, leaf_commands

from web.cli import main

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = re.compile(
    r"Usage:|Options:|Commands:|Positional arguments|Show this message|Show the version"
    r"|\[required\]|\[default:|required\]|; default:|env var:|DEPRECATED|\(dynamic\)|%Y"
    r"|\b(?:TEXT|INTEGER|FLOAT|BOOLEAN|FILE|FILES|FILENAME|PATH|PATHS|DIRECTORY|OPTIONS|COMMAND|ARGS|RANGE)\b"
)
"""Click's own English words (and its type names as metavars)."""
CAPS = re.compile(r"\b[A-Z][A-Z0-9_]+\b")
DATE_FORMAT = {"YYYY", "MM", "DD"}
"""A date's written form (``[YYYY-MM-DD]``), not a word."""


def _english_metavars(page: str) -> list[str]:
    """Upper-case words of the usage line and of the options' first column that are plain ASCII:
    a metavar click made from an English name (RECORD_ID, USERNAME)."""
    found: list[str] = []
    lines = page.splitlines()
    usage = [line for line in lines if line.startswith("Cách dùng:")]
    options = [line.strip().split("  ")[0] for line in lines if line.startswith("  -")]
    for text in [*usage, *options]:
        found += [word for word in CAPS.findall(text) if word.isascii() and word not in DATE_FORMAT]
    return found


PAGES = every_command()


def _help(path: list[str]) -> str:
    done = CliRunner().invoke(main, [*path, "--help"], env={"KHO_TOKEN": ""})
    assert done.exit_code == 0, done.output
    return done.output


def test_the_walk_reaches_every_leaf_command() -> None:
    leaves = {tuple(path) for path, _ in leaf_commands()}
    walked = {tuple(path) for path, command in PAGES if not isinstance(command, click.Group)}
    assert leaves == walked and len(leaves) > 100


@pytest.mark.parametrize("path", [path for path, _ in PAGES], ids=lambda p: " ".join(["kho", *p]))
def test_every_help_page_is_vietnamese(path: list[str]) -> None:
    page = _help(path)
    assert unicodedata.is_normalized("NFC", page)
    assert not ENGLISH.findall(page), (ENGLISH.findall(page), page)
    assert not _english_metavars(page), (_english_metavars(page), page)
    assert page.startswith("Cách dùng: ")
    # ("--help" alone where a test ran the command outside ``kho`` first: click caches the
    # help option of a command object with the names of the context it was first built in)
    assert "Tùy chọn:" in page and "--help" in page and "Hiện trợ giúp này rồi thoát." in page


def test_groups_list_their_commands_under_lenh() -> None:
    for path, command in PAGES:
        if isinstance(command, click.Group):
            assert "\nLệnh:\n" in _help(path), path


def test_required_default_and_metavars_are_said_in_vietnamese() -> None:
    create = _help(["record", "create"])
    assert "[bắt buộc]" in create and "--file TỆP" in create
    assert "Cách dùng: main record create [TÙY_CHỌN] [TRƯỜNG]..." in create
    clearance = _help(["account", "create"])
    assert "[mặc định: 0; 0<=x<=3]" in clearance, clearance


def test_a_missing_argument_is_named_as_the_help_page_shows_it() -> None:
    done = CliRunner().invoke(main, ["record", "show"], env={"KHO_TOKEN": ""})
    assert done.exit_code == 2
    assert "Thiếu tham số “MÃ_VĂN_BẢN”" in done.output, done.output


def test_the_real_program_help_is_vietnamese(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
    env.update(KHO_DATA_DIR=str(tmp_path / "data"), KHO_TOKEN="")
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "--help"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Cách dùng: ") and "\nLệnh:\n" in done.stdout
    assert not ENGLISH.findall(done.stdout), done.stdout
