"""Fuzz tables for the CLI and the configuration: bad arguments, bad files and bad settings are
refused with a Vietnamese message and a stable code (``Lỗi [CODE]: …``, exit 2; or
``CONFIG_INVALID`` naming the variable), never a traceback or an uncaught exception.

The CLI table runs every command of the ``kho`` group (the lazily loaded groups included) with
bad values for every argument and option, as văn thư and logged out (``CliRunner``: one
installation per module); the rows that failed before are kept as their own cases below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from kho_cli_tree import leaf_commands
from kho_people import People, make_people
from kho_retention import kho_env

from kho.config import Settings
from kho.errors import ConfigError, KhoError
from web.cli import main
from web.context import Kho

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[People, Path]]:
    """One installation with its people for the whole module (its variables set and its folder
    the working directory meanwhile)."""
    folder = tmp_path_factory.mktemp("fuzz-cli")
    values = kho_env(folder, KHO_TOKEN_FILE=str(folder / "tokens.json"), KHO_VERIFY_AGENT="0")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        patch.delenv("KHO_TOKEN", raising=False)
        patch.chdir(folder)  # what a command writes under a relative name (keygen, export) stays here
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        kho.close()
        yield people, folder


def refused(result: Result) -> str:
    """The refusal's code: exit 2 with ``Lỗi [CODE]: …`` in Vietnamese (NFC), no exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = next((ln for ln in result.output.splitlines() if ln.startswith("Lỗi [")), None)
    assert line is not None, result.output
    assert unicodedata.is_normalized("NFC", line)
    return line[len("Lỗi [") : line.index("]")]


NOT_FUZZED = {"serve", "worker", "login", "logout", "verify-agent"}
"""Commands that start a server or a worker, or hold the session the table runs under."""


def bad_values(folder: Path) -> list[str]:
    garbage = folder / "garbage.json"
    garbage.write_bytes(b"\xff\xfe{not json")
    return [
        "../x",
        "0" * 24,
        "x" * 2000,
        "\u202eabc",
        "a\x07b",
        "-1",
        "2026-02-30",
        "Hoa\u0300",
        str(garbage),
        str(folder),
        str(folder / "missing" / "x"),
        "",
    ]


def test_every_command_refuses_bad_arguments_with_a_code(installation: tuple[People, Path]) -> None:
    people, folder = installation
    commands = [(path, cmd) for path, cmd in leaf_commands() if path[0] not in NOT_FUZZED]
    assert len(commands) >= 90, [" ".join(p) for p, _ in commands]
    runner = CliRunner()
    faults: list[str] = []
    sent = 0
    for path, command in commands:
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        options = [p for p in command.params if isinstance(p, click.Option) and not p.is_flag]
        for token, values in ((people.tokens["van_thu"], bad_values(folder)), ("", bad_values(folder)[:4])):
            for value in values:
                args = [*path, *(value for _ in arguments)]
                for option in options:
                    args += [option.opts[0], value]
                result = runner.invoke(main, args, env={"KHO_TOKEN": token})
                sent += 1
                uncaught = result.exception is not None and not isinstance(result.exception, SystemExit)
                if uncaught or "Traceback" in result.output:
                    faults.append(f"{' '.join(path)} {value[:30]!r}: {result.exception!r}"[:300])
    assert sent >= 1500
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("job", ["../x", "\u202eabc", "Hoa\u0300", "/tmp/x.pdf", "abc", "g" * 64])
@pytest.mark.parametrize("command", ["retry", "return", "status"])
def test_ingest_job_id_with_path_characters_is_refused(
    installation: tuple[People, Path], command: str, job: str
) -> None:
    """``kho ingest retry ../x`` reached the store as the key ``ingest/jobs/../x.json``: a
    ``ValueError`` traceback (exit 1)."""
    people, _ = installation
    result = CliRunner().invoke(main, ["ingest", command, job], env={"KHO_TOKEN": people.tokens["van_thu"]})
    assert refused(result) == "JOB_ID_INVALID"
    assert "Mã lượt tiếp nhận" in result.output


def test_ingest_job_prefix_still_found_or_not_found(installation: tuple[People, Path]) -> None:
    people, _ = installation
    result = CliRunner().invoke(
        main, ["ingest", "status", "ABCDEF0123"], env={"KHO_TOKEN": people.tokens["van_thu"]}
    )
    assert refused(result) == "JOB_NOT_FOUND"


