"""A handling step that would hand a held document over is refused on the page and through the
API with the hold's code and a Vietnamese message (409, not a 500), and nothing is written."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import csrf, login, text

from kho.timeutil import vn_date
from repository.workflow import Act
from retention.holds import Holds
from web.context import Kho


def _held_and_submitted(kho: Kho, people: People, number: str) -> str:
    doc = kho.repo.create_document("den", incoming(code_number=number), None, None, people.actor("van_thu"))
    kho.handling.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    Holds(kho.repo).place([doc.record_id], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    return doc.record_id


def _form(web: FlaskClient, path: str, data: dict[str, str]) -> Any:
    token = csrf(web, path)
    seq = re.search(r'name="expected_seq" value="(\d+)"', text(web.get(path)))
    assert seq
    return web.post(path, data={"csrf_token": token, "expected_seq": seq.group(1), **data})


def _deadline(kho: Kho) -> str:
    return (vn_date(kho.handling.clock()) + timedelta(days=14)).isoformat()


def test_the_page_refuses_a_step_on_a_held_document_with_the_code(
    web: FlaskClient, kho: Kho, people: People
) -> None:
    rid = _held_and_submitted(kho, people, "921")
    login(web, people, "lanh_dao")
    answer = _form(
        web,
        f"/handling/{rid}",
        {"act": "direct", "users": people.usernames["chuyen_vien_b"], "deadline": _deadline(kho)},
    )
    assert answer.status_code == 409
    page = text(answer)
    assert "mã lỗi LEGAL_HOLD" in page and "phong tỏa" in page
    assert [s.act for s in kho.handling.steps(rid)] == [Act.SUBMIT]
    assert not kho.repo.may_see(people.actor("chuyen_vien_b"), kho.repo._load(rid))


def test_the_api_refuses_a_step_on_a_held_document_with_the_code(
    app: Flask, kho: Kho, people: People
) -> None:
    rid = _held_and_submitted(kho, people, "922")
    answer = app.test_client().post(
        f"/api/handling/{rid}/steps",
        json={
            "act": "direct",
            "expected_seq": 1,
            "users": [people.usernames["chuyen_vien_b"]],
            "deadline": _deadline(kho),
        },
        headers=people.headers("lanh_dao"),
    )
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "LEGAL_HOLD" and "phong tỏa" in answer.json["error"]["message"]
    assert [s.act for s in kho.handling.steps(rid)] == [Act.SUBMIT]
    assert not kho.repo.may_see(people.actor("chuyen_vien_b"), kho.repo._load(rid))
