"""A command line the ``kho`` program cannot parse (an unknown command or option, a missing
argument, a value of the wrong type, an extra argument, an option without its value) is refused
like every other refusal of the CLI: ``Lỗi [CODE]: …`` in Vietnamese (NFC) on stderr, exit 2,
the ``--json`` form with ``--json``. Before review rv45 click printed these itself, in English and
without a code (``Error: No such option '--limit'.``).

Every command of the ``kho --help`` tree gets an unknown option, no arguments when it needs
some, and a wrong value for each typed option; nothing here needs an installation (click refuses
the line before a command runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kho_cli_tree import leaf_commands, refusal

from web.cli import main

ROOT = Path(__file__).resolve().parents[2]


TYPED = (click.types.IntParamType, click.types.FloatParamType, click.Choice, click.DateTime)


def test_every_command_refuses_a_line_it_cannot_parse_with_a_code() -> None:
    runner = CliRunner()
    commands = leaf_commands()
    assert len(commands) >= 90, len(commands)
    faults: list[str] = []
    sent = 0

    def expect(args: list[str], codes: set[str]) -> None:
        nonlocal sent
        sent += 1
        result = runner.invoke(main, args, env={"KHO_TOKEN": ""})
        try:
            code, _ = refusal(result)
            assert code in codes, (code, codes)
        except AssertionError as exc:
            faults.append(f"kho {' '.join(args)}: {exc}"[:300])

    for path, command in commands:
        expect([*path, "--khong-co-tuy-chon-nay"], {"CLI_OPTION_UNKNOWN"})
        if any(p.required for p in command.params):
            expect(path, {"CLI_ARGUMENT_MISSING", "CLI_OPTION_MISSING"})
        for option in command.params:
            if isinstance(option, click.Option) and not option.is_flag and isinstance(option.type, TYPED):
                expect([*path, option.opts[0], "khong-phai"], {"CLI_VALUE_INVALID"})
            if isinstance(option, click.Option) and not option.is_flag and option.nargs == 1:
                expect([*path, option.opts[0]], {"CLI_OPTION_INVALID"})
    expect(["khong-co-lenh-nay"], {"CLI_COMMAND_UNKNOWN"})
    expect(["--khong-co"], {"CLI_OPTION_UNKNOWN"})
    expect(["ingest", "retry", "a" * 64, "thua", "nua"], {"CLI_ARGUMENT_EXTRA"})
    assert sent >= 250, sent
    assert not faults, f"{len(faults)} of {sent}:\n" + "\n".join(faults[:40])


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["search", "--limit", "5", "x"], "CLI_OPTION_UNKNOWN", "Không có tùy chọn “--limit”"),
        (["plan", "show", "abc"], "CLI_VALUE_INVALID", "“NĂM” phải là số nguyên"),
        (["ingest", "retry"], "CLI_ARGUMENT_MISSING", "Thiếu tham số “MÃ_LƯỢT_NHẬP”"),
        (["khong-co-lenh-nay"], "CLI_COMMAND_UNKNOWN", "Không có lệnh “khong-co-lenh-nay”"),
        (["ingest", "retry", "a", "b"], "CLI_ARGUMENT_EXTRA", "Thừa tham số: b"),
    ],
)
def test_the_refusal_says_what_is_wrong(args: list[str], code: str, words: str) -> None:
    found, line = refusal(CliRunner().invoke(main, args, env={"KHO_TOKEN": ""}))
    assert found == code and words in line, line


def test_with_json_the_refusal_is_json() -> None:
    result = CliRunner().invoke(main, ["search", "--json", "--khong-co", "x"], env={"KHO_TOKEN": ""})
    assert result.exit_code == 2, result.output
    error = json.loads(result.output.strip().splitlines()[-1])["error"]
    assert error["code"] == "CLI_OPTION_UNKNOWN" and "Không có tùy chọn" in error["message"]


def test_a_group_named_alone_still_shows_its_help() -> None:
    result = CliRunner().invoke(main, ["ingest"], env={"KHO_TOKEN": ""})
    assert "Lỗi [" not in result.output and "retry" in result.output


def test_the_program_prints_the_refusal_and_no_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "search", "--khong-co", "x"],
        cwd=ROOT,
        env={**os.environ, "KHO_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Error:" not in done.stderr
    assert "Lỗi [CLI_OPTION_UNKNOWN]: Không có tùy chọn “--khong-co”." in done.stderr


def test_a_question_left_unanswered_is_said_in_vietnamese(tmp_path: Path) -> None:
    """Standard input closed at ``kho login``'s question: click printed ``Aborted!``."""
    env = {"KHO_TOKEN": "", "KHO_DATA_DIR": str(tmp_path / "data"), "KHO_VERIFY_AGENT": "0"}
    result = CliRunner().invoke(main, ["login"], input="", env=env)
    assert result.exit_code == 1, result.output
    assert "Aborted" not in result.output and "Traceback" not in result.output
    assert "Lỗi [CLI_ABORTED]: Đã dừng lệnh" in result.output, result.output
