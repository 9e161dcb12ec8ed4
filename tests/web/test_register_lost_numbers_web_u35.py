"""u35: the register page and the API's register listing say which numbers a restore skipped
(m64: given before the backup to documents the restored copy does not hold), as ``kho register
list`` does, to whoever may list the register, and to no one else. Before u35 only the CLI said it:
the văn thư in the browser saw numbers 03–05 missing with no word why."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import AGENCY, CLERK, incoming

from repository.records import new_record_id
from repository.registers import LostNumber, RegisterFloor
from web.cli import main
from web.context import Kho

SAID = "số đã cấp trước khi sao lưu, văn bản không có trong bản sao"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _two_documents_and_a_floor(kho: Kho, *, sealed: bool = True) -> tuple[int, list[str]]:
    """Numbers 01–02 in the agency's ``den`` register and a restore's floor naming 03–05 (given
    to three records the copy did not hold), sealed as ``kho restore`` writes it (rv63)."""
    repo = kho.repo
    made = [repo.create_document("den", incoming(code_number=f"{n}"), None, None, CLERK) for n in (1, 2)]
    assert made[1].registration is not None and made[1].registration.number == 2
    year = made[1].registration.year
    ghosts = [new_record_id() for _ in range(3)]
    lost = tuple(LostNumber(n, ghost, 40 + n) for n, ghost in zip((3, 4, 5), ghosts, strict=True))
    floor = RegisterFloor(AGENCY, year, "den", 5, lost, "bk-20261207", "2026-12-07T20:00:00Z")
    repo.store.put(floor.key, floor.to_json(repo.audit.sealer if sealed else None))
    return year, ghosts


def _login(web: FlaskClient, people: People, who: str) -> None:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    done = web.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": found.group(1)}
    )
    assert done.status_code == 302, who


def _page(web: FlaskClient, year: int, series: str = "den") -> Any:
    return web.get(f"/registers?series={series}&year={year}")


def test_the_api_listing_names_the_numbers_lost_in_the_backup(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    for who in ("van_thu", "lanh_dao", "luu_tru"):  # every role that lists the register
        listed = client.get(f"/api/registers/den/{year}", headers=people.headers(who))
        assert listed.status_code == 200, who
        body = listed.json
        assert body["total"] == 2, who
        note = body["numbers_lost_in_backup"]
        assert note["numbers"] == [3, 4, 5] and note["next"] == 6 and note["backup_id"] == "bk-20261207"
        assert [(r["number"], r["record_id"], r["seq"]) for r in note["records"]] == [
            (3, ghosts[0], 43), (4, ghosts[1], 44), (5, ghosts[2], 45)
        ]
        message = note["message"]
        assert SAID in message and "03–05" in message and "sổ tiếp tục từ số 06" in message
        # Nothing of the restore that the CLI's note does not say (its time is not shown there).
        assert set(note) == {"numbers", "records", "backup_id", "next", "message"}
    # About the whole register: on a page past its rows too.
    clerk = people.headers("van_thu")
    second = client.get(f"/api/registers/den/{year}?page=2&page_size=1", headers=clerk).json
    assert second["page"] == 2 and second["numbers_lost_in_backup"]["numbers"] == [3, 4, 5]
    # Another register of the year has no such numbers.
    other = client.get(f"/api/registers/hanh-chinh/{year}", headers=people.headers("van_thu")).json
    assert other["numbers_lost_in_backup"] is None


def test_without_a_restore_the_field_is_null_and_the_page_says_nothing(
    kho: Kho, people: People, client: FlaskClient, web: FlaskClient
) -> None:
    made = kho.repo.create_document("den", incoming(code_number="1"), None, None, CLERK)
    assert made.registration is not None
    year = made.registration.year
    body = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu")).json
    assert body["total"] == 1 and body["numbers_lost_in_backup"] is None
    _login(web, people, "van_thu")
    shown = _page(web, year)
    assert shown.status_code == 200
    assert "numbers-lost-in-backup" not in shown.get_data(as_text=True)
    assert SAID not in shown.get_data(as_text=True)


def test_the_register_page_explains_the_missing_numbers(
    kho: Kho, people: People, web: FlaskClient
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    _login(web, people, "van_thu")
    shown = _page(web, year)
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert 'id="numbers-lost-in-backup"' in html and 'role="note"' in html
    assert "Các số 03–05 không có trong sổ" in html
    assert SAID in html and "sổ tiếp tục từ số 06" in html and "bk-20261207" in html
    assert all(ghost in html for ghost in ghosts)
    # The note sits above the register's rows, and another register shows none.
    assert html.index('id="numbers-lost-in-backup"') < html.index('<table class="register">')
    assert "numbers-lost-in-backup" not in _page(web, year, "hanh-chinh").get_data(as_text=True)


@pytest.mark.parametrize("who", ["chuyen_vien", "kiem_toan", "quan_tri"])
def test_who_may_not_list_the_register_sees_nothing_of_the_note(
    kho: Kho, people: People, client: FlaskClient, web: FlaskClient, who: str
) -> None:
    year, ghosts = _two_documents_and_a_floor(kho)
    refused = client.get(f"/api/registers/den/{year}", headers=people.headers(who))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "PERMISSION_DENIED"
    said = json.dumps(refused.json, ensure_ascii=False)
    assert "numbers_lost_in_backup" not in said and SAID not in said
    assert not any(ghost in said for ghost in ghosts)
    _login(web, people, who)
    page = _page(web, year)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "numbers-lost-in-backup" not in html and SAID not in html and "03–05" not in html
    assert not any(ghost in html for ghost in ghosts)


@pytest.mark.sealed
def test_a_floor_without_the_restore_s_seal_is_not_shown(
    kho: Kho, people: People, client: FlaskClient, web: FlaskClient
) -> None:
    """rv63's rule, as ``kho register list`` keeps it: a floor a writer of the store planted
    without KHO_MASTER_KEY is not presented as a restore's (fsck names it instead)."""
    assert kho.repo.audit.sealer.active
    year, ghosts = _two_documents_and_a_floor(kho, sealed=False)
    body = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu")).json
    assert body["total"] == 2 and body["numbers_lost_in_backup"] is None
    _login(web, people, "van_thu")
    html = _page(web, year).get_data(as_text=True)
    assert SAID not in html and not any(ghost in html for ghost in ghosts)


