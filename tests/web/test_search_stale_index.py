"""Search results are checked against the store before anyone sees them: the index is derived
and can miss an update (an index write that failed after the store's commit, a process that
wrote without following the index). A document whose secrecy was raised, or that moved to
another unit, must not keep showing its title, trích yếu and snippets to people who lost sight
of it, on the page, in the API and in exports."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_testing import incoming

from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBJECT = "Về việc khảo sát tuyến cầu Nhật Tân"


def _missed_update(kho: Kho, people: People, changes: dict[str, object]) -> str:
    """A Thường document of the agency, indexed; then ``changes`` committed while the index
    misses the update (the store's change is not passed on to it)."""
    record = kho.repo.create_document(
        "den", incoming(code_number="51", subject=SUBJECT), None, None, people.actor("van_thu"),
    )
    editor = people.actor("van_thu")
    if "unit" in changes:  # a move is a văn thư's of both units (rv15: RECORD_MOVE_DENIED else)
        admin = kho.accounts.get(people.usernames["quan_tri"])
        kho.accounts.set_roles(editor.user, [(AGENCY, "van_thu"), (UNIT_B, "van_thu")], admin)
        editor = people.actor("van_thu")
    follows, kho.repo.on_change = kho.repo.on_change, None
    try:
        kho.repo.update_metadata(record.record_id, changes, expected_version=record.version, actor=editor)
    finally:
        kho.repo.on_change = follows
    return record.record_id


def _page(kho: Kho, people: People, who: str, path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    web = create_app(kho.settings, kho=kho).test_client()
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    web.post("/login", data={"username": people.usernames[who], "password": PASSWORD,
                             "csrf_token": token.group(1)})
    answer = web.get(path)
    assert answer.status_code == 200
    return html.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize(
    "changes", [{"secrecy": 2}, {"unit": UNIT_B}], ids=["secrecy-raised", "moved-to-another-unit"]
)
def test_a_document_the_index_still_shows_is_not_listed_to_who_lost_sight(
    kho: Kho, people: People, client: FlaskClient, monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, object],
) -> None:
    record_id = _missed_update(kho, people, changes)
    # The chuyên viên of the agency, cleared Thường, saw it before; not any more.
    api = client.get("/api/search?q=Nhat+Tan", headers=people.headers("chuyen_vien"))
    assert api.status_code == 200
    assert record_id not in {hit["id"] for hit in api.json["hits"]}
    assert "Nhật Tân" not in str(api.json["hits"])
    body = _page(kho, people, "chuyen_vien", "/search?q=Nhat+Tan", monkeypatch)
    assert "Nhật Tân</mark>" not in body and record_id not in body
    export = client.get("/api/search/export?q=Nhat+Tan&format=xlsx",
                        headers=people.headers("chuyen_vien"))
    assert export.status_code == 200
    [exported] = [e for e in kho.repo.audit.query(action="search:export")]
    assert exported.details["rows"] == 0
    if "secrecy" in changes:  # the văn thư, cleared Tuyệt mật, still finds it
        theirs = client.get("/api/search?q=Nhat+Tan", headers=people.headers("van_thu"))
        assert record_id in {hit["id"] for hit in theirs.json["hits"]}



@pytest.mark.parametrize(
    "changes", [{"secrecy": 2}, {"unit": UNIT_B}], ids=["secrecy-raised", "moved-to-another-unit"]
)
def test_kho_search_checks_each_hit_against_the_store_too(
    kho: Kho, people: People, changes: dict[str, object]
) -> None:
    """``kho search`` (logged in as a person) showed the index's hits as they were: the title,
    trích yếu and snippets of a document whose secrecy was raised, or that moved to another
    unit, while the index missed the update. It now shows what the page and the API show."""
    import json

    from click.testing import CliRunner

    from web.cli import main

    record_id = _missed_update(kho, people, changes)
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["chuyen_vien"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    found = runner.invoke(main, ["search", "Nhat Tan", "--json"])
    assert found.exit_code == 0, found.output
    assert record_id not in {hit["id"] for hit in json.loads(found.output)["hits"]}
    assert "Nhật Tân" not in str(json.loads(found.output)["hits"])
    plain = runner.invoke(main, ["search", "Nhat Tan"])
    assert plain.exit_code == 0, plain.output
    assert "Nhật Tân" not in plain.output
    if "secrecy" in changes:  # the văn thư, cleared Tuyệt mật, still finds it on the CLI
        runner.invoke(main, ["logout"])
        again = runner.invoke(
            main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
        )
        assert again.exit_code == 0, again.output
        theirs = runner.invoke(main, ["search", "Nhat Tan", "--json"])
        assert record_id in {hit["id"] for hit in json.loads(theirs.output)["hits"]}
