"""The list of legal holds names only what its reader may see (rv14): the list is read by role
(lưu trữ viên, lãnh đạo), not by sight of the records an order holds."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import UNIT_B, People
from kho_web import login

from web.context import Kho


def test_the_hold_list_names_no_record_its_reader_may_not_see(
    kho: Kho, people: People, client: FlaskClient, web: FlaskClient
) -> None:
    """A lãnh đạo cleared Tuyệt mật holds a Mật document alone (order 1) and a Mật and a Thường
    document together (order 2). On main the agency's lưu trữ viên, cleared for Thường only, got
    from ``GET /api/retention/holds`` every order with the Mật document's id, its reason and its
    count: the existence of a Mật record, and why it is held. Now order 1 is not listed to them
    and order 2 names only the Thường document; the placer still gets both, and the stored order
    is whole. The page (``/retention``) counts only what the reader may see. A phòng's lưu trữ
    viên who sees none of an order's records and releases it by its id is answered NOT_FOUND for
    the order (on main: NOT_FOUND naming the Mật document's id), nothing released."""
    _file, secret, plain = file_with_a_secret(kho, people)
    head = people.headers("lanh_dao")
    alone = client.post(
        "/api/retention/holds",
        json={"record_ids": [secret], "reason": "Vụ án Alpha-Bí-Mật"},
        headers=head,
    )
    assert alone.status_code == 201, alone.json
    both = client.post(
        "/api/retention/holds",
        json={"record_ids": [secret, plain], "reason": "Thanh tra năm 2024"},
        headers=head,
    )
    assert both.status_code == 201, both.json

    listed = client.get("/api/retention/holds", headers=people.headers("luu_tru"))
    assert listed.status_code == 200, listed.json
    text = listed.get_data(as_text=True)
    assert secret not in text
    assert "Alpha-Bí-Mật" not in text
    assert [(o["order_id"], o["targets"]) for o in listed.json["items"]] == [(both.json["order_id"], [plain])]
    assert listed.json["total"] == 1

    whole = client.get("/api/retention/holds", headers=head)
    assert sorted((o["order_id"], tuple(o["targets"])) for o in whole.json["items"]) == sorted(
        [(alone.json["order_id"], (secret,)), (both.json["order_id"], (secret, plain))]
    )
    from retention.holds import Holds

    assert Holds(kho.repo).orders.latest(both.json["order_id"])["targets"] == [secret, plain]

    login(web, people, "luu_tru")
    page = web.get("/retention")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Alpha-Bí-Mật" not in body and secret not in body
    assert "Thanh tra năm 2024</td><td>1</td>" in body

    people.add("luu_tru_b", "Trịnh Văn Bảo", UNIT_B, ("luu_tru",), 3)
    released = client.post(
        f"/api/retention/holds/{both.json['order_id']}/release",
        json={"reason": "Gỡ"},
        headers=people.headers("luu_tru_b"),
    )
    assert released.status_code == 404, released.get_data(as_text=True)[:300]
    assert released.json["error"]["code"] == "NOT_FOUND"
    assert secret not in released.get_data(as_text=True) and plain not in released.get_data(as_text=True)
    assert Holds(kho.repo).orders.latest(both.json["order_id"])["state"] == "active"
