"""Legal holds: placed on a record, a hồ sơ or a query result; they block change and destruction
for everyone; on S3 with object lock the originals get the gateway's legal hold; release audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_people import AGENCY, UNIT_B, People, create_person, make_people
from kho_retention import Clock, closed_file, open_kho, s3_env
from kho_submission import phong_b_file

from kho.errors import KhoError, LegalHold, PermissionDenied, RetentionLocked
from repository.records import Actor, Record, content_key, hold_key
from retention.holds import Holds, held_ids
from web.context import Kho


def test_a_hold_on_a_file_blocks_adding_granting_and_changing_its_documents(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people, end="")  # open: adding is allowed once released
    loose = kho.repo.create_document(
        "den", {**_incoming(), "code_number": "777"}, b"%PDF-1.4 x" * 30, "x.pdf", people.actor("van_thu")
    )
    holds = Holds(kho.repo)
    order = holds.place([file.record_id], "Phục vụ điều tra", actor=people.actor("lanh_dao"))
    officer = people.actor("chuyen_vien")
    current = kho.repo._load(file.record_id)
    with pytest.raises(LegalHold) as info:
        kho.repo.add_to_file(file.record_id, loose.record_id, expected_version=current.version, actor=officer)
    assert info.value.code == "LEGAL_HOLD" and "phong tỏa" in info.value.message
    with pytest.raises(LegalHold):
        kho.repo.grant(file.record_id, users=("someone",), actor=people.actor("quan_tri"))
    with pytest.raises(LegalHold):
        doc = kho.repo._load(docs[0])
        kho.repo.update_metadata(
            docs[0], {"subject": "Đổi"}, expected_version=doc.version, actor=people.actor("van_thu")
        )
    assert kho.repo._load(file.record_id).version == current.version  # nothing written
    assert held_ids(holds.list(actor=people.actor("luu_tru"))) == {file.record_id}
    holds.release(order["order_id"], "Kết thúc điều tra", actor=people.actor("lanh_dao"))
    assert (
        kho.repo.add_to_file(
            file.record_id, loose.record_id, expected_version=current.version, actor=officer
        ).version
        == current.version + 1
    )
    events = [(e.action, e.actor) for e in kho.repo.audit.events() if e.action.startswith("hold:")]
    assert events == [
        ("hold:place", people.usernames["lanh_dao"]),
        ("hold:release", people.usernames["lanh_dao"]),
    ]


def test_a_hold_is_lifted_only_by_who_placed_it_or_a_leader(kho: Kho, people: People) -> None:
    """Phụ lục VI IV.1.g: a hold is placed on a competent person's request. A lưu trữ viên who
    wants a record under investigation destroyed does not lift the lãnh đạo's hold (nor another
    lưu trữ viên's), nor does the lãnh đạo of a phòng the record was shared with; the refusal is
    audited and nothing changes. The one who placed a hold, or a lãnh đạo of the unit, lifts it."""
    file, _ = closed_file(kho, people)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    leader_b, _ = create_person(
        kho.accounts, "Vũ Văn Bình", UNIT_B, ("lanh_dao",), 0, None, admin, confirmer=head
    )
    kho.repo.grant(file.record_id, units=(UNIT_B,), actor=people.actor("lanh_dao"))  # shared to read
    holds = Holds(kho.repo)
    order = holds.place([file.record_id], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied) as info:
        holds.release(order["order_id"], "Đã xong", actor=people.actor("luu_tru"))
    assert info.value.code == "HOLD_NOT_YOURS"
    assert holds.orders.latest(order["order_id"])["state"] == "active"
    assert kho.repo.holds_on(file.record_id)
    with pytest.raises(PermissionDenied):  # the repository refuses it too, whoever calls it
        kho.repo.release_hold(file.record_id, order["order_id"], actor=people.actor("luu_tru"), reason="x")
    assert kho.repo.holds_on(file.record_id)
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert denied and denied[-1].actor == people.usernames["luu_tru"]

    with pytest.raises(PermissionDenied) as shared:  # a lãnh đạo of a unit it was shared with
        holds.release(order["order_id"], "Đã xong", actor=kho.actor_of(leader_b, "test"))
    assert shared.value.code == "GRANT_READ_ONLY" and kho.repo.holds_on(file.record_id)  # sight only

    mine = holds.place([file.record_id], "Rà soát", actor=people.actor("luu_tru"))
    assert holds.release(mine["order_id"], "Xong", actor=people.actor("luu_tru"))["state"] == "released"
    assert holds.release(order["order_id"], "Kết thúc thanh tra", actor=people.actor("lanh_dao"))[
        "state"
    ] == "released"
    assert not kho.repo.holds_on(file.record_id)


def _phong_b(kho: Kho, people: People) -> tuple[Actor, Actor, Record]:
    """The head and a lưu trữ viên of phòng B, and a hồ sơ of phòng B."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    leader_b, _ = create_person(
        kho.accounts, "Vũ Văn Bình", UNIT_B, ("lanh_dao",), 0, None, admin, confirmer=head
    )
    archivist_b, _ = create_person(
        kho.accounts, "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0, None, admin, confirmer=head
    )
    file_b = phong_b_file(kho, people)
    assert kho.repo.facts(file_b).unit == UNIT_B
    return kho.actor_of(leader_b, "test"), kho.actor_of(archivist_b, "test"), file_b


