"""The gaps rv58 left open in who may act on what (review rv59, NOTES-rv58 "Open").

Each test drives the real app (Werkzeug's client on the ``client``/``app`` fixtures: a real local
store, real accounts made by ``kho_people``), the real ``kho`` CLI, or a real fixity run; nothing
of Kho is mocked. Each asserts the refusal (or, for the archive, the act now allowed) *and* what
was or was not written.

1. the agency's archive exports (and receipts) a phòng's archived hồ sơ it is listed as due;
2. sight received by a grant is not granted onward (``GRANT_NOT_YOURS``);
3. the agency's Danh mục hồ sơ is drafted by the agency's văn thư/lưu trữ (``AGENCY_HEAD_ONLY``);
4. a fixity notice names a damaged record only to who may know of it;
5. a phòng's head does not lock an account that also belongs elsewhere (``LOCK_OTHER_UNIT``);
6. ``/api/registers/<kind>/<year>`` refuses the years the page refuses (422 ``FIELD_INVALID``);
7. the directory of senders and the SIP import are the agency's acts (``AGENCY_HEAD_ONLY``)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People
from kho_retention import PLAN
from kho_submission import submitted_by_phong_b, taken_in
from kho_testing import incoming, pdf_bytes
from kho_web import cli_as, error_code, logged_in, text

from kho.errors import PermissionDenied
from kho.timeutil import vn_date
from repository.policy import LEAVING, Action, Principal, RecordFacts, Role, decide, may_hand_over, may_lock
from repository.records import SYSTEM, Record, content_key
from retention.sip import Transfers
from web.cli import main
from web.context import Kho

UNIT_C = "000.02.18.H40"
"""A third unit, beside phòng B under the agency."""


def _archived_phong_b_hoso(kho: Kho, people: People) -> Record:
    """A permanent hồ sơ of phòng B with one document, closed, submitted by its chuyên viên and
    taken in by the agency's archive on 06/01/2020 (``kho_submission``)."""
    submitted = submitted_by_phong_b(kho, people, maintenance="Vĩnh viễn")
    return taken_in(kho, submitted, archived_at="2020-01-06T02:00:00+00:00")


def _unit_c(kho: Kho, people: People) -> None:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.create_unit(UNIT_C, "Phòng Kế hoạch", "pkh", AGENCY, admin)


# -- 1. the agency's archive exports what it is listed as due -------------------------------------


