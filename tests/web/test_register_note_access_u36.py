"""u36: the register's note of numbers lost in a backup names the lost records' ids only to
whoever lists the register at the agency itself (``policy.reads_register_note``); a văn thư of
a phòng (who sees none of the register's other rows) reads only that the numbers are missing.
One function (``Repository.register_note``) feeds the page, the API, ``kho register list``,
``kho register note`` (JSON for scripts; ``register list --json`` keeps its bare list) and the
printed and exported sổ, which before u36 had no note at all."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import AGENCY, CLERK, incoming
from openpyxl import load_workbook
from pypdf import PdfReader

from repository.records import new_record_id
from repository.registers import LostNumber, RegisterFloor
from web.cli import main
from web.context import Kho

SAID = "số đã cấp trước khi sao lưu, văn bản không có trong bản sao"
NEXT = "sổ tiếp tục từ số 06"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _two_documents_and_a_floor(kho: Kho) -> tuple[int, list[str]]:
    """Numbers 01–02 in the agency's ``den`` register and a sealed restore's floor naming
    03–05 (given to three records the copy did not hold), as u35's tests make them."""
    repo = kho.repo
    made = [repo.create_document("den", incoming(code_number=f"{n}"), None, None, CLERK) for n in (1, 2)]
    assert made[1].registration is not None and made[1].registration.number == 2
    year = made[1].registration.year
    ghosts = [new_record_id() for _ in range(3)]
    lost = tuple(LostNumber(n, ghost, 40 + n) for n, ghost in zip((3, 4, 5), ghosts, strict=True))
    floor = RegisterFloor(AGENCY, year, "den", 5, lost, "bk-20261207", "2026-12-07T20:00:00Z")
    repo.store.put(floor.key, floor.to_json(repo.audit.sealer))
    return year, ghosts


def _login(web: FlaskClient, people: People, who: str) -> None:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    done = web.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": found.group(1)}
    )
    assert done.status_code == 302, who


def _page(web: FlaskClient, year: int) -> Any:
    return web.get(f"/registers?series=den&year={year}")


def _cli(people: People, who: str, *args: str) -> Any:
    runner = CliRunner()
    login = runner.invoke(main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    return runner.invoke(main, list(args))


def _pdf_text(data: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _xlsx_text(data: bytes) -> str:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)


def test_the_api_names_the_records_only_to_the_agency_s_van_thu(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    own = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu")).json
    assert [r["record_id"] for r in own["numbers_lost_in_backup"]["records"]] == ghosts
    assert all(g in own["numbers_lost_in_backup"]["message"] for g in ghosts)
    other = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu_b"))
    assert other.status_code == 200
    note = other.json["numbers_lost_in_backup"]
    assert note["numbers"] == [3, 4, 5] and note["next"] == 6 and note["records"] == []
    assert SAID in note["message"] and "03–05" in note["message"] and NEXT in note["message"]
    said = json.dumps(other.json, ensure_ascii=False)
    assert not any(g in said for g in ghosts)


def test_the_page_names_the_records_only_to_the_agency_s_van_thu(
    kho: Kho, people: People, web: FlaskClient
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    _login(web, people, "van_thu_b")
    html = _page(web, year).get_data(as_text=True)
    assert 'id="numbers-lost-in-backup"' in html and SAID in html and "03–05" in html and NEXT in html
    assert not any(g in html for g in ghosts)


def test_the_cli_names_the_records_only_to_the_agency_s_van_thu(kho: Kho, people: People) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    args = ("register", "list", "--series", "den", "--year", str(year))
    own = _cli(people, "van_thu", *args)
    assert own.exit_code == 0 and all(g in own.output for g in ghosts)
    other = _cli(people, "van_thu_b", *args)
    assert other.exit_code == 0, other.output
    [note] = [line for line in other.output.splitlines() if line.startswith("Ghi chú:")]
    assert SAID in note and "03–05" in note and NEXT in note
    assert not any(g in other.output for g in ghosts)


def test_kho_register_note_prints_the_note_as_json_and_list_json_keeps_its_shape(
    kho: Kho, people: People
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    listed = _cli(people, "van_thu", "register", "list", "--series", "den", "--year", str(year), "--json")
    assert listed.exit_code == 0 and isinstance(json.loads(listed.output), list)
    assert len(json.loads(listed.output)) == 2
    own = _cli(people, "van_thu", "register", "note", "--series", "den", "--year", str(year))
    assert own.exit_code == 0, own.output
    note = json.loads(own.output)
    assert note["numbers"] == [3, 4, 5] and [r["record_id"] for r in note["records"]] == ghosts
    assert SAID in note["message"]
    other = _cli(people, "van_thu_b", "register", "note", "--series", "den", "--year", str(year))
    assert other.exit_code == 0 and json.loads(other.output)["records"] == []
    assert not any(g in other.output for g in ghosts)
    none = _cli(people, "van_thu", "register", "note", "--series", "hanh-chinh", "--year", str(year))
    assert none.exit_code == 0 and json.loads(none.output) is None
    refused = _cli(people, "chuyen_vien", "register", "note", "--series", "den", "--year", str(year))
    assert refused.exit_code != 0 and SAID not in refused.output


@pytest.mark.parametrize("fmt", ["print.pdf", "export.xlsx"])
def test_the_printed_and_exported_register_explain_the_gap(
    kho: Kho, people: People, web: FlaskClient, app: Flask, fmt: str
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    read = _pdf_text if fmt.endswith("pdf") else _xlsx_text
    _login(web, people, "van_thu")
    own = web.get(f"/registers/{fmt}?series=den&year={year}")
    assert own.status_code == 200
    text = " ".join(read(own.data).split())
    assert "Ghi chú:" in text and SAID in text and "03–05" in text and NEXT in text
    assert all(g in text.replace(" ", "") or g in text for g in ghosts)
    web = app.test_client()  # a second browser: the phòng's văn thư
    _login(web, people, "van_thu_b")
    other = web.get(f"/registers/{fmt}?series=den&year={year}")
    assert other.status_code == 200
    text = " ".join(read(other.data).split())
    assert SAID in text and "03–05" in text and NEXT in text
    assert not any(g in text.replace(" ", "") for g in ghosts)
    # Another register of the year has no note.
    plain = " ".join(read(web.get(f"/registers/{fmt}?series=hanh-chinh&year={year}").data).split())
    assert "Ghi chú:" not in plain and SAID not in plain


def test_the_rule_holds_on_the_local_folder_and_the_ceph_s3_store(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    kho, people, client = store_site
    year, ghosts = _two_documents_and_a_floor(kho)
    own = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu")).json
    assert [r["record_id"] for r in own["numbers_lost_in_backup"]["records"]] == ghosts
    other = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu_b")).json
    note = other["numbers_lost_in_backup"]
    assert note["records"] == [] and SAID in note["message"]
    assert not any(g in json.dumps(other, ensure_ascii=False) for g in ghosts)