def test_audit_verify_refuses_a_checkpoint_file_that_is_not_json(installation: tuple[People, Path]) -> None:
    people, folder = installation
    token = {"KHO_TOKEN": people.tokens["kiem_toan"]}
    garbage = folder / "cp-garbage.json"
    garbage.write_bytes(b"\xff\xfe not utf-8")
    text = folder / "cp-text.json"
    text.write_text("not json", encoding="utf-8")
    array = folder / "cp-array.json"
    array.write_text("[1, 2]", encoding="utf-8")
    for path in (garbage, text, array):
        result = CliRunner().invoke(main, ["audit", "verify", "--checkpoint", str(path)], env=token)
        assert refused(result) == "CHECKPOINT_FILE_INVALID"
        assert "điểm mốc" in result.output


def test_audit_verify_refuses_a_public_key_that_is_not_one(installation: tuple[People, Path]) -> None:
    people, folder = installation
    key = folder / "not-a-key.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["audit", "verify", "--public-key", str(key)], env={"KHO_TOKEN": people.tokens["kiem_toan"]}
    )
    assert refused(result) == "PUBLIC_KEY_INVALID"


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "keygen", "k" * 300],
        ["audit", "keygen", "/proc/a7-no-such-place/key"],
        ["audit", "export", "d" * 300],
        ["verify", "--trust-dir", "t" * 300, "x.pdf"],
    ],
)
def test_a_path_the_system_cannot_use_is_refused(installation: tuple[People, Path], args: list[str]) -> None:
    """A file name longer than the system allows, or a folder that cannot be made: OSError
    tracebacks (exit 1) from ``kho audit keygen|export`` and ``kho verify``."""
    people, _ = installation
    result = CliRunner().invoke(main, args, env={"KHO_TOKEN": people.tokens["kiem_toan"]})
    assert refused(result) == "FILE_UNREADABLE"
    assert "Không dùng được tệp" in result.output


def test_demo_on_an_installation_with_accounts_is_refused(installation: tuple[People, Path]) -> None:
    """``kho demo`` once accounts exist raised PermissionDenied with no handler: a traceback."""
    result = CliRunner().invoke(main, ["demo"], env={"KHO_TOKEN": ""})
    assert refused(result) == "PERMISSION_DENIED"


def test_the_program_prints_no_traceback(installation: tuple[People, Path]) -> None:
    """The same refusal from the real program, as a person runs it."""
    people, _ = installation
    env = {**os.environ, "KHO_TOKEN": people.tokens["van_thu"]}
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "ingest", "retry", "../../etc/passwd"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Lỗi [JOB_ID_INVALID]" in done.stderr


# -- configuration --------------------------------------------------------------------------------
BAD_SETTINGS = [
    ("KHO_OCR", "maybe"),
    ("KHO_OCR_DPI", "-1"),
    ("KHO_OCR_DPI", "0"),
    ("KHO_OCR_DPI", "99999999999999999999"),
    ("KHO_OCR_DPI", "abc"),
    ("KHO_OCR_TIMEOUT", "NaN"),
    ("KHO_OCR_TIMEOUT", "-5"),
    ("KHO_OCR_TIMEOUT", "1e999"),
    ("KHO_OCR_JOBS", "0"),
    ("KHO_OCR_JOBS", "-3"),
    ("KHO_OCR_SLOTS", "-1"),
    ("KHO_OCR_SLOTS", "x"),
    ("KHO_MAX_PAGES", "0"),
    ("KHO_MAX_PAGES", "-1"),
    ("KHO_MAX_PAGES", "1.5"),
    ("KHO_MAX_PAGES", "1_000"),  # Python's int takes it; a person did not mean it
    ("KHO_MAX_PAGES", "１０００"),  # fullwidth digits (a Vietnamese IME): int takes them too
    ("KHO_OCR_MEMORY_MB", "٢٠٤٨"),  # Arabic-Indic digits
    ("KHO_INGEST_RETRY_DELAY", "0_5"),
    ("KHO_INGEST_RETRY_DELAY", "１.５"),
    ("KHO_MAX_OCR_PAGES", "-1"),
    ("KHO_MAX_TEXT_CHARS", "0"),
    ("KHO_INGEST_RETRIES", "-1"),
    ("KHO_INGEST_RETRIES", "many"),
    ("KHO_INGEST_RETRY_DELAY", "NaN"),
    ("KHO_INGEST_RETRY_DELAY", "-1"),
    ("KHO_TASK_VISIBILITY", "abc"),
    ("KHO_TASK_VISIBILITY", "0"),
    ("KHO_VERIFY_AGENT_IDLE", "abc"),
    ("KHO_VERIFY_AGENT_IDLE", "-1"),
    ("KHO_COOKIE_SECURE", "sometimes"),
    ("KHO_BASE_URL", "javascript:alert(1)"),
    ("KHO_BASE_URL", "ftp://kho.example"),
]