def test_the_agency_archive_exports_a_phongs_archived_hoso_it_is_listed(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """Before: ``Transfers.due`` listed the hồ sơ to the agency's lưu trữ viên, and its export
    answered 404 ``NOT_FOUND`` (the hồ sơ was read as a record they *see*). Now the export and
    its receipt are decided on the archive's one rule; a lưu trữ viên of a unit beside is still
    answered as for an absent id, and nothing is written for them."""
    _unit_c(kho, people)
    people.add("luu_tru_c", "Lý Thị Cúc", UNIT_C, ("luu_tru",), 3)
    file = _archived_phong_b_hoso(kho, people)
    archived_on = vn_date(datetime.fromisoformat(file.extra["archived_at"]))
    when = archived_on.replace(year=archived_on.year + 5)
    due = Transfers(kho.repo).due(actor=people.actor("luu_tru"), today=when)
    assert [d.record_id for d in due] == [file.record_id], "listed to the agency's archive"

    beside = client.post(
        "/api/retention/transfers", json={"file_id": file.record_id}, headers=people.headers("luu_tru_c")
    )
    assert beside.status_code == 404 and error_code(beside) == "NOT_FOUND", beside.json
    absent = client.post(
        "/api/retention/transfers", json={"file_id": "f" * 24}, headers=people.headers("luu_tru_c")
    )
    said = beside.json["error"]["message"].replace(file.record_id, "f" * 24)
    assert said == absent.json["error"]["message"]
    assert [e for e in kho.repo.audit.events() if e.action == "transfer:export"] == []

    exported = client.post(
        "/api/retention/transfers", json={"file_id": file.record_id}, headers=people.headers("luu_tru")
    )
    assert exported.status_code == 201, exported.get_data(as_text=True)[:400]  # before: 404 NOT_FOUND
    transfer = exported.json["transfer_id"]
    listed = client.get("/api/retention/transfers", headers=people.headers("luu_tru"))
    assert transfer in listed.get_data(as_text=True), "the archive lists what it exported"
    assert transfer not in client.get(
        "/api/retention/transfers", headers=people.headers("luu_tru_c")
    ).get_data(as_text=True)

    other = client.post(
        f"/api/retention/transfers/{transfer}/receipt", json={"reference": "Biên bản số 07"},
        headers=people.headers("luu_tru_c"),
    )
    assert other.status_code == 404, other.json
    assert file.record_id not in other.get_data(as_text=True), "the hồ sơ's id is not named"
    done = client.post(
        f"/api/retention/transfers/{transfer}/receipt", json={"reference": "Biên bản số 07"},
        headers=people.headers("luu_tru"),
    )
    assert done.status_code == 200 and done.json["state"] == "received", done.json


def test_the_archive_rule_of_a_transfer() -> None:
    archived = RecordFacts("f1", "hoso", UNIT_B, state="archived")
    archive = Principal("l", frozenset({(AGENCY, Role.LUU_TRU)}), archive_units=frozenset({AGENCY, UNIT_B}))
    beside = Principal("c", frozenset({(UNIT_C, Role.LUU_TRU)}), archive_units=frozenset({UNIT_C}))
    assert decide(archive, Action.TRANSFER, archived)
    refused = decide(beside, Action.TRANSFER, archived)
    assert not refused and refused.code == "NOT_FOUND"
    # The agency's hồ sơ, archived: not a phòng's archive's, which sits below it.
    phong = Principal("m", frozenset({(UNIT_B, Role.LUU_TRU)}), archive_units=frozenset({UNIT_B}))
    assert not decide(phong, Action.TRANSFER, RecordFacts("f2", "hoso", AGENCY, state="archived"))
    # Not at the archive (closed, never submitted): only its holder, as before.
    assert not decide(archive, Action.TRANSFER, RecordFacts("f3", "hoso", UNIT_B, state="closed"))
    # Secrecy first.
    secret = RecordFacts("f4", "hoso", UNIT_B, secrecy=1, state="archived")
    assert not decide(archive, Action.TRANSFER, secret)


# -- 2. no re-sharing of sight received by a grant ------------------------------------------------


def test_a_reader_by_grant_does_not_grant_onward(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 3)
    doc = kho.repo.create_document(
        "den", incoming(code_number="5902", secrecy=1), pdf_bytes("rv59-g"), "g.pdf",
        people.actor("van_thu"),
    )
    given = client.post(
        f"/api/records/{doc.record_id}/grants", json={"users": [people.usernames["lanh_dao_b"]]},
        headers=people.headers("lanh_dao"),
    )
    assert given.status_code == 200, given.json
    reads = client.get(f"/api/records/{doc.record_id}", headers=people.headers("lanh_dao_b"))
    assert reads.status_code == 200

    onward = client.post(
        f"/api/records/{doc.record_id}/grants", json={"units": [UNIT_B]}, headers=people.headers("lanh_dao_b")
    )
    assert onward.status_code == 403, onward.get_data(as_text=True)[:300]  # before: 200, all of phòng B
    assert error_code(onward) == "GRANT_NOT_YOURS"
    assert "chỉ để xem" in onward.json["error"]["message"]
    after = kho.repo._load(doc.record_id)
    assert UNIT_B not in after.grant_units and after.grant_users == (people.usernames["lanh_dao_b"],)
    # The holder of the grant keeps reading it; the page offers them no "Phân quyền".
    reads = client.get(f"/api/records/{doc.record_id}", headers=people.headers("lanh_dao_b"))
    assert reads.status_code == 200
    page_b = logged_in(app, people, "lanh_dao_b").get(f"/records/{doc.record_id}")
    assert page_b.status_code == 200 and "Phân quyền" not in text(page_b)
    assert "Phân quyền" in text(logged_in(app, people, "lanh_dao").get(f"/records/{doc.record_id}"))
    # Phòng B's head grants phòng B's own documents.
    own = kho.repo.create_document(
        "den", incoming(code_number="5903"), pdf_bytes("rv59-own"), "o.pdf", people.actor("van_thu_b")
    )
    assert own.unit == UNIT_B
    shared = client.post(
        f"/api/records/{own.record_id}/grants", json={"users": [people.usernames["chuyen_vien"]]},
        headers=people.headers("lanh_dao_b"),
    )
    assert shared.status_code == 200, shared.json


def test_the_grant_rule_counts_sight_by_ones_own_unit_only() -> None:
    head_b = Principal("b", frozenset({(UNIT_B, Role.LANH_DAO)}), led_units=frozenset({UNIT_B}))
    granted = RecordFacts("r1", "den", AGENCY, grant_users=frozenset({"b"}))
    refused = decide(head_b, Action.RECORD_GRANT, granted)
    assert not refused and refused.code == "GRANT_NOT_YOURS"
    by_unit = RecordFacts("r2", "den", AGENCY, grant_units=frozenset({UNIT_B}))
    assert decide(head_b, Action.RECORD_GRANT, by_unit).code == "GRANT_NOT_YOURS"
    assert decide(head_b, Action.RECORD_GRANT, RecordFacts("r3", "den", UNIT_B))
    top = Principal("a", frozenset({(AGENCY, Role.LANH_DAO)}), led_units=frozenset({AGENCY, UNIT_B}))
    assert decide(top, Action.RECORD_GRANT, RecordFacts("r4", "den", UNIT_B)), "the unit above"
    admin = Principal("q", frozenset({(UNIT_B, Role.QUAN_TRI)}))
    assert decide(admin, Action.RECORD_GRANT, granted), "a quản trị grants without reading"


# -- 3. drafting the agency's Danh mục hồ sơ ---------------------------------------------------------


def test_a_phongs_van_thu_does_not_draft_the_agencys_plan(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0)
    for who in ("van_thu_b", "luu_tru_b"):
        drafted = client.post("/api/plans", json=PLAN, headers=people.headers(who))
        assert drafted.status_code == 403, (who, drafted.get_data(as_text=True)[:300])  # before: 201
        assert error_code(drafted) == "AGENCY_HEAD_ONLY"
        assert "văn thư hoặc lưu trữ viên của cơ quan" in drafted.json["error"]["message"]
    assert client.get("/api/plans/2026", headers=people.headers("van_thu")).status_code == 404, "none"
    page_b = logged_in(app, people, "van_thu_b").get("/plans")
    page_a = logged_in(app, people, "van_thu").get("/plans")
    assert page_b.status_code == 200 and page_a.status_code == 200
    assert 'name="year"' not in text(page_b) and 'name="year"' in text(page_a)
    for who in ("van_thu", "luu_tru"):
        plan = {**PLAN, "year": 2026 if who == "van_thu" else 2027}
        made = client.post("/api/plans", json=plan, headers=people.headers(who))
        assert made.status_code == 201, (who, made.json)


# -- 4. fixity notices name a record only to who may know of it ------------------------------------


def test_a_fixity_notice_names_a_damaged_record_only_to_who_may_know_of_it(
    kho: Kho, people: People
) -> None:
    from retention.operations import run_fixity

    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 3)
    agency_doc = kho.repo.create_document(
        "den", incoming(code_number="5904"), pdf_bytes("rv59-fa"), "a.pdf", people.actor("van_thu")
    )
    phong_doc = kho.repo.create_document(
        "den", incoming(code_number="5905"), pdf_bytes("rv59-fb"), "b.pdf", people.actor("van_thu_b")
    )
    assert [kho.repo.facts(d).unit for d in (agency_doc, phong_doc)] == [AGENCY, UNIT_B]
    keys = {}
    for doc in (agency_doc, phong_doc):
        key = content_key(doc.record_id, doc.files[0].sha256)
        path = Path(kho.settings.data_dir) / "store" / "objects" / key
        data = path.read_bytes()
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))  # one bit
        keys[doc.record_id] = key
    run_fixity(kho.repo, kho.settings, people.actor("luu_tru"), today=date(2026, 12, 7), period_days=1)

    def notes(who: str) -> list[str]:
        return [n.message for n in kho.accounts.notifications(people.usernames[who]) if n.kind == "fixity"]

    admin = notes("quan_tri")
    assert len(admin) == 1 and all(k in admin[0] for k in keys.values()), admin
    assert "CHƯA SỬA ĐƯỢC 2" in admin[0]
    phong = notes("luu_tru_b")
    assert len(phong) == 1, phong
    # before: both ids, to phòng B too
    assert keys[phong_doc.record_id] in phong[0] and agency_doc.record_id not in phong[0], phong
    assert "CHƯA SỬA ĐƯỢC 1" in phong[0]
    agency = notes("luu_tru")
    assert len(agency) == 1 and phong_doc.record_id not in agency[0], agency
    alert = [e for e in kho.repo.audit.events() if e.action == "fixity:alert"]
    assert set(alert[-1].details["unrepaired"]) == set(keys.values()), "the log keeps every one"

    # A notice about nothing they may know of is not sent: the agency's document alone.
    people.add("luu_tru_b2", "Đinh Văn Lực", UNIT_B, ("luu_tru",), 3)
    notified = _fixity_alert_of(kho, [keys[agency_doc.record_id]])
    assert people.usernames["luu_tru_b2"] not in notified  # before: told, with the id
    assert people.usernames["quan_tri"] in notified and people.usernames["luu_tru"] in notified
    assert notes("luu_tru_b2") == []


