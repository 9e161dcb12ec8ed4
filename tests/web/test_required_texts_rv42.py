"""Required reasons and texts made only of invisible characters (rv42).

``str.strip`` keeps U+200B, U+2060, U+FEFF and the soft hyphen, so a reason typed as a
zero-width space passed every check that used it and was recorded as the reason. Each
required text is now checked with :func:`repository.vocabulary.blank`: refused with the
site's own code and message, nothing written. Through the real API (Flask test client) or
the service the existing tests of each site use, on the local store."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError
from repository.acknowledge import AcknowledgeReasonInvalid, clean_reason
from retention.destruction import Destructions
from retention.recall import Recalls
from retention.service import FileState
from web.context import Kho

INVISIBLE = ["\u200b", "\u2060\ufeff", " \u00ad\u200b "]
"""Texts that show nothing: zero-width space, word joiner + BOM, soft hyphen between spaces."""


def _refused(answer: Any, code: str) -> None:
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert error["code"] == code, error
    assert not error["message"].isascii(), "a Vietnamese message"


@pytest.mark.parametrize("reason", INVISIBLE)
def test_a_hold_with_an_invisible_reason_is_refused_and_none_is_placed(
    client: FlaskClient, kho: Kho, people: People, reason: str
) -> None:
    file, _docs = closed_file(kho, people)
    h = people.headers
    placed = client.post(
        "/api/retention/holds", json={"record_ids": [file.record_id], "reason": reason}, headers=h("lanh_dao")
    )
    _refused(placed, "HOLD_REASON_REQUIRED")
    assert client.get("/api/retention/holds", headers=h("lanh_dao")).json["total"] == 0
    assert kho.repo.holds_on(file.record_id) == []


def test_a_hold_is_not_lifted_with_an_invisible_reason_and_is_with_a_real_one(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, _docs = closed_file(kho, people)
    h = people.headers
    order = client.post(
        "/api/retention/holds",
        json={"record_ids": [file.record_id], "reason": "Thanh tra tỉnh yêu cầu"},
        headers=h("lanh_dao"),
    )
    assert order.status_code == 201
    release = f"/api/retention/holds/{order.json['order_id']}/release"
    for reason in INVISIBLE:
        _refused(client.post(release, json={"reason": reason}, headers=h("lanh_dao")), "HOLD_REASON_REQUIRED")
    assert len(kho.repo.holds_on(file.record_id)) == 1, "still held"
    lifted = client.post(release, json={"reason": "Đã kết thúc thanh tra"}, headers=h("lanh_dao"))
    assert lifted.status_code == 200 and lifted.json["state"] == "released"
    assert lifted.json["release_reason"] == "Đã kết thúc thanh tra"


def test_reopening_a_file_needs_a_reason_that_shows(client: FlaskClient, kho: Kho, people: People) -> None:
    file, _docs = closed_file(kho, people)
    h = people.headers
    path = f"/api/files/{file.record_id}/reopen"
    for reason in INVISIBLE:
        answer = client.post(
            path, json={"reason": reason, "expected_version": file.version}, headers=h("chuyen_vien")
        )
        _refused(answer, "REASON_REQUIRED")
    kept = kho.repo._load(file.record_id)
    assert kept.state == FileState.CLOSED and kept.version == file.version, "nothing written"
    reopened = client.post(
        path, json={"reason": "Bổ sung văn bản", "expected_version": file.version}, headers=h("chuyen_vien")
    )
    assert reopened.status_code == 200, reopened.get_data(as_text=True)
    assert kho.repo._load(file.record_id).state == FileState.OPEN


def test_a_submission_is_not_returned_with_an_invisible_reason(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, _docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    officer = people.actor("chuyen_vien")
    file = kho.retention.submit(file.record_id, expected_version=file.version, actor=officer)
    for reason in INVISIBLE:
        answer = client.post(
            f"/api/submissions/{file.record_id}/return",
            json={"reason": reason, "expected_version": file.version},
            headers=people.headers("luu_tru"),
        )
        _refused(answer, "REASON_REQUIRED")
    kept = kho.repo._load(file.record_id)
    assert kept.state == FileState.SUBMITTED and kept.version == file.version


def test_a_recall_with_an_invisible_order_or_reason_is_refused_and_the_document_kept(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    _file, docs = closed_file(kho, people, end="")
    path = f"/api/records/{docs[0]}/recall"
    version = kho.repo._load(docs[0]).version
    for text in INVISIBLE:
        bodies = (
            {"order_ref": text, "reason": "Ban hành nhầm"},
            {"order_ref": "CV 20/BNV-VP", "reason": text},
        )
        for body in bodies:
            _refused(client.post(path, json=body, headers=people.headers("van_thu")), "RECALL_REF_REQUIRED")
    doc = kho.repo._load(docs[0])
    assert doc.state != "destroyed" and doc.version == version
    assert Recalls(kho.repo, kho.backend)._recalls_of(docs[0])[2] is None, "no recall written"


def test_the_schedule_is_not_edited_with_an_invisible_note(kho: Kho, people: People) -> None:
    service = kho.retention
    current = service.schedule()
    entries = [e.to_dict() for e in current.entries]
    for note in INVISIBLE:
        with pytest.raises(KhoError) as info:
            service.edit_schedule(
                entries, expected_version=current.version, note=note, actor=people.actor("quan_tri")
            )
        assert info.value.code == "REASON_REQUIRED"
    assert service.schedule().version == current.version


def test_an_audit_acknowledgement_needs_a_reason_that_shows() -> None:
    for reason in INVISIBLE:
        with pytest.raises(AcknowledgeReasonInvalid):
            clean_reason(reason)
    assert clean_reason("  Sao lưu khôi phục theo kế hoạch ") == "Sao lưu khôi phục theo kế hoạch"


def test_empty_minutes_say_the_minutes_are_missing_not_the_opinions(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, _docs = closed_file(kho, people)
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    case = d.propose([file.record_id], "Hồ sơ hết thời hạn bảo quản.", actor=people.actor("luu_tru"))
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    d.establish_council(case["case_id"], members, "Quyết định số 05/QĐ-UBND", actor=people.actor("lanh_dao"))
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        d.review(case["case_id"], "agree", "Đồng ý hủy", actor=people.actor(who))
    before = d.cases.latest(case["case_id"])
    path = f"/api/retention/destructions/{case['case_id']}/minutes"
    for text in ["", *INVISIBLE]:
        answer = client.post(path, json={"text": text}, headers=people.headers("luu_tru"))
        if text == "":
            assert answer.json["error"]["code"] == "FIELD_REQUIRED"
            continue
        _refused(answer, "MINUTES_REQUIRED")
        message = answer.json["error"]["message"]
        assert "biên bản" in message.lower() and "ý kiến" not in message, message
    after = d.cases.latest(case["case_id"])
    assert after == before, "nothing written"
    ok = client.post(path, json={"text": "Biên bản họp: 3/3 đồng ý."}, headers=people.headers("luu_tru"))
    assert ok.status_code == 200, ok.get_data(as_text=True)


def test_an_invisible_override_reason_does_not_let_a_mismatch_in(kho: Kho, people: People) -> None:
    """The override of a gate (signature, signer, metadata) is taken only with its reason: a
    zero-width reason let a document whose số and date differ from its PDF into the register."""
    from kho_testing import incoming_signed

    from ingest.testpki import TestPKI, Variant, make_variant

    seed = 71  # prints "72/QĐ-UBND" dated 05/03/2026 (as test_metadata_gate_r30)
    forged = {"code_number": "9", "issued_date": "2026-02-01"}
    clerk = people.actor("van_thu")
    pipeline = kho.receive.pipeline
    signed = make_variant(Variant.VALID, pki=TestPKI.build(), seed=seed, pages=1)
    job = pipeline.accept(signed, "qd.pdf", "den")
    status = pipeline.run(job.job_id, force=True)
    assert status.record_id is not None
    record = kho.repo.get(status.record_id, actor=clerk)
    for reason in INVISIBLE:
        with pytest.raises(KhoError) as info:
            kho.receive.confirm(
                record.record_id,
                incoming_signed(seed, **forged),
                expected_version=record.version,
                actor=clerk,
                override_reason=reason,
            )
        assert info.value.code == "METADATA_MISMATCH"
    assert kho.repo.get(record.record_id, actor=clerk).version == record.version, "nothing written"
    year = kho.repo.clock().year
    assert list(kho.repo.registers.entries(kho.repo.agency_id, year, "den")) == []
    done = kho.receive.confirm(
        record.record_id,
        incoming_signed(seed, **forged),
        expected_version=record.version,
        actor=clerk,
        override_reason="Đã gọi điện xác minh với nơi gửi",
    )
    assert done.registration is not None


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_handling_step_needs_task_content_and_organ_that_show(text: str) -> None:
    """The handling rules (pure, as tests/repository/test_workflow.py calls them): a new task's
    nội dung and an outgoing status's cơ quan nhận made of invisible characters are refused."""
    from datetime import date

    from kho.errors import WorkflowRefused
    from repository.workflow import MAIN_TASK, Act, Step, check, derive

    def step(seq: int, act: Act, actor: str = "ld", **kw: Any) -> Step:
        return Step("r1", seq, act, actor, "", "2026-03-02T02:00:00.000000Z", "2026-03-02", **kw)

    directed = derive(
        "r1",
        [
            step(1, Act.SUBMIT, "vt", users=("ld",)),
            step(2, Act.DIRECT, task=MAIN_TASK, units=("pth",), deadline="2026-03-10", note="PTH chủ trì"),
            step(3, Act.ASSIGN, "tp", task=MAIN_TASK, users=("cv",)),
        ],
    )
    today = date(2026, 3, 3)
    cases = [
        (
            step(4, Act.ADD_TASK, task="2", units=("vp",), content=text, deadline="2026-03-11"),
            "TASK_CONTENT_REQUIRED",
        ),
        (step(4, Act.OUTGOING_STATUS, "vt", organ=text, code="01"), "TARGET_REQUIRED"),
    ]
    for new, code in cases:
        with pytest.raises(WorkflowRefused) as info:
            check(directed, new, today)
        assert info.value.code == code and not info.value.message.isascii()
    check(
        directed,
        step(4, Act.ADD_TASK, task="2", units=("vp",), content="Tổng hợp báo cáo", deadline="2026-03-11"),
        today,
    )


