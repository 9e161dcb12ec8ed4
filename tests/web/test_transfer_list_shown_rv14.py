"""The nộp lưu lịch sử transfers (packages exported to the historical archive) are listed, and
their receipts recorded, only by a lưu trữ viên who may see the hồ sơ (rv14): the role alone
(:attr:`Action.TRANSFER`) named every exported hồ sơ of the agency to a phòng's lưu trữ viên."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_retention import closed_file

from retention.sip import Transfers
from web.context import Kho


def test_a_transfer_is_listed_and_received_only_by_who_may_see_its_file(
    kho: Kho, people: People, client: FlaskClient, tmp_path: Path
) -> None:
    """The agency's lưu trữ viên exports a permanent hồ sơ of the agency. On main the lưu trữ
    viên of Phòng Tổng hợp (a unit below, who may not see that hồ sơ: ``GET /api/records/<id>``
    answers 404) got its id, its package name (the hồ sơ's code) and its document count from
    ``GET /api/retention/transfers``, and could record the historical archive's receipt of it
    (``POST …/receipt``: 200, the hồ sơ marked transferred for ever). Now the list is empty to
    them and the receipt is refused as an unknown record, nothing written; the agency's lưu trữ
    viên lists and receives it as before."""
    file, _ = closed_file(kho, people, notation="03.VP", maintenance="Vĩnh viễn", docs=1)
    done = Transfers(kho.repo).export(file.record_id, tmp_path / "out", actor=people.actor("luu_tru"))
    people.add("luu_tru_b", "Trịnh Văn Bảo", UNIT_B, ("luu_tru",), 3)
    token = people.headers("luu_tru_b")
    assert client.get(f"/api/records/{file.record_id}", headers=token).status_code == 404

    listed = client.get("/api/retention/transfers", headers=token)
    assert listed.status_code == 200, listed.json
    assert listed.json == {"items": [], "total": 0}

    url = f"/api/retention/transfers/{done['transfer_id']}/receipt"
    refused = client.post(url, json={"reference": "BB 01/LTLS"}, headers=token)
    assert refused.status_code == 404, refused.get_data(as_text=True)[:300]
    assert file.record_id not in refused.get_data(as_text=True)
    [stored] = Transfers(kho.repo).transfers.all()
    assert stored["state"] == "exported" and stored["receipt"] is None
    assert not [e for e in kho.repo.audit.events() if e.action == "transfer:receipt"]

    own = people.headers("luu_tru")
    mine = client.get("/api/retention/transfers", headers=own)
    assert [t["file_id"] for t in mine.json["items"]] == [file.record_id]
    received = client.post(url, json={"reference": "BB 01/LTLS"}, headers=own)
    assert received.status_code == 200, received.get_data(as_text=True)[:300]
    assert received.json["state"] == "received"