def test_a_lower_leader_does_not_lift_a_hold_a_higher_one_placed(kho: Kho, people: People) -> None:
    """Phụ lục VI IV.1.g: a hold is lifted by the authority that placed it, or a higher one.
    The head of phòng B leads the unit of the hồ sơ, yet does not lift the hold the agency head
    placed on it (a hold placed from the agency); the agency head does. A hold a lưu trữ viên of
    phòng B placed is lifted by the head of phòng B (a lãnh đạo of the placer's unit). Refusals
    are audited and change nothing; what the placer placed from is kept with the hold."""
    head_b, archivist_b, file_b = _phong_b(kho, people)
    holds = Holds(kho.repo)
    order = holds.place([file_b.record_id], "Phục vụ thanh tra tỉnh", actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied) as info:
        holds.release(order["order_id"], "Không cần nữa", actor=head_b)
    assert info.value.code == "HOLD_NOT_YOURS"
    with pytest.raises(PermissionDenied):  # the repository refuses it too
        kho.repo.release_hold(file_b.record_id, order["order_id"], actor=head_b, reason="x")
    assert holds.orders.latest(order["order_id"])["state"] == "active"
    assert kho.repo.holds_on(file_b.record_id)
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert denied and denied[-1].actor == head_b.user
    assert order["placed_by_units"] == [AGENCY]
    assert kho.repo.holds_on(file_b.record_id)[0]["by_units"] == [AGENCY]

    own = holds.place([file_b.record_id], "Rà soát", actor=archivist_b)
    assert holds.release(own["order_id"], "Xong", actor=head_b)["state"] == "released"
    assert holds.release(order["order_id"], "Kết thúc", actor=people.actor("lanh_dao"))["state"] == "released"
    assert not kho.repo.holds_on(file_b.record_id)


def test_a_hold_stored_before_its_placer_units_were_kept_is_lifted_from_the_agency_only(
    kho: Kho, people: People
) -> None:
    """A hold of format 1 (no ``by_units``) counts as placed from the agency: the placer or a
    lãnh đạo of the agency lifts it, not the head of a phòng."""
    head_b, _, file_b = _phong_b(kho, people)
    kho.repo.place_hold(file_b.record_id, "legacy0000000001", "Cũ", actor=people.actor("lanh_dao"))
    key = hold_key(file_b.record_id, "legacy0000000001")
    body = json.loads(kho.repo.store.get(key))
    body.pop("by_units", None)
    body["format_version"] = 1
    kho.repo.store.delete(key)
    kho.repo.store.put(key, json.dumps(body).encode())
    with pytest.raises(PermissionDenied):
        kho.repo.release_hold(file_b.record_id, "legacy0000000001", actor=head_b, reason="x")
    assert kho.repo.holds_on(file_b.record_id)[0]["by_units"] is None
    head = people.actor("lanh_dao")
    assert kho.repo.release_hold(file_b.record_id, "legacy0000000001", actor=head, reason="x")


def test_only_archivists_and_leaders_hold_and_a_reason_is_required(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    holds = Holds(kho.repo)
    for who in ("chuyen_vien", "van_thu", "quan_tri", "kiem_toan"):
        with pytest.raises(PermissionDenied):
            holds.place([file.record_id], "Lý do", actor=people.actor(who))
    with pytest.raises(KhoError) as info:
        holds.place([file.record_id], "  ", actor=people.actor("luu_tru"))
    assert info.value.code == "HOLD_REASON_REQUIRED"
    assert not kho.repo.holds_on(file.record_id)


def test_a_query_result_is_held_all_or_nothing(kho: Kho, people: People) -> None:
    _, docs = closed_file(kho, people, docs=3)
    holds = Holds(kho.repo)
    order = holds.place(docs, "Kết quả tìm kiếm: thuốc nổ", actor=people.actor("luu_tru"), query="thuốc nổ")
    assert all(kho.repo.holds_on(d) for d in docs) and order["query"] == "thuốc nổ"


def test_on_s3_with_object_lock_the_originals_get_the_gateway_legal_hold(tmp_path: Path) -> None:
    kho = open_kho(s3_env(tmp_path, object_lock=True), Clock())
    try:
        people = make_people(kho)
        file, docs = closed_file(kho, people, docs=1)
        record = kho.repo._load(docs[0])
        key = content_key(record.record_id, record.files[0].sha256)
        holds = Holds(kho.repo)
        order = holds.place([docs[0]], "Thanh tra", actor=people.actor("luu_tru"))
        assert kho.repo.store.get_legal_hold(key) is True
        with pytest.raises(RetentionLocked):
            kho.repo.store.delete(key)
        with pytest.raises(LegalHold):
            kho.repo.destroy(docs[0], decision="QĐ 1", actor=people.actor("quan_tri"))
        holds.release(order["order_id"], "Xong", actor=people.actor("luu_tru"))
        assert kho.repo.store.get_legal_hold(key) is False
        assert file.record_id
    finally:
        kho.close()


def _incoming() -> dict[str, str]:
    from kho_testing import incoming

    return incoming(issued_date="2015-05-05")
