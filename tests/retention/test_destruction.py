"""Destruction end to end: listed, council, minutes, appraisal, decision, re-authenticated
execution by crypto-shredding; refusals carry codes and leave nothing half-done."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from index_traces import index_traces
from kho_people import AGENCY, PASSWORD, UNIT_B, People, create_person
from kho_retention import SECRET_WORD, Clock, closed_file, council_ready, search_count
from kho_testing import incoming, pdf_bytes

from ingest.indexing import check_index, reindex_all
from kho.errors import KeyDestroyed, KhoError, LegalHold, PermissionDenied
from kho.timeutil import vn_date
from repository.fsck import fsck
from repository.records import DESTROYED_PLACEHOLDER
from retention.destruction import Destructions, review_list
from retention.holds import Holds
from web.context import Kho


def test_a_year_later_the_expired_file_is_destroyed_and_only_its_row_remains(
    kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people)
    kept, _ = closed_file(kho, people, notation="02.TCCB", maintenance="Vĩnh viễn", words="giữlại")
    young, _ = closed_file(kho, people, notation="03.TCCB", maintenance="20 năm", words="cònhạn")
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    listed = review_list(kho.repo, actor=archivist, today=kho.repo.clock().date())
    assert [c.record_id for c in listed] == [file.record_id]
    assert search_count(kho, people, SECRET_WORD) == 2

    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "Quyết định số 09/QĐ-UBND ngày 20/02/2027", approve=True, actor=head)
    with pytest.raises(KhoError) as wrong:
        d.execute(case["case_id"], "sai-mật-khẩu", actor=archivist)
    assert wrong.value.code == "LOGIN_FAILED"
    assert d.cases.latest(case["case_id"])["state"] == "decided"  # nothing done
    done = d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert done["state"] == "done"

    repo = kho.repo
    for rid in [*docs, file.record_id]:
        assert not repo.keys.exists(rid)
        assert repo.destroyed(rid) is not None
        assert not list(repo.store.list(f"records/{rid}/derived/"))
        with pytest.raises(KeyDestroyed):
            repo.keys.get(rid)
    assert repo.get(docs[0], actor=head).state == "destroyed"
    assert repo.get(docs[0], actor=head).metadata.subject == DESTROYED_PLACEHOLDER  # type: ignore[union-attr]
    rows = repo.register("den", 2027, actor=head)
    assert {r.record_id for r in rows if r.state == "destroyed"} == set(docs)
    assert search_count(kho, people, SECRET_WORD) == 0
    assert search_count(kho, people, "giữlại") == 2 and search_count(kho, people, "cònhạn") == 2
    index_dir = kho.settings.data_dir / "index"
    index_files = b"".join(p.read_bytes() for p in index_dir.rglob("*") if p.is_file())
    assert SECRET_WORD.encode() not in index_files

    dossier = d.dossier(case["case_id"], actor=archivist)
    assert set(dossier) >= {
        "danh_muc",
        "thuyet_minh",
        "quyet_dinh_thanh_lap_hoi_dong",
        "bien_ban_hop",
        "tham_dinh",
        "quyet_dinh_huy",
        "bien_ban_huy",
    }
    kept_dossier = repo.get(done["execution"]["dossier_file_id"], actor=archivist)
    assert kept_dossier.metadata.maintenance == "20 năm"  # type: ignore[union-attr]

    assert fsck(repo, deep=True).clean
    assert reindex_all(repo, kho.backend).total >= 7
    assert check_index(repo, kho.backend).ok
    assert repo.audit.verify().ok
    actions = [e.action for e in repo.audit.events() if e.action.startswith("destruction:")]
    assert actions == [
        "destruction:propose",
        "destruction:attested",  # each council step, per hồ sơ, in the sealed log (rv38)
        "destruction:council",
        "destruction:attested",
        "destruction:review",
        "destruction:attested",
        "destruction:review",
        "destruction:attested",
        "destruction:review",
        "destruction:attested",
        "destruction:minutes",
        "destruction:attested",
        "destruction:appraisal",
        "destruction:attested",
        "destruction:decide",
        "destruction:approved",
        "destruction:execute-start",
        "destruction:done",
    ]
    assert kept.record_id and young.record_id


def test_wrong_roles_are_refused_with_codes(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(PermissionDenied):
        d.propose([file.record_id], "x", actor=people.actor("chuyen_vien"))
    with pytest.raises(PermissionDenied):
        d.propose([file.record_id], "x", actor=people.actor("quan_tri"))
    d, case = council_ready(kho, people, [file.record_id])
    with pytest.raises(PermissionDenied):
        d.decide(case["case_id"], "QĐ 1", approve=True, actor=people.actor("luu_tru"))
    with pytest.raises(PermissionDenied):
        d.decide(case["case_id"], "QĐ 1", approve=True, actor=people.actor("quan_tri"))
    with pytest.raises(KhoError) as early:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert early.value.code == "DESTRUCTION_WRONG_STATE"
    case = d.decide(case["case_id"], "QĐ 1", approve=True, actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied):
        d.execute(case["case_id"], PASSWORD, actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied):
        d.execute(case["case_id"], PASSWORD, actor=people.actor("quan_tri"))
    assert kho.repo.keys.exists(file.record_id)


def test_an_outsider_cannot_review_and_minutes_wait_for_every_member(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    case = d.propose([file.record_id], "Hết hạn", actor=people.actor("luu_tru"))
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    case = d.establish_council(case["case_id"], members, "QĐ 05", actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied) as outsider:
        d.review(case["case_id"], "agree", actor=people.actor("van_thu"))
    assert outsider.value.code == "COUNCIL_MEMBER_REQUIRED"
    d.review(case["case_id"], "agree", actor=people.actor("luu_tru"))
    with pytest.raises(KhoError) as early:
        d.record_minutes(case["case_id"], "Biên bản", actor=people.actor("luu_tru"))
    assert early.value.code == "REVIEWS_INCOMPLETE"


def test_not_expired_items_cannot_be_proposed(kho: Kho, people: People) -> None:
    young, _ = closed_file(kho, people, maintenance="20 năm")
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(KhoError) as info:
        d.propose([young.record_id], "Đề nghị", actor=people.actor("luu_tru"))
    assert info.value.code == "RETENTION_NOT_EXPIRED" and "thời hạn bảo quản" in info.value.message
    assert not list(kho.repo.store.list("retention/destruction/"))


def test_a_closed_files_retention_is_not_edited_to_make_it_expire(kho: Kho, people: People) -> None:
    """Backdating: the end date and thời hạn bảo quản of a closed hồ sơ decide when it may be
    destroyed; they are not edited in place (reopening, with its reason, is the way)."""
    young, _ = closed_file(kho, people, maintenance="20 năm")
    for changes in ({"maintenance": "05 năm"}, {"end_date": "2001-12-31"}, {"title": "Đổi tên"}):
        with pytest.raises(KhoError) as info:
            kho.repo.update_metadata(
                young.record_id, changes, expected_version=young.version, actor=people.actor("chuyen_vien")
            )
        assert info.value.code == "FILE_CLOSED" and "mở lại" in info.value.message
    assert kho.repo._load(young.record_id).version == young.version  # nothing written
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(KhoError) as proposed:
        d.propose([young.record_id], "Đề nghị", actor=people.actor("luu_tru"))
    assert proposed.value.code == "RETENTION_NOT_EXPIRED"


def test_a_file_is_not_closed_on_a_day_before_its_last_document_to_make_it_expire(
    kho: Kho, people: People
) -> None:
    """Backdating at the closing: the retention period runs from the year the work ended, so a
    hồ sơ of 20 năm whose documents are of 2015, closed "on 31/12/2001" (its start date moved to
    2001 first), would be listed for destruction at once. The end date may not be before the
    hồ sơ's last document: refused with a code, nothing written, nothing listed."""
    file, _ = closed_file(kho, people, maintenance="20 năm", end="")
    officer = people.actor("chuyen_vien")
    file = kho.repo.update_metadata(
        file.record_id, {"start_date": "2001-01-01"}, expected_version=file.version, actor=officer
    )
    with pytest.raises(KhoError) as info:
        kho.retention.close_file(
            file.record_id, end_date=date(2001, 12, 31), expected_version=file.version, actor=officer
        )
    assert info.value.code == "FILE_END_BEFORE_DOCUMENTS" and "02/03/2015" in info.value.message
    assert kho.repo._load(file.record_id).state == "active"
    today = kho.repo.clock().date()
    assert review_list(kho.repo, actor=people.actor("luu_tru"), today=today) == []
    closed = kho.retention.close_file(
        file.record_id, end_date=date(2015, 3, 2), expected_version=file.version, actor=officer
    )
    assert closed.state == "closed"
    assert review_list(kho.repo, actor=people.actor("luu_tru"), today=today) == []


