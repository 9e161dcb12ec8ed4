"""The ``kho`` command tree, walked for tests that try every command (fuzzing, usage errors)."""

from __future__ import annotations

import click

from web.cli import main


def leaf_commands() -> list[tuple[list[str], click.Command]]:
    """Every command that is not a group, with its path of names below ``kho``."""
    ctx = click.Context(main)
    found: list[tuple[list[str], click.Command]] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            elif command is not None:
                found.append(([*prefix, name], command))

    walk(main, [])
    return found


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
