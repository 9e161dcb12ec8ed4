"""A hồ sơ someone may see, holding a document they may not (a Mật document in a hồ sơ of
their unit): the hồ sơ shows them the documents they may see, nothing of the other one — not
its id, not that it is there, not a count that includes it (API, history, the hồ sơ list)."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import PASSWORD, People
from kho_testing import incoming

from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_the_api_and_history_of_a_file_leave_out_a_document_above_clearance(
    kho: Kho, people: People, client: FlaskClient,
) -> None:
    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    seen = client.get(f"/api/records/{file_id}", headers=people.headers("chuyen_vien"))  # Thường
    assert seen.status_code == 200
    assert seen.json["documents"] == [plain_id]
    assert secret_id not in seen.get_data(as_text=True)
    history = client.get(f"/api/records/{file_id}/history", headers=people.headers("chuyen_vien"))
    assert history.status_code == 200
    assert secret_id not in history.get_data(as_text=True)
    # The văn thư, cleared for it, gets both.
    theirs = client.get(f"/api/records/{file_id}", headers=people.headers("van_thu"))
    assert theirs.json["documents"] == [secret_id, plain_id]
    # What is stored is untouched.
    assert kho.repo._load(file_id).documents == (secret_id, plain_id)


def test_the_file_list_counts_only_the_documents_the_person_may_see(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch,
) -> None:
    file_with_a_secret(kho, people)
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    web = create_app(kho.settings, kho=kho).test_client()
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    web.post("/login", data={"username": people.usernames["chuyen_vien"], "password": PASSWORD,
                             "csrf_token": token.group(1)})
    body = html.unescape(web.get("/files").get_data(as_text=True))
    row = body.split("Hồ sơ khảo sát tuyến cầu")[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1"]


def test_kho_record_show_and_history_leave_it_out_too(kho: Kho, people: People) -> None:
    import json

    from click.testing import CliRunner

    from web.cli import main

    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["chuyen_vien"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    shown = runner.invoke(main, ["record", "show", file_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["documents"] == [plain_id]
    text = runner.invoke(main, ["record", "show", file_id])
    assert secret_id not in text.output and "Số văn bản trong hồ sơ: 1" in text.output
    history = runner.invoke(main, ["record", "history", file_id, "--json"])
    assert history.exit_code == 0 and secret_id not in history.output


def test_the_answer_to_an_act_on_a_file_leaves_out_a_document_above_clearance(
    kho: Kho, people: People, client: FlaskClient,
) -> None:
    """Reading the hồ sơ left the Mật document out, but the answers to acts on it (an edit, a
    document added or taken out) were the whole stored record: the Thường chuyên viên got the
    Mật document's id from each, in the API and in the CLI."""
    import json

    from click.testing import CliRunner

    from web.cli import main

    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    other = kho.repo.create_document(
        "den", incoming(code_number="79", subject="Về việc đo đạc"), None, None, people.actor("van_thu")
    )
    h = people.headers("chuyen_vien")  # Thường
    version = client.get(f"/api/records/{file_id}", headers=h).json["version"]
    edited = client.patch(
        f"/api/records/{file_id}", json={"changes": {"title": "Hồ sơ khảo sát tuyến cầu (bổ sung)"},
                                         "expected_version": version}, headers=h,
    )
    added = client.post(
        f"/api/files/{file_id}/documents", json={"document_id": other.record_id,
                                                 "expected_version": version + 1}, headers=h,
    )
    removed = client.delete(
        f"/api/files/{file_id}/documents/{other.record_id}?expected_version={version + 2}", headers=h
    )
    answers = ((edited, [plain_id]), (added, [plain_id, other.record_id]), (removed, [plain_id]))
    for answer, documents in answers:
        assert answer.status_code == 200, answer.json
        assert answer.json["documents"] == documents
        assert secret_id not in answer.get_data(as_text=True)

    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["chuyen_vien"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    cli = runner.invoke(
        main, ["file", "add", file_id, other.record_id, "--expected-version", str(version + 3), "--json"]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["documents"] == [plain_id, other.record_id]
    assert kho.repo._load(file_id).documents == (secret_id, plain_id, other.record_id)  # stored whole


def test_a_quan_tri_who_grants_is_answered_the_grants_not_the_record(
    kho: Kho, people: People, client: FlaskClient,
) -> None:
    """A quản trị grants without reading (``GET /api/records/<id>`` answers them 403), but the
    grant's answer was the whole record: trích yếu, signer, file names, and a hồ sơ's
    documents. They now get what they acted on (kind, state, grants), in the API and the CLI;
    a lãnh đạo who may read it still gets the record."""
    import json

    from kho_web import cli_as

    from web.cli import main

    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    admin = people.headers("quan_tri")
    assert client.get(f"/api/records/{plain_id}", headers=admin).status_code == 403
    grantee = people.usernames["chuyen_vien_b"]
    for record_id in (plain_id, file_id):
        granted = client.post(f"/api/records/{record_id}/grants", json={"users": [grantee]}, headers=admin)
        assert granted.status_code == 200, granted.json
        body = granted.get_data(as_text=True)
        assert granted.json["grant_users"] == [grantee] and granted.json["record_id"] == record_id
        assert granted.json["metadata"] is None and granted.json["documents"] == []
        for secret in ("khảo sát", "Khuê", "Trần Thị Hoà", plain_id if record_id == file_id else secret_id):
            assert secret not in body, secret
    admin_cli = cli_as(people, "quan_tri")
    cli = admin_cli.invoke(main, ["record", "grant", file_id, "--unit", "000.00.18.H40", "--json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["metadata"] is None and "khảo sát" not in cli.output
    lead = client.post(f"/api/records/{plain_id}/grants", json={"users": [grantee]},
                       headers=people.headers("lanh_dao"))
    assert lead.status_code == 200 and lead.json["metadata"]["subject"] == "Về việc khảo sát"


def test_the_retention_answers_about_a_file_leave_out_a_document_above_clearance(
    kho: Kho, people: People, client: FlaskClient,
) -> None:
    """The mục lục of a hồ sơ listed only the documents the reader may see, but the hồ sơ
    beside it in the same answer (``file``) was the stored record with the Mật document's id;
    the answers of the hồ sơ's acts (close, reopen, nộp lưu, …) were the same."""
    file_id, secret_id, plain_id = file_with_a_secret(kho, people)
    h = people.headers("chuyen_vien")  # Thường
    catalogue = client.get(f"/api/files/{file_id}/catalogue", headers=h)
    assert catalogue.status_code == 200, catalogue.json
    assert [row["record_id"] for row in catalogue.json["rows"]] == [plain_id]
    assert catalogue.json["file"]["documents"] == [plain_id]
    assert secret_id not in catalogue.get_data(as_text=True)
    clerk = people.headers("van_thu")  # cleared for it
    assert client.get(f"/api/files/{file_id}/catalogue", headers=clerk).json["file"]["documents"] == [
        secret_id, plain_id
    ]
