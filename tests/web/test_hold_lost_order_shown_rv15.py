"""rv14 answered the release of a hold order that holds nothing its caller may see as an absent
order (``NOT_FOUND`` for the order, the records not named). The way out for an order whose
object is gone from the store (review m2: its targets read from the audit log) still refused
with the record's own unknown-id answer, naming the Mật document the order held to a phòng's
lưu trữ viên who may not know of it (review rv15). It now answers as rv14's path does."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import UNIT_B, People

from retention.holds import Holds
from web.context import Kho


def test_releasing_a_lost_order_names_no_record_its_caller_may_not_see(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    _file, secret, _plain = file_with_a_secret(kho, people)
    placed = client.post(
        "/api/retention/holds",
        json={"record_ids": [secret], "reason": "Vụ án Alpha-Bí-Mật"},
        headers=people.headers("lanh_dao"),
    )
    assert placed.status_code == 201, placed.json
    order_id = placed.json["order_id"]
    orders = Holds(kho.repo).orders
    for info in list(kho.repo.store.list(f"{orders.prefix}{order_id}/")):  # lost by a hand in the store
        kho.repo.store.delete(info.key)

    people.add("luu_tru_b", "Trịnh Văn Bảo", UNIT_B, ("luu_tru",), 3)
    released = client.post(
        f"/api/retention/holds/{order_id}/release", json={"reason": "Gỡ"}, headers=people.headers("luu_tru_b")
    )
    text = released.get_data(as_text=True)
    assert released.status_code == 404, text[:300]
    assert released.json["error"]["code"] == "NOT_FOUND"
    assert secret not in text and order_id in text
    assert not [e for e in kho.repo.audit.record_events(secret) if e.action == "hold:release"]

    # The placer still releases it by the same way out.
    done = client.post(
        f"/api/retention/holds/{order_id}/release", json={"reason": "Gỡ"}, headers=people.headers("lanh_dao")
    )
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    assert done.json["order_missing"] is True and done.json["targets"] == [secret]