def test_a_file_opened_from_the_plan_keeps_the_plans_period_whatever_its_year_or_number_becomes(
    kho: Kho, people: People
) -> None:
    """The closing re-checks the thời hạn bảo quản against the Danh mục hồ sơ. A chuyên viên who
    shortens a plan's 20-year hồ sơ to 05 năm is refused; moving its start date into a year with
    no plan, or its số, ký hiệu to a row the plan lacks, does not lose the plan's period."""
    from kho_testing import incoming, pdf_bytes

    service, clerk, head = kho.retention, people.actor("van_thu"), people.actor("lanh_dao")
    plan = service.draft_plan(
        {
            "year": 2027,
            "headings": [{"number": "I", "title": "Tổng hợp", "abbreviation": "TH"}],
            "items": [
                {
                    "notation": "01.TH",
                    "title": "Hồ sơ thanh tra công vụ",
                    "maintenance": "20 năm",
                    "creator": "Văn phòng",
                    "heading": "I",
                }
            ],
        },
        actor=clerk,
    )
    plan = service.approve_plan(2027, expected_version=plan.version, actor=head)
    service.issue_plan(2027, expected_version=plan.version, actor=head)
    officer = people.actor("chuyen_vien")
    file = service.open_file(2027, "01.TH", actor=officer, start_date=date(2027, 1, 4))
    doc = kho.repo.create_document(
        "den", incoming(code_number="4321", issued_date="2027-01-05"), pdf_bytes("tt"), "tt.pdf", clerk
    )
    file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=officer)
    for moved in ({"start_date": "2026-12-01"}, {"file_notation": "99.TH"}):
        edited = kho.repo.update_metadata(
            file.record_id, {"maintenance": "05 năm", **moved}, expected_version=file.version, actor=officer
        )
        with pytest.raises(KhoError) as info:
            service.close_file(
                file.record_id, end_date=date(2027, 2, 1), expected_version=edited.version, actor=officer
            )
        assert info.value.code == "RETENTION_BELOW_PLAN" and "20 năm" in info.value.message
        file = kho.repo.update_metadata(
            file.record_id,
            {"maintenance": "20 năm", "start_date": "2027-01-04", "file_notation": "01.TH"},
            expected_version=edited.version,
            actor=officer,
        )
    closed = service.close_file(
        file.record_id, end_date=date(2027, 2, 1), expected_version=file.version, actor=officer
    )
    assert closed.state == "closed" and closed.metadata.maintenance == "20 năm"  # type: ignore[union-attr]


