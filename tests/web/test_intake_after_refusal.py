"""A document refused before anything was stored (its file name) is taken in when it arrives
again under a valid name: a refusal is of that arrival, not of the bytes for ever."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from kho_people import People


def _intake(client: FlaskClient, people: People, pdf: bytes, name: str, direction: str = "den"):
    return client.post(
        "/api/intake",
        data={"direction": direction, "file": (io.BytesIO(pdf), name)},
        headers=people.headers("van_thu"),
    )


def test_a_document_refused_for_its_name_is_taken_in_under_a_good_name(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    refused = _intake(client, people, signed["valid"], "qd\x00.pdf")
    assert refused.status_code == 422 and refused.json["error"]["code"] == "FILE_NAME_INVALID"
    again = _intake(client, people, signed["valid"], "qd-12.pdf")
    assert again.status_code == 201, again.json
    record = again.json["record"]
    assert record["files"][0]["original_name"] == "qd-12.pdf"
    assert record["kind"] == "den"


def test_a_refused_arrival_does_not_fix_the_direction_of_the_next(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """Whoever uploaded the bytes first under a bad name does not choose for the next sender."""
    assert _intake(client, people, signed["valid-2"], "a\x00b.pdf", "di").status_code == 422
    again = _intake(client, people, signed["valid-2"], "cv-den.pdf", "den")
    assert again.status_code == 201, again.json
    assert again.json["record"]["kind"] == "den"
