"""Whole numbers on the ``kho`` command line are ASCII digits only (u26, review rv46 "Open").

click's ``type=int`` and ``click.IntRange`` read a value with Python's ``int()``, which takes
"٣" (Arabic-Indic), "３" (fullwidth), "0_3" and " 3" as 3: ``kho serve --port ٨٠`` listened on
port 80. The walk below finds every integer parameter of the tree by introspection, so a
``type=int`` added later (or an option whose type click infers from an int default) fails it.
Nothing here needs an installation: click refuses the line before a command runs."""

from __future__ import annotations

import json
import unicodedata

import click
import pytest
from click.testing import CliRunner
from kho_cli_tree import leaf_commands, refusal

from kho.cli_int import AsciiInt
from web.cli import main
from web.cli_help import metavar
from web.cli_usage import usage_refusal

NOT_ASCII_DIGITS = ("٣", "３", "0_3", " 3", "3 ", "+3", "²", "3.0", "1" * 19)
"""Refused everywhere; every one but "²", "3.0" and the 19 digits passed ``int()`` before u26."""


def _is_integer(param: click.Parameter) -> bool:
    if isinstance(param, click.Option) and (param.is_flag or param.count):
        return False  # takes no value
    return isinstance(param.type, click.types.IntParamType)


def _filler(param: click.Parameter) -> str:
    """A value an argument before the one under test accepts, so that the line reaches it."""
    if isinstance(param.type, click.types.IntParamType):
        return "3"
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    return "x"


def _line(path: list[str], command: click.Command, param: click.Parameter, value: str) -> list[str]:
    if isinstance(param, click.Option):
        return [*path, param.opts[0], value]
    before = [p for p in command.params[: command.params.index(param)] if isinstance(p, click.Argument)]
    return [*path, *(_filler(p) for p in before), value]


def _shown_name(param: click.Parameter) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return metavar(param.human_readable_name)  # in Vietnamese, as the refusal names it (u25)


def integer_parameters() -> list[tuple[list[str], click.Command, click.Parameter]]:
    return [
        (path, command, param)
        for path, command in leaf_commands()
        for param in command.params
        if _is_integer(param)
    ]


def _parsed(path: list[str], args: list[str]) -> click.Context:
    """``args`` parsed by the command at ``path`` the way ``kho`` does, without running it (a
    value read by the old ``int()`` must not start ``kho serve`` in a test)."""
    ctx = click.Context(main, info_name="kho", resilient_parsing=False)
    group: click.Command = main
    for name in path[:-1]:
        assert isinstance(group, click.Group)
        group = group.get_command(ctx, name)  # type: ignore[assignment]
        ctx = click.Context(group, info_name=name, parent=ctx)
    assert isinstance(group, click.Group)
    command = group.get_command(ctx, path[-1])
    assert command is not None
    return command.make_context(path[-1], args, parent=ctx)


def test_every_integer_parameter_takes_ascii_digits_only() -> None:
    found = integer_parameters()
    assert len(found) >= 30, len(found)  # the walk sees the tree's integer parameters
    faults: list[str] = []
    for path, command, param in found:
        where = f"kho {' '.join(path)} {_shown_name(param)}"
        try:
            assert param.type.convert("3", param, click.Context(command)) == 3
        except (AssertionError, click.BadParameter) as exc:
            faults.append(f"{where}: '3' not read as 3 ({exc!r})")
        for value in NOT_ASCII_DIGITS:
            line = _line(path, command, param, value)[len(path) :]
            try:
                with pytest.raises(click.BadParameter) as refused:
                    _parsed(path, line)
                answer = usage_refusal(refused.value)  # what ``kho`` prints for it (rv45)
                assert answer.code == "CLI_VALUE_INVALID", answer
                message = answer.message
                assert unicodedata.is_normalized("NFC", message), message
                assert f"“{_shown_name(param)}”" in message and "0–9" in message, message
            except (AssertionError, pytest.fail.Exception, click.ClickException) as exc:
                faults.append(f"{where} {value!r}: {exc}"[:300])
    assert not faults, f"{len(faults)} faults:\n" + "\n".join(faults[:60])


@pytest.mark.parametrize(
    ("path", "args", "words"),
    [
        (["account", "clearance"], ["someone", "٣"], "“MỨC” phải là số nguyên (chữ số 0–9) từ 0 đến 3"),
        (["serve"], ["--port", "٨٠"], "“--port” phải là số nguyên (chữ số 0–9)"),
        (["plan", "show"], ["2_024"], "“NĂM” phải là số nguyên (chữ số 0–9)"),
        (["search"], ["--page-size", "２０", "x"], "“--page-size” phải là số nguyên (chữ số 0–9)"),
    ],
)
def test_the_cases_of_the_review_are_refused(path: list[str], args: list[str], words: str) -> None:
    """Parsed only: on the old code ``kho serve --port ٨٠`` would listen on port 80."""
    with pytest.raises(click.BadParameter) as refused:
        _parsed(path, args)
    answer = usage_refusal(refused.value)
    assert answer.code == "CLI_VALUE_INVALID" and words in answer.message, answer.message


def test_the_program_refuses_it_like_any_usage_error() -> None:
    """Through ``kho`` itself (YEAR left out: on the old code the line stops at it, nothing runs)."""
    args = ["plan", "approve", "--expected-version", "0_3"]
    code, line = refusal(CliRunner().invoke(main, args, env={"KHO_TOKEN": ""}))
    assert code == "CLI_VALUE_INVALID" and "“--expected-version” phải là số nguyên (chữ số 0–9)" in line, line


def test_with_json_the_refusal_is_json() -> None:
    args = ["plan", "approve", "--json", "--expected-version", "٣"]
    result = CliRunner().invoke(main, args, env={"KHO_TOKEN": ""})
    assert result.exit_code == 2, result.output
    error = json.loads(result.output.strip().splitlines()[-1])["error"]
    assert error["code"] == "CLI_VALUE_INVALID" and "“--expected-version”" in error["message"], error


def test_the_type_reads_digits_and_a_minus_only_where_negatives_are_legal() -> None:
    assert AsciiInt().convert("-3", None, None) == -3
    assert AsciiInt(min=-5).convert("-3", None, None) == -3
    assert AsciiInt(0, 3).convert("03", None, None) == 3
    assert AsciiInt(1, 64).convert(2, None, None) == 2  # a default, already a number
    for text, kind in (("-3", AsciiInt(0, 3)), ("4", AsciiInt(0, 3)), ("--3", AsciiInt()), ("-", AsciiInt()),
                       ("", AsciiInt()), ("-٣", AsciiInt())):
        with pytest.raises(click.BadParameter):
            kind.convert(text, None, None)

