"""Words people read (branch u19): ``kho search`` prints its facets in Vietnamese with names,
not codes and ids; a message joined from pieces ends with exactly one full stop; the nộp lưu
inbox and review name the person who submitted, not their account id."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, People
from kho_retention import closed_file
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import ConfigError
from retention.submission import DocumentEvidence, SubmissionError, check_accept, run_checks
from web.cli import main
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

INCOMING = [
    "type_name=Công văn",
    "code_number=1234",
    "code_notation=BNV-VP",
    "organ_name=Bộ Nội vụ",
    "issued_date=02/03/2026",
    "subject=Về việc kiểm kê tài liệu lưu trữ điện tử",
    "signer_position=Chánh Văn phòng",
    "signer_full_name=Trần Thị Hoà",
]


def _login_cli(runner: CliRunner, people: People, who: str) -> None:
    login = runner.invoke(main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output


def test_kho_search_prints_facets_in_vietnamese_with_names(
    kho: Kho, people: People, tmp_path: Path, signed: dict[str, bytes]
) -> None:
    """A văn thư registers a signed công văn (its verdict TOTAL-PASSED) and an unsigned one, a
    chuyên viên files the first in a hồ sơ; the lãnh đạo's ``kho search`` names every facet
    and value in Vietnamese (Loại bản ghi: Văn bản đến, Chữ ký số: Hợp lệ), the unit by its
    name and the hồ sơ by its số ký hiệu and title, never by a code or an id."""
    runner = CliRunner()
    _login_cli(runner, people, "van_thu")
    source = tmp_path / "Công văn 1234.pdf"
    source.write_bytes(signed["valid"])
    created = runner.invoke(
        main, ["record", "create", "--direction", "den", "--file", str(source), *INCOMING, "--json"]
    )
    assert created.exit_code == 0, created.output
    document = json.loads(created.output)
    assert document["extra"]["signature_verdict"] == "TOTAL-PASSED"
    other = kho.repo.create_document(
        "den", incoming(code_number="77", subject="Về việc kiểm kê tài liệu giấy"), pdf_bytes("u19"),
        "cv77.pdf", people.actor("van_thu"),
    )
    officer = people.actor("chuyen_vien")
    hoso = kho.repo.create_file(
        {"file_notation": "07.VP", "title": "Hồ sơ kiểm kê tài liệu", "maintenance": "05 năm",
         "creator": "Phạm Minh Chính", "start_date": "2026-01-05"},
        officer,
    )
    kho.repo.add_to_file(hoso.record_id, document["record_id"], expected_version=hoso.version, actor=officer)

    _login_cli(runner, people, "lanh_dao")
    found = runner.invoke(main, ["search", "kiem", "ke", "tai", "lieu"])
    assert found.exit_code == 0, found.output
    out = found.output
    assert "3 kết quả" in out, out  # the two công văn and the hồ sơ
    assert "  Loại bản ghi: Văn bản đến (2), Hồ sơ (1)\n" in out, out
    assert "  Chữ ký số: Hợp lệ (1)\n" in out, out
    assert "  Đơn vị: Ủy ban nhân dân tỉnh Ninh Bình (3)\n" in out, out
    assert "  Hồ sơ: 07.VP — Hồ sơ kiểm kê tài liệu (1)\n" in out, out
    assert "  Độ mật: Thường (3)\n" in out and "  Độ khẩn: Thường (3)\n" in out, out
    assert "  Trạng thái lưu trữ: Đang hiện hành (3)\n" in out, out
    for raw in ("[direction]", "[signature_verdict]", "TOTAL-PASSED", " den (", " hoso (", "active (",
                AGENCY, hoso.record_id, other.record_id, "[unit]", "[ho_so]", "[do_mat]"):
        assert raw not in out, (raw, out)


def test_a_refusal_joined_from_pieces_ends_with_one_full_stop() -> None:
    """SUBMISSION_CHECKS_FAILED put a check's detail ("Hồ sơ không có văn bản.") before
    ". Hãy trả lại …": the message read "văn bản.. Hãy"."""
    checks = run_checks([], file_notation="01.VP", plan_notations=None)
    with pytest.raises(SubmissionError) as refused:
        check_accept("submitted", submitted_by="a", by="b", checks=checks)
    assert refused.value.code == "SUBMISSION_CHECKS_FAILED"
    message = refused.value.message
    assert ".." not in message, message
    assert "Hồ sơ không có văn bản. Hãy trả lại hồ sơ kèm lý do." in message, message
    # … and a plan that leaves the hồ sơ out ("… đã ban hành.") as well.
    unplanned = run_checks(
        [DocumentEvidence("r", "Công văn 1", "TOTAL-PASSED", True, "application/pdf")],
        file_notation="01.VP", plan_notations=["02.VP"],
    )
    with pytest.raises(SubmissionError) as refused:
        check_accept("submitted", submitted_by="a", by="b", checks=unplanned)
    assert refused.value.message.endswith("đã ban hành. Hãy trả lại hồ sơ kèm lý do."), refused.value.message


def test_a_refusal_quoting_another_in_brackets_keeps_one_full_stop(tmp_path: Path) -> None:
    """KHO_HOLIDAYS_FILE naming a JSON list: the refusal quoted the file's own refusal in
    brackets with its full stop, "(… phải là một đối tượng JSON.).\""""
    holidays = tmp_path / "nghi-le.json"
    holidays.write_text('["2026-01-01"]', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"KHO_DATA_DIR": str(tmp_path / "kho"), "KHO_HOLIDAYS_FILE": str(holidays)})
    message = refused.value.message
    assert ".)" not in message and ".." not in message, message
    assert message.endswith("phải là một đối tượng JSON).") and message.count(".") >= 1, message


def _login_web(web: FlaskClient, people: People, who: str) -> None:
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    answer = web.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)


def test_the_archive_pages_name_the_submitter(kho: Kho, people: People, web: FlaskClient) -> None:
    """The lưu trữ viên's inbox and review show "Người nộp" as the chuyên viên's full name
    (Phạm Minh Chính), not the account's username."""
    file, _ = closed_file(kho, people, notation="03.VP")
    submitted = kho.retention.submit(
        file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien")
    )
    username = people.usernames["chuyen_vien"]
    assert submitted.extra["submission"]["submitted_by"] == username
    _login_web(web, people, "luu_tru")
    inbox = html.unescape(web.get("/archive").get_data(as_text=True))
    row = inbox.split(f"/archive/{submitted.record_id}")[1].split("</tr>")[0]
    assert "<td>Phạm Minh Chính</td>" in row, row
    assert username not in inbox
    review = web.get(f"/archive/{submitted.record_id}")
    assert review.status_code == 200, review.get_data(as_text=True)
    body = html.unescape(review.get_data(as_text=True))
    assert "<dt>Người nộp</dt><dd>Phạm Minh Chính</dd>" in body, body
    assert username not in body
