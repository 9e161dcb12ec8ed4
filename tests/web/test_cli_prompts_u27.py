"""u27: the ``kho`` questions are Vietnamese, through one place (``web.cli_help.ask``/``confirm``).

Click's own words at a prompt are English with no Vietnamese catalogue: "Repeat for
confirmation:", "Error: The two entered values do not match.", "[y/N]". A new password typed at
``kho login`` (first login) showed the first two to a văn thư. The real ``kho`` tree through
click's CliRunner, logged in against the real local store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kho_people import People

from web.cli import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [p for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
ENGLISH = ("Repeat for confirmation", "do not match", "y/N", "Y/n", "Error:")


def test_no_command_asks_through_click_directly() -> None:
    """A later ``click.prompt``/``click.confirm``/``confirmation_prompt=True`` outside
    web/cli_help.py fails here: ask through ``web.cli_help.ask`` or ``confirm``."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in sorted(package.rglob("*.py"))
        if path != ROOT / "web" / "cli_help.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"click\.(prompt|confirm)\(|confirmation_prompt=True|confirmation_option", line)
    ]
    assert PACKAGES and found == []


def test_a_new_password_typed_twice_is_asked_and_refused_in_vietnamese(
    env: dict[str, str], people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("KHO_TOKEN", people.tokens["quan_tri"])
    made = runner.invoke(
        main,
        ["account", "create", "--full-name", "Vũ Thị Mai", "--unit", "000.00.18.H40", "--role", "van_thu",
         "--json"],
    )
    assert made.exit_code == 0, made.output
    data = json.loads(made.output)
    monkeypatch.setenv("KHO_TOKEN", people.tokens["lanh_dao"])  # the second person
    confirmed = runner.invoke(main, ["account", "confirm-reset", data["account"]["username"], "--json"])
    assert confirmed.exit_code == 0, confirmed.output
    initial = data["first_half"] + json.loads(confirmed.output)["second_half"]
    monkeypatch.delenv("KHO_TOKEN")
    typed = f"{data['account']['username']}\n{initial}\nMai@Kho2026\nKhac@Kho2026\nMai@Kho2026\nMai@Kho2026\n"
    done = runner.invoke(main, ["login"], input=typed)
    assert done.exit_code == 0, done.output
    assert "Tên đăng nhập: " in done.output and "Mật khẩu mới: " in done.output
    assert done.output.count("Nhập lại để xác nhận: ") == 2
    assert done.output.count("Lỗi: hai lần nhập không khớp nhau; hãy nhập lại.") == 1
    assert not [word for word in ENGLISH if word in done.output], done.output


@click.command()
def _asks() -> None:
    from web.cli_help import confirm

    click.echo(f"trả lời: {confirm('Hủy các văn bản này?')}")


@pytest.mark.parametrize(
    ("typed", "answer"), [("\n", False), ("c\n", True), ("có\n", True), ("x\nk\n", False)]
)
def test_a_yes_no_question_is_vietnamese(typed: str, answer: bool) -> None:
    done = CliRunner().invoke(_asks, input=typed)
    assert done.exit_code == 0, done.output
    assert "Hủy các văn bản này? [c/K]" in done.output and f"trả lời: {answer}" in done.output
    assert ("hãy trả lời c (có) hoặc k (không)" in done.output) == typed.startswith("x")
    assert not [word for word in ENGLISH if word in done.output], done.output