def test_a_document_taken_out_of_the_file_after_the_decision_is_not_destroyed(
    kho: Kho, people: People
) -> None:
    """The decided danh mục lists the hồ sơ with its documents. A document taken out of the hồ
    sơ after the decision (reopen, remove, close again) and held by no other hồ sơ is no longer
    what was decided: execution is refused with a code and nothing is destroyed."""
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 10", approve=True, actor=people.actor("lanh_dao"))
    officer = people.actor("chuyen_vien")
    reopened = kho.retention.reopen_file(
        file.record_id, reason="Rút văn bản còn giá trị", expected_version=file.version, actor=officer
    )
    removed = kho.repo.remove_from_file(
        file.record_id, docs[1], expected_version=reopened.version, actor=officer
    )
    kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=removed.version, actor=officer
    )
    with pytest.raises(KhoError) as refused:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert refused.value.code == "DESTRUCTION_DOCUMENT_REMOVED" and refused.value.http_status == 409
    assert docs[1] in refused.value.message
    assert all(kho.repo.keys.exists(r) for r in [*docs, file.record_id])  # nothing destroyed
    assert kho.repo._load(docs[1]).state != "destroyed"


def test_a_hold_placed_after_the_decision_blocks_execution_even_for_an_admin(
    kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    holds = Holds(kho.repo)
    order = holds.place([docs[1]], "Thanh tra đang xác minh", actor=people.actor("luu_tru"))
    with pytest.raises(KhoError) as held:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert held.value.code == "LEGAL_HOLD"
    assert all(kho.repo.keys.exists(r) for r in [*docs, file.record_id])  # nothing half-done
    admin = people.actor("quan_tri")
    with pytest.raises(LegalHold):
        kho.repo.destroy(docs[1], decision="QĐ 09", actor=admin)
    with pytest.raises(LegalHold):  # the hold covers the hồ sơ's document: no change either
        version = kho.repo._load(docs[1]).version
        kho.repo.update_metadata(
            docs[1], {"subject": "Sửa"}, expected_version=version, actor=people.actor("van_thu")
        )
    with pytest.raises(PermissionDenied):
        holds.release(order["order_id"], "Hết xác minh", actor=people.actor("chuyen_vien"))
    holds.release(order["order_id"], "Thanh tra kết thúc", actor=people.actor("lanh_dao"))
    released = [e for e in kho.repo.audit.events() if e.action == "hold:release"]
    assert [(e.record_id, e.actor) for e in released] == [(docs[1], people.usernames["lanh_dao"])]
    assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"


def _person_of_unit_b(kho: Kho, people: People, who: str, full_name: str, role: str) -> None:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    account, _ = create_person(kho.accounts, full_name, UNIT_B, (role,), 0, None, admin, confirmer=head)
    people.usernames[who] = account.username


def test_another_units_leader_and_archivist_take_no_destruction_step_on_a_file_shared_with_them(
    kho: Kho, people: People
) -> None:
    """The lãnh đạo and lưu trữ viên of phòng B, with the agency's hồ sơ shared with phòng B to
    read, neither propose it, nor set up the council or decide its destruction, nor shred it:
    a grant is sight, not a say over another unit's records (refused and audited, nothing
    written); the agency's own lưu trữ viên and lãnh đạo go on with the same case."""
    _person_of_unit_b(kho, people, "lanh_dao_b", "Vũ Văn Bình", "lanh_dao")
    _person_of_unit_b(kho, people, "luu_tru_b", "Đinh Thị Lan", "luu_tru")
    file, docs = closed_file(kho, people)
    kho.repo.grant(file.record_id, units=(UNIT_B,), actor=people.actor("lanh_dao"))
    leader_b, archivist_b = people.actor("lanh_dao_b"), people.actor("luu_tru_b")
    assert kho.repo.may_see(leader_b, kho.repo._load(file.record_id))
    assert kho.repo.may_see(archivist_b, kho.repo._load(file.record_id))
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(PermissionDenied) as proposed:
        d.propose([file.record_id], "Hết hạn", actor=archivist_b)
    assert proposed.value.code == "DESTRUCTION_OTHER_UNIT"
    assert not list(kho.repo.store.list("retention/destruction/"))

    case = d.propose([file.record_id], "Hết hạn", actor=people.actor("luu_tru"))
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    with pytest.raises(PermissionDenied) as council:
        d.establish_council(case["case_id"], members, "QĐ 05", actor=leader_b)
    assert council.value.code == "DESTRUCTION_OTHER_UNIT"
    d2, case = council_ready(kho, people, [file.record_id])
    with pytest.raises(PermissionDenied) as decided:
        d2.decide(case["case_id"], "QĐ 09", approve=True, actor=leader_b)
    assert decided.value.code == "DESTRUCTION_OTHER_UNIT"
    assert d2.cases.latest(case["case_id"])["state"] == "reviewed"
    case = d2.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied) as executed:
        d2.execute(case["case_id"], PASSWORD, actor=archivist_b)
    assert executed.value.code == "DESTRUCTION_OTHER_UNIT"
    assert d2.cases.latest(case["case_id"])["state"] == "decided"
    assert all(kho.repo.keys.exists(rid) for rid in [*docs, file.record_id])
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert {e.actor for e in denied} >= {leader_b.user, archivist_b.user}
    assert d2.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"