def base_env(folder: Path) -> dict[str, str]:
    return {"KHO_DATA_DIR": str(folder / "data"), "KHO_AGENCY_ID": "000.00.18.H40"}


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_start_up_refuses_a_bad_setting_by_name(tmp_path: Path, name: str, value: str) -> None:
    """Settings read by ingest, Celery, the verification agent and the pages were taken as they
    were (``KHO_OCR_DPI=-1``, ``KHO_MAX_PAGES=0``, ``KHO_OCR_TIMEOUT=NaN``), or refused only when
    a document was processed, with one message naming none of them; ``KHO_TASK_VISIBILITY=abc``
    was a ValueError traceback when the worker started."""
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({**base_env(tmp_path), name: value})
    assert refusal.value.code == "CONFIG_INVALID"
    assert name in refusal.value.message
    assert refusal.value.details["variable"] == name
    assert unicodedata.is_normalized("NFC", refusal.value.message)


def test_the_readers_use_the_same_parsing(tmp_path: Path) -> None:
    from ingest.pipeline import RetryPolicy
    from ingest.text.settings import TextSettings
    from kho.config import process_settings

    for name, value in BAD_SETTINGS[:20]:
        with pytest.raises(ConfigError) as refusal:
            (RetryPolicy if name.startswith("KHO_INGEST") else TextSettings).from_env({name: value})
        assert name in refusal.value.message, (name, value)
    defaults = process_settings({})
    # u11: the visibility timeout defaults to the largest task hard limit (backup/fixity 10800) + 300.
    assert (defaults.ocr_dpi, defaults.max_pages, defaults.task_visibility) == (300, 5000, 11100)
    assert defaults.ocr_enabled and defaults.cookie_secure
    assert TextSettings.from_env({"KHO_OCR_SLOTS": "0", "KHO_OCR": ""}).ocr_slots == 0
    assert RetryPolicy.from_env({"KHO_INGEST_RETRY_DELAY": "0.05"}).base_delay == 0.05


@pytest.mark.parametrize("content", [None, b"\xff\xfe", b"not json", b"[1]", b'{"holidays": ["2026-02-30"]}'])
def test_a_bad_holidays_file_is_refused_at_start_up(tmp_path: Path, content: bytes | None) -> None:
    """A missing or malformed ``KHO_HOLIDAYS_FILE`` was a traceback (FileNotFoundError,
    JSONDecodeError, ValueError) when the handling service opened, i.e. on the pages."""
    path = tmp_path / "holidays.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({**base_env(tmp_path), "KHO_HOLIDAYS_FILE": str(path)})
    assert "KHO_HOLIDAYS_FILE" in refusal.value.message
    assert refusal.value.details["variable"] == "KHO_HOLIDAYS_FILE"


@pytest.mark.parametrize("endpoint", ["host:notaport", ":::", "127.0.0.1:99999"])
def test_an_s3_endpoint_with_a_bad_port_is_refused(tmp_path: Path, endpoint: str) -> None:
    """``KHO_S3_ENDPOINT=host:notaport`` was a ValueError traceback ("invalid port") at start-up."""
    settings = Settings.from_env(
        {**base_env(tmp_path), "KHO_STORE_URL": "s3://a7-never-made", "KHO_S3_ENDPOINT": endpoint}
    )
    with pytest.raises(KhoError) as refusal:
        Kho(settings)
    assert refusal.value.code == "CONFIG_INVALID"
    assert "S3" in refusal.value.message


def test_the_program_refuses_a_bad_setting_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, **base_env(tmp_path), "KHO_OCR_DPI": "-1", "KHO_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    assert "CONFIG_INVALID" in done.stderr and "KHO_OCR_DPI" in done.stderr
