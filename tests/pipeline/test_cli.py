"""``kho ingest`` commands: take in a folder, read a job's status, return (trả lại) a document."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ingest.cli import ingest


def test_ingest_status_and_return_from_the_command_line(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "sua.pdf").write_bytes(signed["tampered"])
    (folder / "rong.pdf").write_bytes(b"")
    runner = CliRunner()

    took = runner.invoke(ingest, [str(folder), "--workers", "1", "--json"])
    assert took.exit_code == 1  # one file failed
    report = json.loads(took.output)
    by_name = {Path(i["path"]).name: i for i in report["items"]}
    assert by_name["sua.pdf"]["state"] == "xong"
    assert by_name["rong.pdf"]["reason_code"] == "FILE_EMPTY"
    job = by_name["sua.pdf"]["job_id"]

    shown = runner.invoke(ingest, ["status", job[:10]])
    assert shown.exit_code == 0, shown.output
    assert "Trạng thái: xong" in shown.output
    assert "Chữ ký số:  TOTAL-FAILED" in shown.output
    assert "Lý do trả lại:" in shown.output

    returned = runner.invoke(ingest, ["return", job, "--json"])
    assert returned.exit_code == 0, returned.output
    data = json.loads(returned.output)
    assert data["record_id"] == by_name["sua.pdf"]["record_id"] and data["return_reason"]

    again = runner.invoke(ingest, [str(folder), "--workers", "1"])
    assert "bỏ qua (đã xử lý trước): 2 / 2 tệp" in again.output

    missing = runner.invoke(ingest, ["status", "0123456789abcdef"])
    assert missing.exit_code == 2
    assert "Lỗi [JOB_NOT_FOUND]: Không tìm thấy lượt tiếp nhận" in missing.output
