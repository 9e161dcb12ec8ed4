"""The archive's routes read a submitted hồ sơ by one rule (review rv40).

A tester found the nộp lưu review page (``/archive/<id>``) answering 404 to the agency's lưu trữ
viên for a phòng's submitted hồ sơ that the inbox (``/archive``) listed: the page read the hồ sơ
by the ordinary rule (:func:`repository.policy.sees`), which gives the archivist no sight of a
phòng below, instead of the archive's (:func:`repository.policy.receives_submission`). Every
archive route (inbox, review, take-in, return; pages and API) is walked here, logged in, on a
real local store, as (a) the receiving lưu trữ viên, (b) the submitter, (c) a văn thư of another
unit and (d) the lưu trữ viên after the hồ sơ was returned, or taken in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_existence import shown
from kho_people import PASSWORD, People
from kho_submission import submitted_by_phong_b, taken_in
from kho_web import logged_in

from repository.records import Record, new_record_id
from retention.service import FileState
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TITLE = "Hồ sơ phòng Tổng hợp"


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": _csrf(client, "/")})


def _same_as_absent(client: FlaskClient, path: str, record_id: str, status: int = 404) -> None:
    """``path`` (with ``{}`` for the id) answers for ``record_id`` what it answers for a fresh id:
    404, or (``status``) the refusal of the role, decided before any id is looked up."""
    fresh = new_record_id()
    absent = client.get(path.format(fresh))
    unseen = client.get(path.format(record_id))
    assert absent.status_code == status
    assert shown(unseen, [record_id]) == shown(absent, [fresh])


def _api_same_as_absent(client: FlaskClient, headers: dict[str, str], record_id: str) -> None:
    fresh = new_record_id()
    for method, path, body in (
        ("get", "/api/submissions/{}/review", None),
        ("post", "/api/submissions/{}/accept", {"expected_version": 1}),
        ("post", "/api/submissions/{}/return", {"expected_version": 1, "reason": "Thiếu văn bản"}),
    ):
        answers = [
            getattr(client, method)(path.format(rid), headers=headers, json=body)
            for rid in (fresh, record_id)
        ]
        assert shown(answers[1], [record_id]) == shown(answers[0], [fresh]), path


@pytest.fixture
def submitted(kho: Kho, people: People) -> Record:
    return submitted_by_phong_b(kho, people)


def test_a_the_receiving_archivist_reads_the_phong_s_submitted_hồ_sơ_on_every_archive_route(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    archivist = logged_in(app, people, "luu_tru")
    rid = submitted.record_id
    inbox = archivist.get("/archive")
    assert inbox.status_code == 200 and f"/archive/{rid}" in inbox.get_data(as_text=True)
    review = archivist.get(f"/archive/{rid}")
    assert review.status_code == 200, review.status_code  # 404 before rv40
    page = review.get_data(as_text=True)
    assert TITLE in page
    assert "9913" in page, "the mục lục lists the hồ sơ's document"
    assert f"/archive/{rid}/accept" in page and f"/archive/{rid}/return" in page
    # Take-in reaches the checks (this document is unsigned: refused by them, not by sight).
    taken = _post(archivist, f"/archive/{rid}/accept", {"expected_version": str(submitted.version)})
    assert taken.status_code == 302
    flashed = archivist.get(taken.headers["Location"]).get_data(as_text=True)
    assert "SUBMISSION_CHECKS_FAILED" in flashed and "NOT_FOUND" not in flashed
    assert kho.repo._load(rid).version == submitted.version
    # The API and the same rule.
    api = app.test_client()
    headers = people.headers("luu_tru")
    listed = api.get("/api/submissions", headers=headers)
    assert listed.status_code == 200 and rid in listed.get_data(as_text=True)
    checks = api.get(f"/api/submissions/{rid}/review", headers=headers)
    assert checks.status_code == 200 and checks.get_json()["file_id"] == rid
    # Returned with a reason: the hồ sơ is its phòng's again (closed), nothing else changed.
    back = _post(
        archivist,
        f"/archive/{rid}/return",
        {"expected_version": str(submitted.version), "reason": "Thiếu chữ ký số"},
    )
    assert back.status_code == 302
    returned = kho.repo._load(rid)
    assert returned.state == FileState.CLOSED and returned.documents == submitted.documents


@pytest.mark.parametrize("who", ["chuyen_vien_b", "van_thu"])
def test_b_c_the_submitter_and_a_văn_thư_of_another_unit_get_an_absent_id_s_answer(
    app: Flask, kho: Kho, people: People, submitted: Record, who: str
) -> None:
    client = logged_in(app, people, who)
    rid = submitted.record_id
    inbox = client.get("/archive")
    assert inbox.status_code == 403 and TITLE not in inbox.get_data(as_text=True)
    # Not a lưu trữ viên: the role's refusal, for every id alike (a fresh one too).
    _same_as_absent(client, "/archive/{}", rid, status=403)
    for step, form in (("accept", {}), ("return", {"reason": "Thiếu"})):
        answer = _post(client, f"/archive/{rid}/{step}", {"expected_version": str(submitted.version), **form})
        assert TITLE not in answer.get_data(as_text=True)
    api = app.test_client()
    assert api.get("/api/submissions", headers=people.headers(who)).status_code == 403
    _api_same_as_absent(api, people.headers(who), rid)
    assert kho.repo._load(rid).version == submitted.version, "nothing written"


def test_d_after_trả_lại_the_archivist_gets_an_absent_id_s_answer(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    returned = kho.retention.return_file(
        submitted.record_id,
        reason="Thiếu chữ ký số",
        expected_version=submitted.version,
        actor=people.actor("luu_tru"),
    )
    archivist = logged_in(app, people, "luu_tru")
    rid = returned.record_id
    assert f"/archive/{rid}" not in archivist.get("/archive").get_data(as_text=True)
    _same_as_absent(archivist, "/archive/{}", rid)  # the whole hồ sơ before rv40 (rv8: "stays theirs")
    for step, form in (("accept", {}), ("return", {"reason": "Thiếu"})):
        _post(archivist, f"/archive/{rid}/{step}", {"expected_version": str(returned.version), **form})
    _api_same_as_absent(app.test_client(), people.headers("luu_tru"), rid)
    assert kho.repo._load(rid).version == returned.version, "nothing written"
    assert kho.retention.submission_of(kho.repo._load(rid))["state"] == "returned"
    # Submitted again by its phòng: the archive's once more.
    again = kho.retention.submit(rid, expected_version=returned.version, actor=people.actor("chuyen_vien_b"))
    assert archivist.get(f"/archive/{rid}").status_code == 200
    assert again.state == FileState.SUBMITTED


def test_d_after_take_in_the_archivist_reads_it_from_the_archived_list(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    # Accepted (its checks are tested with signed documents in test_retention.py).
    archived = taken_in(kho, submitted)
    archivist = logged_in(app, people, "luu_tru")
    rid = archived.record_id
    listing = archivist.get("/archive").get_data(as_text=True)
    assert f'href="/archive/{rid}"' in listing, "the archived list links to the archive's review page"
    review = archivist.get(f"/archive/{rid}")
    assert review.status_code == 200  # 404 before rv40
    page = review.get_data(as_text=True)
    assert TITLE in page and "9913" in page
    assert f"/archive/{rid}/accept" not in page and f"/archive/{rid}/return" not in page
    back = _post(
        archivist, f"/archive/{rid}/return", {"expected_version": str(archived.version), "reason": "Thiếu"}
    )
    flashed = archivist.get(back.headers["Location"]).get_data(as_text=True)
    assert "SUBMISSION_STATE_INVALID" in flashed
    assert kho.repo._load(rid).state == FileState.ARCHIVED
    # The submitter and another unit's văn thư: an absent id, as before the take-in.
    for who in ("chuyen_vien_b", "van_thu"):
        _same_as_absent(logged_in(app, people, who), "/archive/{}", rid, status=403)


def test_the_cli_reviews_by_the_same_rule_before_and_after_trả_lại(
    kho: Kho, people: People, submitted: Record
) -> None:
    """``kho submission list|review|return`` as the agency's lưu trữ viên: the submitted hồ sơ of
    phòng B is theirs to review and return (its title in the answer to the return); returned,
    its review answers as a fresh id does (message and exit status, the id aside)."""
    from click.testing import CliRunner

    from web.cli import main

    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["luu_tru"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    rid = submitted.record_id
    listed = runner.invoke(main, ["submission", "list"])
    assert listed.exit_code == 0 and rid in listed.output and TITLE in listed.output
    review = runner.invoke(main, ["submission", "review", rid])
    assert review.exit_code == 0, review.output
    back = runner.invoke(
        main,
        [
            "submission",
            "return",
            rid,
            "--reason",
            "Thiếu chữ ký số",
            "--expected-version",
            str(submitted.version),
            "--json",
        ],
    )
    assert back.exit_code == 0, back.output
    assert TITLE in back.output, "the answer to the return shows what was returned"
    fresh = new_record_id()
    answers = [runner.invoke(main, ["submission", "review", named]) for named in (fresh, rid)]
    assert answers[1].exit_code == answers[0].exit_code != 0
    assert answers[1].output.replace(rid, "<id>") == answers[0].output.replace(fresh, "<id>")
    assert runner.invoke(main, ["submission", "list"]).output.count(rid) == 0
