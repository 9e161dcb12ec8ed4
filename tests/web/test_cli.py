"""The kho command: records, registers, index following the store, errors with codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_testing import pdf_bytes

from web.cli import main


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KHO_AGENCY_ID", "000.00.18.H40")
    monkeypatch.setenv("KHO_USER", "vanthu.a")
    monkeypatch.delenv("KHO_ELASTICSEARCH_URL", raising=False)
    return CliRunner()


INCOMING = [
    "type_name=Công văn",
    "code_number=1234",
    "code_notation=BNV-VP",
    "organ_name=Bộ Nội vụ",
    "issued_date=02/03/2026",
    "subject=Về việc triển khai hệ thống quản lý văn bản điện tử",
    "signer_position=Chánh Văn phòng",
    "signer_full_name=Trần Thị Hoà",
]


def test_create_update_register_search_and_audit(run: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "Công văn 1234.pdf"
    source.write_bytes(pdf_bytes("cli"))
    created = run.invoke(
        main, ["record", "create", "--direction", "den", "--file", str(source), *INCOMING, "--json"]
    )
    assert created.exit_code == 0, created.output
    record = json.loads(created.output)
    rid = record["record_id"]
    assert record["registration"]["number"] == 1
    assert record["document_id"] is None  # the sender's organ id is unknown

    found = run.invoke(main, ["search", "trien khai he thong", "--user", "x", "--role", "auditor", "--json"])
    assert found.exit_code == 0, found.output
    assert [h["id"] for h in json.loads(found.output)["hits"]] == [rid]

    updated = run.invoke(
        main, ["record", "update", rid, "--expected-version", "1", "subject=Về việc sửa đổi quy chế"]
    )
    assert updated.exit_code == 0, updated.output
    stale = run.invoke(main, ["record", "update", rid, "--expected-version", "1", "subject=Khác", "--json"])
    assert stale.exit_code == 2
    assert json.loads(stale.stderr)["error"]["code"] == "VERSION_CONFLICT"
    # The index followed the new version.
    assert run.invoke(main, ["index-check"]).exit_code == 0
    found = run.invoke(main, ["search", "sua doi quy che", "--user", "x", "--role", "auditor", "--json"])
    assert [h["id"] for h in json.loads(found.output)["hits"]] == [rid]

    register = run.invoke(
        main, ["register", "list", "--series", "den", "--year", str(record["registration"]["year"])]
    )
    assert "| 01 | Bộ Nội vụ | 1234/BNV-VP |" in register.output
    download = run.invoke(main, ["record", "download", rid, "-o", str(tmp_path / "out.pdf")])
    assert download.exit_code == 0 and (tmp_path / "out.pdf").read_bytes() == pdf_bytes("cli")
    log = run.invoke(main, ["audit", "log", "--record", rid])
    assert "content:download" in log.output and "(GMT+7)" in log.output
    assert run.invoke(main, ["audit", "verify"]).exit_code == 0
    assert run.invoke(main, ["fsck", "--deep"]).exit_code == 0


def test_bad_input_gets_a_vietnamese_message_and_a_code(run: CliRunner, tmp_path: Path) -> None:
    bad = run.invoke(main, ["record", "create", "--direction", "den", "code_number=5a", "--json"])
    assert bad.exit_code == 2
    error = json.loads(bad.stderr)["error"]
    assert error["code"] == "VALIDATION_FAILED"
    codes = {e["field"]: e["code"] for e in error["details"]["errors"]}
    assert codes["code_number"] == "CODE_NUMBER_INVALID"
    empty = tmp_path / "rong.pdf"
    empty.write_bytes(b"")
    result = run.invoke(main, ["record", "create", "--direction", "den", "--file", str(empty), *INCOMING])
    assert result.exit_code == 2 and "Lỗi [FILE_EMPTY]" in result.stderr
    result = run.invoke(main, ["record", "create", "--direction", "den", "nonsense"])
    assert "METADATA_ARGUMENT_INVALID" in result.stderr


def test_bad_configuration_is_refused(run: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHO_MAX_FILE_MB", "nhiều")
    result = run.invoke(main, ["register", "list"])
    assert result.exit_code == 2
    assert "Lỗi [CONFIG_INVALID]: Biến cấu hình KHO_MAX_FILE_MB" in result.stderr


def test_register_list_answers_di_and_unknown_series_clearly(run: CliRunner) -> None:
    created = run.invoke(main, ["record", "create", "--direction", "den", *INCOMING, "--json"])
    assert created.exit_code == 0, created.output
    year = json.loads(created.output)["registration"]["year"]
    listed = run.invoke(main, ["register", "list", "--series", "den", "--year", str(year)])
    assert listed.exit_code == 0, listed.output
    assert "(1 văn bản)" in listed.output

    di = run.invoke(main, ["register", "list", "--series", "di", "--year", str(year)])
    assert di.exit_code == 2
    assert "Lỗi [REGISTER_SERIES_AMBIGUOUS]" in di.stderr
    assert "hanh-chinh (Sổ văn bản hành chính)" in di.stderr
    assert "Traceback" not in di.output

    unknown = run.invoke(main, ["register", "list", "--series", "khong-co", "--year", str(year), "--json"])
    assert unknown.exit_code == 2
    error = json.loads(unknown.stderr)["error"]
    assert error["code"] == "REGISTER_SERIES_UNKNOWN"
    assert "den (Sổ đăng ký văn bản đến)" in error["message"]

    secret = run.invoke(main, ["register", "list", "--series", "den-mat", "--year", str(year)])
    assert secret.exit_code == 0, secret.output
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN MẬT" in secret.output