def _fixity_alert_of(kho: Kho, damaged: list[str]) -> tuple[str, ...]:
    from retention.fixity import FixityReport
    from retention.operations import alert_fixity

    report = FixityReport(checked=len(damaged), bytes=0, damaged=tuple(damaged), repaired=(), seconds=0.0)
    return alert_fixity(kho.repo, kho.settings, SYSTEM, report)


# -- 5. a phòng's head does not lock an account that belongs elsewhere too -------------------------


def test_a_phongs_head_does_not_lock_an_account_that_also_belongs_elsewhere(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 0)
    both = people.add("both", "Vũ Thị Hai", UNIT_B, ("chuyen_vien",), 0)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(both.username, [(UNIT_B, Role.CHUYEN_VIEN), (AGENCY, Role.VAN_THU)], admin)

    locked = client.post(
        f"/api/accounts/{both.username}/lock", json={"reason": LEAVING}, headers=people.headers("lanh_dao_b")
    )
    assert locked.status_code == 403, locked.get_data(as_text=True)[:300]  # before: 200, locked
    assert error_code(locked) == "LOCK_OTHER_UNIT"
    assert kho.accounts.get(both.username).active, "still open"
    handover = client.post(
        "/api/retention/handover", json={"from": both.username, "to": people.usernames["chuyen_vien_b"]},
        headers=people.headers("lanh_dao_b"),
    )
    assert handover.status_code == 403 and error_code(handover) == "HANDOVER_NOT_YOURS", handover.json

    # Someone of phòng B only: phòng B's head locks them; the agency's head locks the other.
    only_b = client.post(
        f"/api/accounts/{people.usernames['chuyen_vien_b']}/lock", json={"reason": LEAVING},
        headers=people.headers("lanh_dao_b"),
    )
    assert only_b.status_code == 200, only_b.json
    top = client.post(
        f"/api/accounts/{both.username}/lock", json={"reason": LEAVING}, headers=people.headers("lanh_dao")
    )
    assert top.status_code == 200, top.json


