"""Keeping a hồ sơ due for nộp lưu, and its transfer to the Lưu trữ lịch sử, are its holder's
acts, not a reader's (review rv58).

ND30 Điều 31 k3 d: the head of the unit holding a hồ sơ may keep it up to two years past its due
date. ``RetentionService.keep`` asked for the lãnh đạo role *somewhere*, and the hồ sơ only to be
seen: the lãnh đạo of phòng B, given the agency's hồ sơ to read (a grant), approved keeping it
(200, ``keep_approved_by`` = phòng B's head), though a grant gives sight only
(:data:`repository.policy.GRANT_GIVES`). Likewise a lưu trữ viên of phòng B given the agency's
permanent hồ sơ to read exported its transfer package (every original in it, written to the
server's transfers folder) and recorded the historical archive's receipt, which marks the hồ sơ
transferred for ever: the agency's own archivist was then refused (``SIP_ALREADY_TRANSFERRED``).
Both acts are now decided over the hồ sơ as its holder (:data:`repository.policy.HOLDER_STEPS`,
``FILE_OTHER_UNIT``).

Real store (local folder), the real API and pages through Werkzeug's client; nothing mocked."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People
from kho_retention import closed_file
from kho_web import error_code, logged_in

from repository.policy import Action, Principal, RecordFacts, Role, decide
from web.context import Kho

KEEP = {"until": "2028-06-30", "reason": "Còn thanh tra"}


def _granted_to_phong_head(client: FlaskClient, kho: Kho, people: People) -> str:
    """A closed hồ sơ of the agency (due 2027), granted for reading to phòng B's lãnh đạo."""
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 0)
    file, _ = closed_file(kho, people, end="2026-06-30")
    granted = client.post(
        f"/api/records/{file.record_id}/grants",
        json={"users": [people.usernames["lanh_dao_b"]]},
        headers=people.headers("lanh_dao"),
    )
    assert granted.status_code == 200, granted.json
    return file.record_id


