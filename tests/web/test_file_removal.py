"""Removing a document from a hồ sơ: the service, the page's button, the API route and the CLI.

The hồ sơ gets a new version without the document (the earlier version still lists it), the
mục lục and the search index's "hồ sơ" facet follow, the audit log names who removed what, and a
stranger, a role without FILE_EDIT, a closed hồ sơ and a stale version are refused with codes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming

from kho.errors import Conflict, NotFound, PermissionDenied
from repository.policy import Action
from repository.records import RECORD_UNIT, Record
from search.query import FACETS, Filters, Principal, parse_query
from web.cli import main
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _file_with_two(kho: Kho, people: People) -> tuple[Record, Record, Record]:
    """A hồ sơ of the chuyên viên holding two registered documents."""
    clerk, worker = people.actor("van_thu"), people.actor("chuyen_vien")
    first = kho.repo.create_document("den", incoming(code_number="11", page_amount=2), None, None, clerk)
    second = kho.repo.create_document("den", incoming(code_number="12", page_amount=3), None, None, clerk)
    file = kho.repo.create_file(
        {
            "file_notation": "05.VP",
            "title": "Hồ sơ thử bỏ văn bản",
            "maintenance": "10 năm",
            "creator": "Phạm Minh Chính",
            "start_date": "01/03/2026",
        },
        worker,
    )
    for doc in (first, second):
        file = kho.repo.add_to_file(
            file.record_id, doc.record_id, expected_version=file.version, actor=worker
        )
    return file, first, second


def _hoso_facet(kho: Kho, people: People, who: str, file_id: str) -> int:
    from repository.policy import search_scope

    scope = search_scope(people.actor(who).as_principal)
    result = kho.backend.search(
        parse_query("", Principal.from_scope(scope), filters=Filters(ho_so=(file_id,)), facets=FACETS)
    )
    assert result.facet("ho_so").get(file_id, 0) == result.total
    return result.total


def test_removal_is_a_new_audited_version_and_the_index_follows(kho: Kho, people: People) -> None:
    file, first, second = _file_with_two(kho, people)
    worker = people.actor("chuyen_vien")
    assert _hoso_facet(kho, people, "chuyen_vien", file.record_id) == 2
    removed = kho.repo.remove_from_file(
        file.record_id, first.record_id, expected_version=file.version, actor=worker, reason="Nhầm hồ sơ"
    )
    assert removed.version == file.version + 1
    assert removed.documents == (second.record_id,)
    # Never a silent edit: the earlier version still lists it; the document itself is untouched.
    assert kho.repo.get(file.record_id, file.version, actor=worker).documents == (
        first.record_id,
        second.record_id,
    )
    assert kho.repo.get(first.record_id, actor=worker).version == first.version
    assert kho.repo.files_of(first.record_id) == []
    assert kho.repo.files_of(second.record_id) == [file.record_id]
    event = [e for e in kho.repo.audit.events() if e.action == "file:remove-document"]
    assert len(event) == 1
    assert event[0].actor == people.usernames["chuyen_vien"] and event[0].record_id == file.record_id
    assert event[0].details == {
        "document_id": first.record_id, "ordinal": 1, "reason": "Nhầm hồ sơ", RECORD_UNIT: kho.repo.agency_id
    }  # the hồ sơ version's unit (m59)
    assert _hoso_facet(kho, people, "chuyen_vien", file.record_id) == 1
    # Added again later: a further version, the link and the facet come back.
    again = kho.repo.add_to_file(
        file.record_id, first.record_id, expected_version=removed.version, actor=worker
    )
    assert again.documents == (second.record_id, first.record_id)
    assert kho.repo.files_of(first.record_id) == [file.record_id]
    assert _hoso_facet(kho, people, "chuyen_vien", file.record_id) == 2


def test_strangers_wrong_roles_closed_files_and_stale_versions_are_refused(kho: Kho, people: People) -> None:
    file, first, _second = _file_with_two(kho, people)
    for who in ("chuyen_vien_b", "kiem_toan", "quan_tri"):
        # The stranger of another unit may not know of the hồ sơ: refused as an absent id (a15).
        with pytest.raises(NotFound if who == "chuyen_vien_b" else PermissionDenied):
            kho.repo.remove_from_file(
                file.record_id, first.record_id, expected_version=file.version, actor=people.actor(who)
            )
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert {e.actor for e in denied} >= {people.usernames["chuyen_vien_b"], people.usernames["kiem_toan"]}
    assert all(e.details["action"] == Action.FILE_EDIT.value for e in denied)
    worker = people.actor("chuyen_vien")
    # A Mật document put in the hồ sơ by the văn thư: the chuyên viên (not cleared) cannot take
    # it out, as they cannot see it.
    secret = kho.repo.create_document(
        "den", incoming(code_number="13", secrecy=1), None, None, people.actor("van_thu")
    )
    file = kho.repo.add_to_file(
        file.record_id, secret.record_id, expected_version=file.version, actor=people.actor("van_thu")
    )
    with pytest.raises(PermissionDenied) as hidden:
        kho.repo.remove_from_file(
            file.record_id, secret.record_id, expected_version=file.version, actor=worker
        )
    assert hidden.value.code == "SECRECY_DENIED"
    with pytest.raises(Conflict) as stale:
        kho.repo.remove_from_file(file.record_id, first.record_id, expected_version=1, actor=worker)
    assert stale.value.code == "VERSION_CONFLICT"
    with pytest.raises(NotFound) as absent:
        kho.repo.remove_from_file(file.record_id, "a" * 24, expected_version=file.version, actor=worker)
    assert absent.value.code == "FILE_DOCUMENT_ABSENT"
    closed = kho.repo.transition_file(
        file.record_id,
        expected_version=file.version,
        actor=worker,
        permission=Action.FILE_EDIT,
        action="file:close",
        state="closed",
    )
    with pytest.raises(Conflict) as refused:
        kho.repo.remove_from_file(
            file.record_id, first.record_id, expected_version=closed.version, actor=worker
        )
    assert refused.value.code == "FILE_CLOSED" and "mở lại" in refused.value.message
    assert kho.repo.get(file.record_id, actor=worker).documents == closed.documents
    assert not [e for e in kho.repo.audit.events() if e.action == "file:remove-document"]


def _csrf(web: FlaskClient, path: str) -> str:
    found = CSRF.search(web.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _login(web: FlaskClient, people: People, who: str) -> None:
    answer = web.post(
        "/login",
        data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": _csrf(web, "/login")},
    )
    assert answer.status_code == 302


def test_the_hoso_page_removes_a_row_and_refuses_others(app: Flask, kho: Kho, people: People) -> None:
    file, first, second = _file_with_two(kho, people)
    path = f"/files/{file.record_id}"
    web = app.test_client()
    _login(web, people, "chuyen_vien")
    page = web.get(path).get_data(as_text=True)
    assert page.count("Bỏ ra</button>") == 2 and "data-confirm=" in page
    action = f"{path}/documents/{first.record_id}/remove"
    without_csrf = web.post(action, data={"expected_version": str(file.version)})
    assert without_csrf.status_code in (400, 403)
    assert kho.repo.get(file.record_id, actor=people.actor("chuyen_vien")).version == file.version
    done = web.post(action, data={"expected_version": str(file.version), "csrf_token": _csrf(web, path)})
    assert done.status_code == 302
    after = web.get(path).get_data(as_text=True)
    assert "Đã bỏ văn bản ra khỏi hồ sơ." in after
    table = after.split("<table")[1].split("</table>")[0]
    assert "12/BNV-VP" in table and "11/BNV-VP" not in table and after.count("Bỏ ra</button>") == 1
    # Twice (a stale form): a message on the page, nothing written.
    stale = web.post(action, data={"expected_version": str(file.version), "csrf_token": _csrf(web, path)})
    assert stale.status_code == 302
    assert "phiên bản" in web.get(path).get_data(as_text=True).lower()
    # Another unit's chuyên viên: refused, no button.
    other = app.test_client()
    _login(other, people, "chuyen_vien_b")
    refused = other.post(
        f"{path}/documents/{second.record_id}/remove",
        data={"expected_version": str(file.version + 1), "csrf_token": _csrf(other, "/files")},
    )
    assert refused.status_code in (403, 404)
    assert kho.repo.get(file.record_id, actor=people.actor("chuyen_vien")).documents == (second.record_id,)
    # The auditor finds the removal in the hồ sơ's history, labelled in Vietnamese.
    auditor = app.test_client()
    _login(auditor, people, "kiem_toan")
    history = auditor.get(f"/audit?record={file.record_id}").get_data(as_text=True)
    assert "Bỏ văn bản ra khỏi hồ sơ" in history


def test_the_api_route_and_its_error_codes(kho: Kho, people: People, client: FlaskClient) -> None:
    file, first, _second = _file_with_two(kho, people)
    url = f"/api/files/{file.record_id}/documents/{first.record_id}"
    missing = client.delete(url, headers=people.headers("chuyen_vien"))
    assert missing.status_code == 422 and missing.json["error"]["code"] == "FIELD_REQUIRED"
    worker, stranger_headers = people.headers("chuyen_vien"), people.headers("chuyen_vien_b")
    stranger = client.delete(url + f"?expected_version={file.version}", headers=stranger_headers)
    assert stranger.status_code == 404 and stranger.json["error"]["code"] == "NOT_FOUND"  # (a15)
    done = client.delete(url + f"?expected_version={file.version}&reason=Trùng", headers=worker)
    assert done.status_code == 200, done.json
    body: dict[str, Any] = done.json
    assert body["version"] == file.version + 1 and first.record_id not in body["documents"]
    again = client.delete(url + f"?expected_version={file.version + 1}", headers=worker)
    assert again.status_code == 404 and again.json["error"]["code"] == "FILE_DOCUMENT_ABSENT"


def test_kho_file_remove(kho: Kho, people: People) -> None:
    file, first, second = _file_with_two(kho, people)
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["chuyen_vien"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    args = ["file", "remove", file.record_id, first.record_id, "--expected-version", str(file.version)]
    done = runner.invoke(main, [*args, "--reason", "Nhầm", "--json"])
    assert done.exit_code == 0, done.output
    assert first.record_id not in done.output.split('"documents"')[1].split("]")[0]
    refused = runner.invoke(main, args)
    assert refused.exit_code != 0 and "VERSION_CONFLICT" in refused.output
    assert kho.repo.get(file.record_id, actor=people.actor("chuyen_vien")).documents == (second.record_id,)
