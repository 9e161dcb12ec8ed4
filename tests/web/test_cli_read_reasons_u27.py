"""u27: ``kho record create --metadata`` / ``kho file create --metadata`` and ``kho handling
import-status`` say why a file could not be read in Vietnamese (``kho.read_reasons``), with the
command's code and a reason code, instead of the exception's English text ("Expecting ','
delimiter: line 1 column 17 (char 16)", "'utf-8' codec can't decode byte 0xd4…", "field larger
than field limit (131072)"). The real ``kho`` tree through click's CliRunner, logged in against
the real local store."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from web.cli import main

ENGLISH = ("Expecting", "codec", "decode", "field larger", "column", "char ", "Exceeds", "position",
           "recursion", "nested", "invalid", "line ")


@pytest.fixture
def run(people: People) -> CliRunner:
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    return runner


def _said(result, code: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.output, result.exception)
    said = result.stderr
    assert f"Lỗi [{code}]" in said and "Traceback" not in result.output
    assert unicodedata.is_normalized("NFC", said)
    assert not [word for word in ENGLISH if word in said], said
    return said


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b'{"trich_yeu": 1,,}', "không đúng cú pháp JSON ở dòng 1, cột 17"),
        (b'{"trich_yeu": "S\xd4 N\xd4i v\xf5"}', "không phải văn bản UTF-8"),  # Windows-1258
        (b"[" * 100_000 + b"]" * 100_000, "lồng nhau quá 256 tầng"),
        (b'{"code_number": ' + b"9" * 5000 + b"}", "có số quá dài"),
    ],
    ids=["syntax", "windows-1258", "deep", "long-number"],
)
@pytest.mark.parametrize("command", [("record", "create", "--direction", "den"), ("file", "create")])
def test_a_metadata_file_that_cannot_be_read_is_told_why_in_vietnamese(
    run: CliRunner, tmp_path: Path, command: tuple[str, ...], data: bytes, phrase: str
) -> None:
    path = tmp_path / "dac-ta.json"
    path.write_bytes(data)
    said = _said(run.invoke(main, [*command, "--metadata", str(path)]), "METADATA_FILE_INVALID")
    assert phrase in said


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"record_id,organ,code,note\nx,S\xd4 N\xd4i v\xf5,03,\n", "không phải văn bản UTF-8"),
        (b"record_id,organ,code,note\nx,a,03," + b"y" * 200_000 + b"\n", "có một ô dài quá 131.072 ký tự"),
    ],
    ids=["windows-1258", "cell-too-long"],
)
def test_a_status_file_that_cannot_be_read_is_told_why_in_vietnamese(
    run: CliRunner, tmp_path: Path, data: bytes, phrase: str
) -> None:
    path = tmp_path / "trang-thai.csv"
    path.write_bytes(data)
    said = _said(run.invoke(main, ["handling", "import-status", str(path)]), "STATUS_IMPORT_INVALID")
    assert phrase in said