def test_a_saved_search_and_a_unit_need_names_that_show(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    from kho_people import UNIT_B

    clerk, admin = people.headers("van_thu"), people.headers("quan_tri")
    before = kho.accounts.get_unit(UNIT_B)
    for name in INVISIBLE:
        made = client.post("/api/saved-searches", json={"name": name, "query": "trien khai"}, headers=clerk)
        _refused(made, "SAVED_SEARCH_NAME_REQUIRED")
        renamed = client.patch(f"/api/units/{UNIT_B}", json={"name": name}, headers=admin)
        assert renamed.status_code == 422 and "UNIT_NAME_REQUIRED" in renamed.get_data(as_text=True)
    assert client.get("/api/saved-searches", headers=clerk).json["items"] == []
    assert kho.accounts.get_unit(UNIT_B) == before, "nothing written"
    made = client.post("/api/saved-searches", json={"name": "Công văn Bộ Nội vụ"}, headers=clerk)
    assert made.status_code == 201 and made.json["name"] == "Công văn Bộ Nội vụ"


@pytest.mark.parametrize("reason", INVISIBLE)
def test_the_operator_clearance_needs_a_reason_that_shows(kho: Kho, people: People, reason: str) -> None:
    from click.testing import CliRunner

    from web.cli import main

    name = people.usernames["quan_tri"]
    before = kho.accounts.get(name).clearance
    done = CliRunner().invoke(main, ["account", "clearance", name, "3", "--operator", "--reason", reason])
    assert done.exit_code == 2, done.output
    assert "Lỗi [CLEARANCE_REASON_REQUIRED]" in done.output and "Traceback" not in done.output
    assert kho.accounts.get(name).clearance == before


def test_lowering_secrecy_needs_a_reason_that_shows(client: FlaskClient, kho: Kho, people: People) -> None:
    from kho_testing import incoming, pdf_bytes

    secret = kho.repo.create_document(
        "den",
        incoming(code_number="742", issued_date="2026-03-02", secrecy=1),
        pdf_bytes("rv42 742"),
        "mat.pdf",
        people.actor("van_thu"),
    )
    for note in INVISIBLE:
        answer = client.patch(
            f"/api/records/{secret.record_id}",
            json={"expected_version": secret.version, "changes": {"secrecy": 0}, "note": note},
            headers=people.headers("lanh_dao"),
        )
        _refused(answer, "SECRECY_REASON_REQUIRED")
    stored = kho.repo._load(secret.record_id)
    assert stored.version == secret.version and stored.metadata.secrecy == 1  # type: ignore[union-attr]


def test_a_new_unit_needs_a_name_that_shows(kho: Kho, people: People) -> None:
    from kho.errors import ValidationFailed

    admin = kho.accounts.get(people.usernames["quan_tri"])
    agency = "000.00.18.H40"
    for name in INVISIBLE:
        with pytest.raises(ValidationFailed) as info:
            kho.accounts.create_unit("000.02.18.H40", name, "ptc", agency, admin)
        assert "UNIT_NAME_REQUIRED" in [e.code for e in info.value.errors]
    assert "000.02.18.H40" not in {u.unit_id for u in kho.accounts.units()}
    made = kho.accounts.create_unit("000.02.18.H40", "Phòng Tài chính", "ptc", agency, admin)
    assert made.name == "Phòng Tài chính"


def test_keeping_a_due_file_needs_a_reason_that_shows(client: FlaskClient, kho: Kho, people: People) -> None:
    file, _docs = closed_file(kho, people)
    for reason in INVISIBLE:
        answer = client.post(
            f"/api/files/{file.record_id}/keep",
            json={"until": "2017-06-30", "reason": reason, "expected_version": file.version},
            headers=people.headers("lanh_dao"),
        )
        _refused(answer, "REASON_REQUIRED")
    kept = kho.repo._load(file.record_id)
    assert kept.version == file.version and "kept_until" not in kept.extra