def test_the_api_schema_documents_the_field(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    answer = spec["paths"]["/api/registers/{series}/{year}"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "numbers_lost_in_backup" in schema["required"]
    field = schema["properties"]["numbers_lost_in_backup"]
    assert field["type"] == ["object", "null"] and set(field["required"]) == {
        "numbers", "records", "backup_id", "next", "message"
    }



def test_kho_register_list_keeps_the_note_on_its_one_line(kho: Kho, people: People) -> None:
    """The note's record ids and backup id are stored text: on an installation without
    KHO_MASTER_KEY, a writer of the store can plant a floor whose id holds a line break. ``kho
    register list`` prints the note escaped on its one line, so it cannot add a forged register
    row under it."""
    repo = kho.repo
    made = repo.create_document("den", incoming(code_number="1"), None, None, CLERK)
    assert made.registration is not None
    year = made.registration.year
    forged = "01/01/2026 | 41 | Bộ giả mạo | 99/GM"
    lost = (LostNumber(2, f"x\n{forged}", 7),)
    floor = RegisterFloor(AGENCY, year, "den", 2, lost, f"bk\r\n{forged}", None)
    repo.store.put(floor.key, floor.to_json())
    runner = CliRunner()
    clerk = people.usernames["van_thu"]
    login = runner.invoke(main, ["login", clerk, "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    listed = runner.invoke(main, ["register", "list", "--series", "den", "--year", str(year)])
    assert listed.exit_code == 0, listed.output
    assert not [line for line in listed.output.splitlines() if line.startswith(forged)], listed.output
    [note] = [line for line in listed.output.splitlines() if line.startswith("Ghi chú:")]
    assert f"x\\n{forged}" in note and f"bk\\r\\n{forged}" in note
