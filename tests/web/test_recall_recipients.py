"""After a văn bản đi is recalled (thu hồi), who may still read it (m5): its issuing side and the
archive keep it, with the recall shown; the units and people it was sent to lose sight of it,
in search too, and are told it was recalled when they open it."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_testing import outgoing
from kho_web import login, text

from repository.policy import Action
from retention.recall import Recalls
from web.app import create_app
from web.context import Kho


def _hits(client: FlaskClient, people: People, who: str, text: str) -> int:
    answer = client.get("/api/search", query_string={"q": text}, headers=people.headers(who))
    assert answer.status_code == 200, answer.json
    return int(answer.json["total"])


def test_a_recalled_outgoing_document_is_kept_by_its_issuer_and_taken_from_its_recipients(
    kho: Kho,
    people: People,
    client: FlaskClient,
    signed: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A văn bản đi distributed to phòng B and then recalled stayed readable by phòng B: the
    recall froze it (a hold) and changed nothing of who sees it (a4's open item). ND30 Điều 18
    k4: the recipient destroys an electronic document under a recall notice. After the recall,
    phòng B's people get 403 ``RECORD_RECALLED`` with a message saying so, no search hit, and
    no hit in a hồ sơ of theirs; the văn thư who issued it, the agency's lãnh đạo and lưu trữ
    viên still read it, with the recall in ``extra.recall``."""
    clerk = people.actor("van_thu")
    subject = "Quy chế quản lý tàiliệuthuhồi"
    doc = kho.repo.create_document("di", outgoing(subject=subject), signed["valid"], "qd.pdf", clerk)
    rid = doc.record_id
    kho.repo.distribute(rid, units=[UNIT_B], users=[people.usernames["chuyen_vien_b"]], actor=clerk)
    recipients = ("chuyen_vien_b", "van_thu_b")
    for who in recipients:
        assert client.get(f"/api/records/{rid}", headers=people.headers(who)).status_code == 200, who
    assert _hits(client, people, "chuyen_vien_b", "tàiliệuthuhồi") == 1
    Recalls(kho.repo, kho.backend).recall_outgoing(
        rid, "Công văn số 15/UBND-VP ngày 01/03/2026", "Ban hành sai thẩm quyền", actor=clerk
    )
    for who in recipients:
        refused = client.get(f"/api/records/{rid}", headers=people.headers(who))
        assert refused.status_code == 403, (who, refused.json)
        assert refused.json["error"]["code"] == "RECORD_RECALLED"
        assert "thu hồi" in refused.json["error"]["message"]
        assert client.get(f"/api/records/{rid}/content", headers=people.headers(who)).status_code == 403
        assert _hits(client, people, who, "tàiliệuthuhồi") == 0, who
    for who in ("van_thu", "lanh_dao", "luu_tru", "chuyen_vien"):
        kept = client.get(f"/api/records/{rid}", headers=people.headers(who))
        assert kept.status_code == 200, (who, kept.json)
        assert kept.json["extra"]["recall"]["order_ref"] == "Công văn số 15/UBND-VP ngày 01/03/2026"
        assert _hits(client, people, who, "tàiliệuthuhồi") == 1, who
    # The record page shows the issuing side the recall.
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    web = create_app(kho.settings, kho=kho).test_client()
    login(web, people, "van_thu")
    page = web.get(f"/records/{rid}")
    assert page.status_code == 200 and "Văn bản đã bị thu hồi theo Công văn số 15/UBND-VP" in text(page)
    # Nothing of who it was sent to is lost: the grants stay on record (who received it).
    assert UNIT_B in kho.repo._load(rid).grant_units


def test_a_document_recalled_before_recalls_were_recorded_on_it_is_taken_from_its_recipients_by_recall_mark(
    kho: Kho, people: People, client: FlaskClient, signed: dict[str, bytes]
) -> None:
    """A văn bản đi recalled before m5 has its recall object and its freeze hold, and nothing on
    the document: its recipients still read it. ``kho archive recall-mark`` (an operator's
    one-off, idempotent) records the recall on each such document, and they lose it."""
    from kho_web import cli_as

    from web.cli import main

    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject="Quy chế cũ"), signed["valid"], "qd.pdf", clerk)
    rid = doc.record_id
    kho.repo.distribute(rid, units=[UNIT_B], actor=clerk)
    recalls = Recalls(kho.repo, kho.backend)
    # What main's recall_outgoing stored: the recall and its freeze, nothing on the document.
    _record, recall = recalls._start(rid, "Công văn số 9/UBND-VP", "Sai thẩm quyền", clerk, "di")
    kho.repo.place_hold(
        rid,
        f"recall-{recall['recall_id']}",
        "Thu hồi",
        actor=clerk,
        kind="recall",
        authorize=Action.RECORD_RECALL,
    )
    assert client.get(f"/api/records/{rid}", headers=people.headers("chuyen_vien_b")).status_code == 200
    runner = cli_as(people, "van_thu")
    marked = runner.invoke(main, ["archive", "recall-mark", "--json"])
    assert marked.exit_code == 0, marked.output
    assert json.loads(marked.output[marked.output.index("{") :])["marked"] == [rid]
    again = runner.invoke(main, ["archive", "recall-mark", "--json"])
    assert json.loads(again.output[again.output.index("{") :])["marked"] == []
    refused = client.get(f"/api/records/{rid}", headers=people.headers("chuyen_vien_b"))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "RECORD_RECALLED"
    assert client.get(f"/api/records/{rid}", headers=people.headers("van_thu")).status_code == 200
