"""The ``kho`` command tree, walked for tests that try every command (fuzzing, usage errors)."""

from __future__ import annotations

import unicodedata

import click
from click.testing import Result

from web.cli import main


def leaf_commands() -> list[tuple[list[str], click.Command]]:
    """Every command that is not a group, with its path of names below ``kho``."""
    return [(path, command) for path, command in every_command() if not isinstance(command, click.Group)]


def every_command() -> list[tuple[list[str], click.Command]]:
    """Every command of the tree, groups included (``kho`` itself first, as ``[]``)."""
    ctx = click.Context(main)
    found: list[tuple[list[str], click.Command]] = [([], main)]

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None:
                continue
            found.append(([*prefix, name], command))
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(main, [])
    return found


def refusal(result: Result) -> tuple[str, str]:
    """The refusal's code and line: exit 2, ``Lỗi [CODE]: …`` (NFC, with the help to read), no
    exception, no English of click's."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Error:" not in result.output, result.output
    line = next((ln for ln in result.output.splitlines() if ln.startswith("Lỗi [")), None)
    assert line is not None, result.output
    assert unicodedata.is_normalized("NFC", line) and "--help" in line, line
    return line[len("Lỗi [") : line.index("]")], line