def test_a_reader_by_grant_does_not_keep_another_units_hoso(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file_id = _granted_to_phong_head(client, kho, people)
    version = kho.repo._load(file_id).version
    seen = client.get(f"/api/records/{file_id}", headers=people.headers("lanh_dao_b"))
    assert seen.status_code == 200, "the grant gives sight"

    kept = client.post(
        f"/api/files/{file_id}/keep", json={**KEEP, "expected_version": version},
        headers=people.headers("lanh_dao_b"),
    )
    assert kept.status_code == 403, kept.get_data(as_text=True)[:300]  # before: 200, kept
    assert error_code(kept) == "FILE_OTHER_UNIT"
    assert "không thuộc đơn vị bạn giữ vai trò" in kept.json["error"]["message"]
    after = kho.repo._load(file_id)
    assert after.version == version and "kept_until" not in after.extra, "nothing written"
    denied = [e for e in kho.repo.audit.query(action="access:denied") if e.record_id == file_id]
    assert denied and denied[-1].details["code"] == "FILE_OTHER_UNIT"

    head = client.post(
        f"/api/files/{file_id}/keep", json={**KEEP, "expected_version": version},
        headers=people.headers("lanh_dao"),
    )
    assert head.status_code == 200, head.json
    assert kho.repo._load(file_id).extra["keep_approved_by"] == people.usernames["lanh_dao"]


def test_the_hoso_page_offers_keeping_only_to_its_units_head(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    file_id = _granted_to_phong_head(client, kho, people)
    phong = logged_in(app, people, "lanh_dao_b")
    shown = phong.get(f"/files/{file_id}")
    assert shown.status_code == 200
    assert "Duyệt giữ lại hồ sơ" not in shown.get_data(as_text=True)  # before: offered
    agency = logged_in(app, people, "lanh_dao")
    assert "Duyệt giữ lại hồ sơ" in agency.get(f"/files/{file_id}").get_data(as_text=True)


def test_a_reader_by_grant_neither_exports_nor_receipts_another_units_transfer(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 3)
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=1)
    granted = client.post(
        f"/api/records/{file.record_id}/grants",
        json={"users": [people.usernames["luu_tru_b"]]},
        headers=people.headers("lanh_dao"),
    )
    assert granted.status_code == 200, granted.json
    out = kho.settings.data_dir / "transfers"
    before = sorted(out.rglob("*")) if out.exists() else []

    export = client.post(
        "/api/retention/transfers", json={"file_id": file.record_id}, headers=people.headers("luu_tru_b")
    )
    assert export.status_code == 403, export.get_data(as_text=True)[:300]  # before: 201, exported
    assert error_code(export) == "FILE_OTHER_UNIT"
    assert (sorted(out.rglob("*")) if out.exists() else []) == before, "no package written"
    assert [e for e in kho.repo.audit.events() if e.action == "transfer:export"] == []

    # The agency's archivist exports; the reader by grant still cannot record the receipt.
    exported = client.post(
        "/api/retention/transfers", json={"file_id": file.record_id}, headers=people.headers("luu_tru")
    )
    assert exported.status_code == 201, exported.json
    transfer = exported.json["transfer_id"]
    receipt = client.post(
        f"/api/retention/transfers/{transfer}/receipt", json={"reference": "Biên bản số 01"},
        headers=people.headers("luu_tru_b"),
    )
    assert receipt.status_code == 403, receipt.json  # before: 200, the hồ sơ marked transferred
    assert error_code(receipt) == "FILE_OTHER_UNIT"
    assert [e for e in kho.repo.audit.events() if e.action == "transfer:receipt"] == []
    done = client.post(
        f"/api/retention/transfers/{transfer}/receipt", json={"reference": "Biên bản số 01"},
        headers=people.headers("luu_tru"),
    )
    assert done.status_code == 200 and done.json["state"] == "received", done.json


def test_a_phongs_head_hands_over_only_the_hoso_of_their_own_people(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """``POST /api/retention/handover {from, to}`` by phòng B's lãnh đạo, naming the agency's
    chuyên viên: before, 404 ``NOT_FOUND`` *naming the id* of the hồ sơ that person holds (which
    phòng B's head may not see), and once given that hồ sơ to read, 200: they made themselves its
    keeper. Now refused on the person, before their hồ sơ are listed."""
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 0)
    file, _ = closed_file(kho, people, end="2026-06-30")
    leaver = people.usernames["chuyen_vien"]
    body = {"from": leaver, "to": people.usernames["chuyen_vien_b"]}

    unseen = client.post("/api/retention/handover", json=body, headers=people.headers("lanh_dao_b"))
    assert unseen.status_code == 403, unseen.get_data(as_text=True)[:300]  # before: 404 naming the id
    assert error_code(unseen) == "HANDOVER_NOT_YOURS"
    assert file.record_id not in unseen.get_data(as_text=True)

    granted = client.post(
        f"/api/records/{file.record_id}/grants",
        json={"users": [people.usernames["lanh_dao_b"]]},
        headers=people.headers("lanh_dao"),
    )
    assert granted.status_code == 200, granted.json
    to_self = client.post(
        "/api/retention/handover", json={"from": leaver, "to": people.usernames["lanh_dao_b"]},
        headers=people.headers("lanh_dao_b"),
    )
    assert to_self.status_code == 403, to_self.json  # before: 200, phòng B's head its keeper
    assert error_code(to_self) == "HANDOVER_NOT_YOURS"
    assert kho.retention.holder(kho.repo._load(file.record_id)) == leaver, "still its keeper"

    head = client.post("/api/retention/handover", json=body, headers=people.headers("lanh_dao"))
    assert head.status_code == 200 and head.json["moved"] == [file.record_id], head.json


def test_keeping_is_decided_in_the_hosos_own_unit() -> None:
    hoso = RecordFacts("f1", "hoso", AGENCY, grant_units=frozenset({UNIT_B}))
    phong_head = Principal("b", frozenset({(UNIT_B, Role.LANH_DAO)}), led_units=frozenset({UNIT_B}))
    agency_head = Principal("a", frozenset({(AGENCY, Role.LANH_DAO)}), led_units=frozenset({AGENCY, UNIT_B}))
    refused = decide(phong_head, Action.FILE_KEEP_APPROVE, hoso)
    assert not refused and refused.code == "FILE_OTHER_UNIT"
    assert decide(agency_head, Action.FILE_KEEP_APPROVE, hoso)
    # The head of phòng B keeps phòng B's own hồ sơ; nobody keeps one they do not see.
    assert decide(phong_head, Action.FILE_KEEP_APPROVE, RecordFacts("f2", "hoso", UNIT_B))
    unseen = decide(phong_head, Action.FILE_KEEP_APPROVE, RecordFacts("f3", "hoso", AGENCY))
    assert not unseen and unseen.code == "NOT_FOUND"
    # A transfer: the archive keeping the hồ sơ (its unit's, or above it), not a reader by grant.
    archive = Principal("l", frozenset({(AGENCY, Role.LUU_TRU)}), archive_units=frozenset({AGENCY, UNIT_B}))
    phong_archive = Principal("m", frozenset({(UNIT_B, Role.LUU_TRU)}), archive_units=frozenset({UNIT_B}))
    assert decide(archive, Action.TRANSFER, RecordFacts("f4", "hoso", AGENCY))
    assert decide(phong_archive, Action.TRANSFER, RecordFacts("f5", "hoso", UNIT_B))
    other = decide(phong_archive, Action.TRANSFER, hoso)
    assert not other and other.code == "FILE_OTHER_UNIT"
    # Asked without a hồ sơ (a menu), the role alone answers, as before.
    assert decide(phong_head, Action.FILE_KEEP_APPROVE)
