"""A unit whose name an earlier Kho stored longer than y1's 200 characters (or with a hidden
character) can still be moved from the units page, which sends the name back as it is shown:
the name rule judges a new name, not the one kept. Before, every move or edit of such a unit
was UNIT_NAME_INVALID until someone shortened an agency's official name."""

from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People

from repository import formats
from repository.accounts import _draft, unit_key
from web.context import Kho

LONG = "Trung tâm " + "Lưu trữ lịch sử " * 13  # 218 characters


def test_a_unit_with_an_earlier_stored_long_name_moves(client: FlaskClient, kho: Kho, people: People) -> None:
    admin = people.headers("quan_tri")
    unit = {"unit_id": "000.02.18.H40", "name": "Trung tâm", "code": "ttlt", "parent_id": AGENCY}
    made = client.post("/api/units", json=unit, headers=admin)
    assert made.status_code == 201, made.json
    current = kho.accounts.get_unit("000.02.18.H40")
    stored = replace(current, name=LONG.strip(), version=current.version + 1)  # as an earlier Kho wrote it
    kho.accounts._write_audited(
        unit_key(stored.unit_id, stored.version), formats.UNIT, stored.to_dict(),
        [_draft("quan_tri", "unit:update", None, {"unit_id": stored.unit_id})], kho.accounts.clock(),
    )
    moved = client.patch(
        "/api/units/000.02.18.H40", json={"name": LONG.strip(), "parent_id": UNIT_B}, headers=admin
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["parent_id"] == UNIT_B and moved.json["name"] == LONG.strip()
    longer = client.patch("/api/units/000.02.18.H40", json={"name": LONG + "mới"}, headers=admin)
    assert longer.status_code == 422
    assert [e["code"] for e in longer.json["error"]["details"]["errors"]] == ["UNIT_NAME_INVALID"]
