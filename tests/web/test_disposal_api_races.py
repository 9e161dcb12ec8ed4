"""The retention API under a race (review a6): a hold asked for while the record is being
destroyed is answered 409 with a code and a Vietnamese message (not 201, not a 500), and nothing
of the hold is left; the repository's side is tests/retention/test_hold_destroy_race.py."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_retention import closed_file, destroying

from web.context import Kho


def test_a_hold_asked_for_through_the_api_during_a_destruction_gets_409(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    _, docs = closed_file(kho, people, docs=1)
    with destroying(kho, people, docs[0]) as outcome:
        answer = client.post(
            "/api/retention/holds",
            json={"record_ids": [docs[0]], "reason": "Thanh tra"},
            headers=people.headers("lanh_dao"),
        )
    assert answer.status_code == 409, answer.json  # before: 201, then shredded under the hold
    error = answer.json["error"]
    assert error["code"] == "RECORD_BEING_DESTROYED" and "đang được hủy" in error["message"]
    assert kho.repo.destroyed(docs[0]) is not None and outcome and outcome[0].state == "destroyed"
    assert kho.repo.holds_on(docs[0]) == []
    orders = client.get("/api/retention/holds", headers=people.headers("lanh_dao")).json["items"]
    assert [o["state"] for o in orders] == ["released"]  # the order holds nothing
