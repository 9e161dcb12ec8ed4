"""A due alert is told only to those the alerts list shows it to (review rv58).

``run_due_alerts`` notified *every* active lưu trữ viên of *every* unit of every hồ sơ due for
nộp lưu. The notification hides the title of a hồ sơ its reader may not see, but it named the
hồ sơ's id, its due date and how many days it is overdue, to a phòng's lưu trữ viên for whom the
same hồ sơ answers 404 and whose alerts list (``GET /api/retention/alerts``) is empty: the
existence, ids and number of another unit's hồ sơ (``GET /api/me``). The notification and the
list now follow one rule (``RetentionService.told``): the holder, and a lưu trữ viên who may
see the hồ sơ.

Real store (local folder), the real beat step and API through Werkzeug's client; nothing mocked."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_retention import closed_file

from retention.tasks import run_due_alerts
from web.context import Kho


def _due_notes(client: FlaskClient, people: People, who: str) -> list[str]:
    me = client.get("/api/me", headers=people.headers(who))
    assert me.status_code == 200, me.json
    return [n["record_id"] for n in me.json["notifications"] if n["kind"] == "retention:due"]


def test_a_due_alert_names_a_hoso_only_to_those_who_may_see_it(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0)
    file, _ = closed_file(kho, people, end="2025-06-30")  # the agency's, overdue
    hidden = client.get(f"/api/records/{file.record_id}", headers=people.headers("luu_tru_b"))
    assert hidden.status_code == 404, "phòng B's archivist may not know of it"
    listed = client.get("/api/retention/alerts", headers=people.headers("luu_tru_b"))
    assert listed.json["total"] == 0

    sent = run_due_alerts(kho.accounts, kho.retention)
    assert [a.file_id for a in sent] == [file.record_id]

    assert _due_notes(client, people, "luu_tru_b") == []  # before: [the hồ sơ's id]
    assert _due_notes(client, people, "luu_tru") == [file.record_id]  # the agency's archivist
    assert _due_notes(client, people, "chuyen_vien") == [file.record_id]  # its holder
    for who in ("luu_tru", "chuyen_vien"):
        shown = client.get("/api/retention/alerts", headers=people.headers(who)).json
        assert [a["file_id"] for a in shown["items"]] == [file.record_id], who