def test_the_destruction_dossier_is_closed_so_its_story_and_its_20_years_are_not_edited(
    kho: Kho, people: People
) -> None:
    """The hồ sơ hủy tài liệu (kept at least 20 years, STANDARDS §4.3) was left open: any
    chuyên viên of the unit could retitle it and cut its period to 01 năm. It is closed on the
    day of the destruction, so its data is changed only by an audited reopening."""
    file, _ = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    done = d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    dossier = kho.repo._load(done["execution"]["dossier_file_id"])
    assert dossier.state == "closed"
    assert dossier.metadata.end_date == kho.repo.clock().date()  # type: ignore[union-attr]
    with pytest.raises(KhoError) as info:
        kho.repo.update_metadata(
            dossier.record_id,
            {"maintenance": "01 năm", "title": "Hồ sơ khác"},
            expected_version=dossier.version,
            actor=people.actor("chuyen_vien"),
        )
    assert info.value.code == "FILE_CLOSED"
    assert kho.repo._load(dossier.record_id).metadata.maintenance == "20 năm"  # type: ignore[union-attr]
    assert d.dossier(case["case_id"], actor=people.actor("luu_tru"))["quyet_dinh_huy"]["ref"] == "QĐ 09"


def test_a_decision_deadline_is_within_15_days_of_the_decision(
    kho: Kho, people: People, clock: Clock
) -> None:
    """TT 06/2025 (STANDARDS §4.3): the documents are destroyed at the latest 15 days after the
    decision. A deadline later than that, or before the decision, is refused with a stable code
    and a Vietnamese message, and nothing is decided; the 15th day is accepted."""
    file, _ = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    head = people.actor("lanh_dao")
    today = vn_date(clock())
    for asked, code in (
        (today + timedelta(days=16), "DEADLINE_TOO_LATE"),
        (date(2099, 12, 31), "DEADLINE_TOO_LATE"),
        (today - timedelta(days=1), "DEADLINE_PAST"),
    ):
        with pytest.raises(KhoError) as info:
            d.decide(case["case_id"], "QĐ 09", approve=True, deadline=asked, actor=head)
        assert info.value.code == code and "Thời hạn thực hiện hủy" in info.value.message
        assert d.cases.latest(case["case_id"])["state"] == "reviewed"
    decided = d.decide(
        case["case_id"], "QĐ 09", approve=True, deadline=today + timedelta(days=15), actor=head
    )
    assert decided["decision"]["deadline"] == (today + timedelta(days=15)).isoformat()


