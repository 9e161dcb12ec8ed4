"""A destruction case, hold order or recall named by an id that cannot be one (f2).

The pages passed the ``<case_id>`` of ``/retention/destructions/<case_id>`` (and its steps,
documents, ``/retention/holds/<order_id>/release``) to the store as typed; the API checked it
first. Once one case existed, ``retention/destruction/`` was a folder and an id of 300
characters asked the local store for a name the system refuses (ENAMETOOLONG): HTTP 500. The
fuzz of the routes with real objects built found it. Now every read of a workflow record checks
the id (``retention.workflow.checked_id``, in ``Versions.latest``): 404 ``NOT_FOUND``, no store
request.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_retention import closed_file
from kho_web import CSRF, login

from retention.destruction import Destructions
from retention.holds import Holds
from web.context import Kho

BAD = ["x" * 300, "..%2f..%2fetc", "a\\b%00", "0" * 24, "ABCDEF0123456789"]


@pytest.fixture
def with_a_case_and_an_order(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    Destructions(kho.repo, kho.accounts, kho.backend).propose(
        [file.record_id], "Hồ sơ hết thời hạn bảo quản.", actor=people.actor("luu_tru")
    )
    Holds(kho.repo).place([file.record_id], "Thanh tra", actor=people.actor("lanh_dao"))


@pytest.mark.parametrize("bad", BAD)
def test_a_page_refuses_an_id_that_cannot_name_a_case(
    app: Flask, web: FlaskClient, people: People, with_a_case_and_an_order: None, bad: str
) -> None:
    assert login(web, people, "quan_tri").status_code == 302
    token = CSRF.search(web.get("/").get_data(as_text=True))
    assert token
    form = {"csrf_token": token.group(1), "reason": "x", "text": "x"}
    answers = [
        web.get(f"/retention/destructions/{bad}"),
        web.get(f"/retention/destructions/{bad}/documents/danh-muc"),
        web.post(f"/retention/destructions/{bad}/minutes", data=form),
        web.post(f"/retention/holds/{bad}/release", data=form),
    ]
    assert [a.status_code for a in answers] == [404] * 4  # main: 500 for the 300 characters
    if "%2f" not in bad:  # (a "/" in the path matches no route: the router's own 404)
        assert "Mã không hợp lệ (16 chữ số thập lục phân)." in answers[0].get_data(as_text=True)


@pytest.mark.parametrize("bad", BAD)
def test_the_api_refuses_it_with_a_code(
    client: FlaskClient, people: People, with_a_case_and_an_order: None, bad: str
) -> None:
    answers = [
        client.get(f"/api/retention/destructions/{bad}", headers=people.headers("quan_tri")),
        client.post(
            f"/api/retention/holds/{bad}/release", json={"reason": "x"}, headers=people.headers("lanh_dao")
        ),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.get_data(as_text=True)[:200]
        assert answer.json["error"]["code"] == "NOT_FOUND"
