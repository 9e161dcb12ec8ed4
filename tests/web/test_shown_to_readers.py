"""What an answer shows of a record to whom, under the one access policy (m5): a hồ sơ's totals
to a reader who may not see all its documents, and the answer to an act on a record the actor may
not read."""

from __future__ import annotations

import json
from datetime import date

from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import People
from kho_web import cli_as

from web.context import Kho
from web.retention_api import file_summary


def test_the_totals_of_a_closed_hồ_sơ_are_not_shown_to_a_reader_who_may_not_see_every_document(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """Closing writes ``extra.doc_total`` and ``page_total`` over every document: a Thường
    chuyên viên got ``doc_total: 2`` beside the one document shown, i.e. learnt that a document
    above their clearance is in the hồ sơ (r23's open item). The totals are now left out for a
    reader who may not see every document it holds or names; the văn thư cleared for both
    gets them, and what is stored is unchanged."""
    file_id, _secret_id, plain_id = file_with_a_secret(kho, people)
    file = kho.repo._load(file_id)
    kho.retention.close_file(
        file_id, end_date=date(2026, 6, 30), expected_version=file.version, actor=people.actor("van_thu")
    )
    thuong = client.get(f"/api/records/{file_id}", headers=people.headers("chuyen_vien"))
    assert thuong.status_code == 200 and thuong.json["documents"] == [plain_id]
    assert "doc_total" not in thuong.json["extra"] and "page_total" not in thuong.json["extra"]
    history = client.get(f"/api/records/{file_id}/history", headers=people.headers("chuyen_vien"))
    assert "doc_total" not in history.get_data(as_text=True)
    catalogue = client.get(f"/api/files/{file_id}/catalogue", headers=people.headers("chuyen_vien"))
    assert catalogue.status_code == 200 and "doc_total" not in catalogue.get_data(as_text=True)
    cleared = client.get(f"/api/records/{file_id}", headers=people.headers("van_thu"))
    assert cleared.json["extra"]["doc_total"] == 2
    assert kho.repo._load(file_id).extra["doc_total"] == 2


def test_the_answer_to_an_act_on_a_record_the_actor_may_not_read_names_nobody_else(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """A quản trị grants without reading, and a5 left only kind, state and grants in their
    answer; but ``created_by`` (who made the record), ``actor`` (who wrote the version) stayed,
    in the API and ``kho record grant --json``. They now get neither unless it is they who
    wrote it; the grants stay (the list a quản trị manages: ``GET /api/records/<id>/grants``).
    A retention answer about a hồ sơ the person does not see carries no nộp lưu either (who
    submitted it, each step)."""
    file_id, _secret_id, plain_id = file_with_a_secret(kho, people)
    clerk = people.usernames["van_thu"]
    lead = client.post(
        f"/api/records/{plain_id}/grants",
        json={"users": [people.usernames["chuyen_vien_b"]]},
        headers=people.headers("lanh_dao"),
    )
    assert lead.status_code == 200 and lead.json["created_by"] == clerk  # a reader: the record whole
    admin = people.headers("quan_tri")
    granted = client.post(f"/api/records/{plain_id}/grants", json={"units": ["000.01.18.H40"]}, headers=admin)
    assert granted.status_code == 200, granted.json
    assert granted.json["created_by"] == "" and granted.json["actor"] == people.usernames["quan_tri"]
    assert clerk not in granted.get_data(as_text=True)
    assert people.usernames["lanh_dao"] not in granted.get_data(as_text=True)
    assert granted.json["grant_units"] == ["000.01.18.H40"]
    from web.cli import main

    admin_cli = cli_as(people, "quan_tri")
    cli = admin_cli.invoke(main, ["record", "grant", file_id, "--unit", "000.00.18.H40", "--json"])
    assert cli.exit_code == 0, cli.output
    answer = json.loads(cli.output)
    assert answer["created_by"] == "" and clerk not in cli.output
    # The retention answer's shape, for someone who does not see the hồ sơ.
    file = kho.repo._load(file_id)
    summary = file_summary(kho.retention, file, people.actor("chuyen_vien_b"))
    assert summary["submission"] is None and summary["metadata"] is None and summary["created_by"] == ""
    assert file_summary(kho.retention, file, people.actor("van_thu"))["submission"] is not None
