"""The closing report of a hồ sơ names no document its reader may not see (rv26).

A Thường chuyên viên of the unit may close a hồ sơ of it (``FILE_EDIT``) that holds a Mật
document. ``GET /api/files/<id>/closing``, the refusal of ``POST /api/files/<id>/close`` (its
message and ``details.findings``), the page's refusal and ``kho file close`` gave them the Mật
document's id, its số and ký hiệu, and the date of the newest document when it was the Mật one.
The findings stay (the same codes, the same ones block: a document they may not see still
refuses the close), but name no hidden document.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_files import new_file
from kho_people import People
from kho_testing import incoming
from kho_web import cli_as, login, post

from web.cli import main
from web.context import Kho

SECRET_NUMBER = "4477"
SECRET_DATE = "20/03/2026"


def _file_with_a_newer_secret(kho: Kho, people: People) -> tuple[str, str, str]:
    """(hồ sơ, Mật document issued 20/03/2026, Thường one issued 02/03/2026), the agency's."""
    clerk = people.actor("van_thu")
    hoso = new_file(kho, clerk, "07.KS", "Hồ sơ khảo sát tuyến cầu", "Đỗ Thị Khuê")
    plain = kho.repo.create_document("den", incoming(code_number="4478"), None, None, clerk)
    secret = kho.repo.create_document(
        "den",
        incoming(
            code_number=SECRET_NUMBER, issued_date="2026-03-20", subject="Về việc phương án bảo vệ", secrecy=2
        ),
        None,
        None,
        clerk,
    )
    version = kho.repo.add_to_file(
        hoso.record_id, plain.record_id, expected_version=hoso.version, actor=clerk
    ).version
    kho.repo.add_to_file(hoso.record_id, secret.record_id, expected_version=version, actor=clerk)
    return hoso.record_id, secret.record_id, plain.record_id


def _leaks(text: str, secret: str) -> list[str]:
    return [word for word in (secret, f"{SECRET_NUMBER}/", SECRET_DATE) if word in text]


def test_the_closing_report_names_no_document_above_the_readers_clearance(
    kho: Kho, people: People, client: FlaskClient, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hoso, secret, plain = _file_with_a_newer_secret(kho, people)
    headers = people.headers("chuyen_vien")  # of the agency, cleared Thường
    for end in ("2026-03-10", "2026-04-01"):
        whole = client.get(f"/api/files/{hoso}/closing?end_date={end}", headers=people.headers("van_thu"))
        shown = client.get(f"/api/files/{hoso}/closing?end_date={end}", headers=headers)
        assert whole.status_code == shown.status_code == 200
        assert secret in whole.get_data(as_text=True)  # the văn thư, cleared Tuyệt mật: all of it
        assert not _leaks(shown.get_data(as_text=True), secret), shown.json
        # The same findings, codes and blocking: only the hidden document is not named.
        codes = [(f["code"], f["blocking"]) for f in whole.json["findings"]]
        assert [(f["code"], f["blocking"]) for f in shown.json["findings"]] == codes
        assert shown.json["blocked"] == whole.json["blocked"]
        assert plain in shown.get_data(as_text=True)  # the Thường document is still named
    assert whole.json["blocked"] is False  # 01/04: nothing blocks (page counts unknown warn)

    # Closing before the Mật document's date: refused for it, without naming it or its date.
    version = kho.repo.get(hoso, actor=people.actor("van_thu")).version
    refused = client.post(
        f"/api/files/{hoso}/close",
        json={"end_date": "2026-03-10", "expected_version": version},
        headers=headers,
    )
    assert refused.status_code == 422 and refused.json["error"]["code"] == "FILE_END_BEFORE_DOCUMENTS"
    assert not _leaks(refused.get_data(as_text=True), secret), refused.json

    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = "10.9.0.7"
    assert login(web, people, "chuyen_vien").status_code == 302
    page = post(
        web,
        f"/files/{hoso}/close",
        {"end_date": "10/03/2026", "expected_version": version},
        follow_redirects=True,
    )
    assert "FILE_END_BEFORE_DOCUMENTS" in page.get_data(as_text=True)
    assert not _leaks(page.get_data(as_text=True), secret)

    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.delenv("KHO_TOKEN", raising=False)
    cli = cli_as(people, "chuyen_vien")
    said = cli.invoke(
        main, ["file", "close", hoso, "--end-date", "2026-03-10", "--expected-version", str(version)]
    )
    assert said.exit_code != 0 and "FILE_END_BEFORE_DOCUMENTS" in said.output, said.output
    assert not _leaks(said.output, secret), said.output
    assert kho.repo.get(hoso, actor=people.actor("van_thu")).state == "active"  # not closed