def test_the_lock_rule_needs_every_unit_of_the_target() -> None:
    below = {
        AGENCY: frozenset({AGENCY, UNIT_B, UNIT_C}), UNIT_B: frozenset({UNIT_B}), UNIT_C: frozenset({UNIT_C})
    }

    def units_below(unit: str) -> frozenset[str]:
        return below.get(unit, frozenset())

    head_b = Principal("b", frozenset({(UNIT_B, Role.LANH_DAO)}), led_units=frozenset({UNIT_B}))
    refused = may_lock(head_b, units_below, {UNIT_B, AGENCY}, LEAVING)
    assert not refused and refused.code == "LOCK_OTHER_UNIT"
    assert may_lock(head_b, units_below, {UNIT_B}, LEAVING)
    assert not may_lock(head_b, units_below, {UNIT_C}, LEAVING)
    assert may_hand_over(head_b, units_below, {UNIT_B, UNIT_C}).code == "HANDOVER_NOT_YOURS"
    both_heads = Principal("bc", frozenset({(UNIT_B, Role.LANH_DAO), (UNIT_C, Role.LANH_DAO)}))
    assert may_lock(both_heads, units_below, {UNIT_B, UNIT_C}, LEAVING)
    admin = Principal("q", frozenset({(AGENCY, Role.QUAN_TRI)}))
    assert may_lock(admin, units_below, {UNIT_B, AGENCY}, "admin")


