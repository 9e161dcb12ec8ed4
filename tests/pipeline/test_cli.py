"""``kho ingest`` commands: take in a folder, read a job's status, return (trả lại) a document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, make_people

from kho.config import Settings
from web.cli import main
from web.context import Kho


def ingest(args: list[str]) -> list[str]:
    return ["ingest", *args]


def test_ingest_status_and_return_from_the_command_line(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sua.pdf").write_bytes(signed["tampered"])
    (folder / "rong.pdf").write_bytes(b"")
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    runner = CliRunner()
    # Nobody logged in: refused before anything is read.
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    refused = runner.invoke(main, ingest([str(folder), "--workers", "1"]))
    assert refused.exit_code == 2 and "AUTH_REQUIRED" in refused.output
    # A chuyên viên may not receive documents.
    monkeypatch.setenv("KHO_TOKEN", people.tokens["chuyen_vien"])
    refused = runner.invoke(main, ingest([str(folder), "--workers", "1"]))
    assert refused.exit_code == 2 and "PERMISSION_DENIED" in refused.output
    login = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])

    took = runner.invoke(main, ingest([str(folder), "--workers", "1", "--json"]))
    assert took.exit_code == 1  # one file failed
    report = json.loads(took.output)
    by_name = {Path(i["path"]).name: i for i in report["items"]}
    assert by_name["sua.pdf"]["state"] == "xong"
    assert by_name["rong.pdf"]["reason_code"] == "FILE_EMPTY"
    job = by_name["sua.pdf"]["job_id"]

    shown = runner.invoke(main, ingest(["status", job[:10]]))
    assert shown.exit_code == 0, shown.output
    assert "Trạng thái: xong" in shown.output
    assert "Chữ ký số:  TOTAL-FAILED" in shown.output
    assert "Lý do trả lại:" in shown.output
    # What the document says is read through the record (sealed), for whoever may see it.
    assert "Số, ký hiệu: " in shown.output and "Trích yếu: " in shown.output, shown.output

    returned = runner.invoke(main, ingest(["return", job, "--json"]))
    assert returned.exit_code == 0, returned.output
    data = json.loads(returned.output)
    assert data["record_id"] == by_name["sua.pdf"]["record_id"] and data["return_reason"]

    again = runner.invoke(main, ingest([str(folder), "--workers", "1"]))
    assert "bỏ qua (đã xử lý trước): 2 / 2 tệp" in again.output

    missing = runner.invoke(main, ingest(["status", "0123456789abcdef"]))
    assert missing.exit_code == 2
    assert "Lỗi [JOB_NOT_FOUND]: Không tìm thấy lượt tiếp nhận" in missing.output