def _file_with_a_secret_document(kho: Kho, people: People) -> tuple[str, str]:
    """An expired Thường hồ sơ of the agency holding a Mật document (closed by the lãnh đạo,
    who is cleared for it)."""
    file, _ = closed_file(kho, people, end="", notation="11.MAT")
    secret = kho.repo.create_document(
        "den",
        incoming(
            code_number="9911", issued_date="2015-03-02", subject="Phương án xử lý vụ việc XYZ", secrecy=1
        ),
        pdf_bytes("secret-9911"),
        "mat.pdf",
        people.actor("van_thu"),
    )
    head = people.actor("lanh_dao")
    file = kho.repo.add_to_file(file.record_id, secret.record_id, expected_version=file.version, actor=head)
    kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=head
    )
    return file.record_id, secret.record_id


def test_a_secret_document_is_not_destroyed_by_someone_not_cleared_for_it(kho: Kho, people: People) -> None:
    """A lưu trữ viên cleared for Thường does not propose the destruction of an expired Thường hồ sơ
    holding a Mật document, a lãnh đạo cleared for Thường does not set up its council or decide
    it, and a lưu trữ viên cleared for Thường does not execute it: each step checks every
    document, not only the hồ sơ. The refusal names neither the document nor its title, and it
    is audited (ND30 Phụ lục VI III.3.b: access is decided per hồ sơ and per văn bản)."""
    file_id, secret_id = _file_with_a_secret_document(kho, people)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    cleared_archivist, _ = create_person(
        kho.accounts, "Mai Thu Lưu", AGENCY, ("luu_tru",), 1, None, admin, confirmer=head
    )
    plain_head, _ = create_person(
        kho.accounts, "Tạ Văn Đạo", AGENCY, ("lanh_dao",), 0, None, admin, confirmer=head
    )
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    with pytest.raises(PermissionDenied) as refused:
        d.propose([file_id], "Hết thời hạn bảo quản.", actor=people.actor("luu_tru"))
    assert refused.value.code == "DESTRUCTION_SECRECY_DENIED"
    assert "XYZ" not in refused.value.message and secret_id not in refused.value.message
    assert not d.cases.all()
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert denied[-1].actor == people.usernames["luu_tru"] and denied[-1].record_id == file_id
    assert denied[-1].details["code"] == "DESTRUCTION_SECRECY_DENIED"

    archivist = kho.actor_of(cleared_archivist, "test")
    case = d.propose([file_id], "Hết thời hạn bảo quản.", actor=archivist)
    members = [people.usernames["lanh_dao"], cleared_archivist.username, people.usernames["chuyen_vien"]]
    with pytest.raises(PermissionDenied) as council:
        d.establish_council(case["case_id"], members, "QĐ 05", actor=kho.actor_of(plain_head, "test"))
    assert council.value.code == "DESTRUCTION_SECRECY_DENIED"
    case = d.establish_council(case["case_id"], members, "QĐ 05", actor=people.actor("lanh_dao"))
    for member in (people.actor("lanh_dao"), archivist, people.actor("chuyen_vien")):
        case = d.review(case["case_id"], "agree", "Đồng ý", actor=member)
    case = d.record_minutes(case["case_id"], "Biên bản họp", actor=archivist)
    case = d.attach_appraisal(case["case_id"], "Thẩm định", actor=archivist)
    with pytest.raises(PermissionDenied) as decided:
        d.decide(case["case_id"], "QĐ 09", approve=True, actor=kho.actor_of(plain_head, "test"))
    assert decided.value.code == "DESTRUCTION_SECRECY_DENIED"
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    with pytest.raises(PermissionDenied) as executed:
        d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))
    assert executed.value.code == "DESTRUCTION_SECRECY_DENIED"
    assert kho.repo.keys.exists(secret_id) and d.cases.latest(case["case_id"])["state"] == "decided"


@pytest.mark.parametrize("kho", ["local", pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_after_a_reindex_a_destroyed_text_leaves_no_trace_in_the_embedded_index(
    kho: Kho, people: People
) -> None:
    """A reindex writes the index in few large segments, the destroyed documents among the
    others; a Tantivy delete only marks them dead there, terms and positions kept (review a14:
    doc_freq of their words was still 2 after the execution, which the byte grep above misses,
    the term dictionary being an FST)."""
    file, _ = closed_file(kho, people)
    closed_file(kho, people, notation="02.TCCB", maintenance="Vĩnh viễn", words="giữlại")
    assert reindex_all(kho.repo, kho.backend).total >= 6
    assert index_traces(kho.backend, SECRET_WORD) > 0  # (two documents, two fields each)
    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"
    assert index_traces(kho.backend, SECRET_WORD) == 0
    assert search_count(kho, people, SECRET_WORD) == 0 and search_count(kho, people, "giữlại") == 2
    assert check_index(kho.repo, kho.backend).ok