# -- 6. one rule for a register's year ----------------------------------------------------------


@pytest.mark.parametrize("year", ["0", "9" * 30, "00000"])
def test_the_api_refuses_a_registers_year_as_the_page_does(
    app: Flask, client: FlaskClient, kho: Kho, people: People, year: str
) -> None:
    listed = len([e for e in kho.repo.audit.events() if e.action == "register:list"])
    api = client.get(f"/api/registers/den/{year}", headers=people.headers("van_thu"))
    assert api.status_code == 422, (api.status_code, api.get_data(as_text=True)[:200])  # before: 200, []
    assert error_code(api) == "FIELD_INVALID"
    page = logged_in(app, people, "van_thu").get("/registers", query_string={"year": year})
    assert page.status_code == 422 and page.headers.get("X-Kho-Error") == "FIELD_INVALID"
    assert api.json["error"]["message"] in text(page), "one message"
    assert len([e for e in kho.repo.audit.events() if e.action == "register:list"]) == listed
    assert client.get("/api/registers/den/2026", headers=people.headers("van_thu")).status_code == 200


# -- 7. the agency's directory of senders and the SIP import ---------------------------------------


def test_a_phongs_van_thu_does_not_add_to_the_agencys_directory(kho: Kho, people: People) -> None:
    with pytest.raises(PermissionDenied) as refused:
        kho.repo.add_agency("000.00.99.H40", "Sở Thử nghiệm", people.actor("van_thu_b"))
    assert refused.value.code == "AGENCY_HEAD_ONLY"  # before: added
    runner = cli_as(people, "van_thu_b")
    done = runner.invoke(main, ["agency", "add", "000.00.98.H40", "Sở Thử nghiệm hai"])
    assert done.exit_code != 0 and "AGENCY_HEAD_ONLY" in done.output + done.stderr, done.output
    assert [e for e in kho.repo.audit.events() if e.action == "agency:add"] == []
    kho.repo.add_agency("000.00.99.H40", "Sở Thử nghiệm", people.actor("van_thu"))
    added = [e.actor for e in kho.repo.audit.events() if e.action == "agency:add"]
    assert added == [people.usernames["van_thu"]]


def test_a_phongs_archivist_does_not_import_another_agencys_package(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    import io

    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0)
    package = b"PK\x03\x04 not really a package"
    refused = client.post(
        "/api/retention/transfers/import", data={"file": (io.BytesIO(package), "goi.zip")},
        headers=people.headers("luu_tru_b"), content_type="multipart/form-data",
    )
    assert refused.status_code == 403, refused.get_data(as_text=True)[:300]  # before: the package checked
    assert error_code(refused) == "AGENCY_HEAD_ONLY"
    assert [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")] == []
    agency = client.post(
        "/api/retention/transfers/import", data={"file": (io.BytesIO(package), "goi.zip")},
        headers=people.headers("luu_tru"), content_type="multipart/form-data",
    )
    assert agency.status_code == 422, agency.json  # checked, and refused as no package
    page_b = text(logged_in(app, people, "luu_tru_b").get("/retention"))
    page_a = text(logged_in(app, people, "luu_tru").get("/retention"))
    assert "Kiểm tra gói tin nhận được" not in page_b and "Kiểm tra gói tin nhận được" in page_a
    assert "Lập và xuất gói tin SIP" in page_b, "a phòng's archive still exports its own hồ sơ"
