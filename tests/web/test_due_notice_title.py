"""A nộp lưu alert names its hồ sơ by reference in the store, and by title only to a reader who
may see it (m5)."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import UNIT_B, People, create_person
from kho_retention import closed_file

from retention.tasks import run_due_alerts
from web.context import Kho


def test_a_due_alert_keeps_no_title_in_the_store_and_shows_it_only_to_who_may_see_the_hồ_sơ(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """``retention:due`` notifications were stored as "Hồ sơ “<title>” đã quá hạn nộp lưu …":
    the title in plaintext in ``notifications/`` (and every backup, never shredded), while titles
    are sealed with the record everywhere else; and every lưu trữ viên got it, one of another
    phòng who may not see the hồ sơ included. The notification now stores the hồ sơ's id and a
    reference; the title is put in when it is read (``/api/me``, the home page, ``kho whoami``)
    for who may see the hồ sơ, a neutral phrase for the others."""
    file, _docs = closed_file(kho, people, notation="03.BIMAT")  # closed 2015: overdue
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    other, _ = create_person(kho.accounts, "Lý Thị Lan", UNIT_B, ("luu_tru",), 0, None, admin, confirmer=head)
    sent = run_due_alerts(kho.accounts, kho.retention)
    assert [a.file_id for a in sent] == [file.record_id]
    stored = [kho.repo.store.get(i.key) for i in kho.repo.store.list("notifications/")]
    assert stored and not any(b"03.BIMAT" in raw for raw in stored)
    assert any(file.record_id.encode() in raw for raw in stored)
    for who in ("chuyen_vien", "luu_tru"):  # the holder, the agency's lưu trữ viên
        me = client.get("/api/me", headers=people.headers(who)).json
        due = [n for n in me["notifications"] if n["kind"] == "retention:due"]
        assert due and due[0]["message"].startswith("Hồ sơ “Hồ sơ 03.BIMAT” đã quá hạn nộp lưu"), who
        assert due[0]["record_id"] == file.record_id
    # rv58: a lưu trữ viên of another phòng, who may not see the hồ sơ, is not notified at all
    # (the neutral phrase still named the hồ sơ's id, due date and days overdue).
    token = kho.accounts.issue_token(other.username, "test", other)
    theirs = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json["notifications"]
    assert [n for n in theirs if n["kind"] == "retention:due"] == []
    # Someone told while they could see it, who no longer may (moved to phòng B), reads the
    # notification without the title.
    kho.accounts.set_roles(people.usernames["luu_tru"], [(UNIT_B, "luu_tru")], admin, None)
    mine = client.get("/api/me", headers=people.headers("luu_tru")).json["notifications"]
    [due] = [n for n in mine if n["kind"] == "retention:due"]
    assert "03.BIMAT" not in due["message"] and "không có quyền xem" in due["message"]
