"""Council steps of a destruction case that a writer of the store cannot forge or skip (rv38).

A case is a versioned object in the store, unsealed. A writer of the store (without the audit
log's seal key) marked a case "reviewed", turned a 1-against-2 vote into three agreeing reviews,
added a hồ sơ to a reviewed case, rewrote the minutes after the decision, or left a member silent
with no minutes; the head then approved and a lưu trữ viên destroyed. Each council step (the
proposal, the council with its members, each member's review, the minutes, the appraisal) now
also writes one ``destruction:attested`` event per hồ sơ into the sealed audit log; the head's
approval and every execution (started or resumed) compare the stored case with them
(``DESTRUCTION_STEPS_UNRECORDED``, 409, audited, nothing destroyed).

Also: a document added to a decided hồ sơ (reopen, add, close on the same date) is refused at
execution (``DESTRUCTION_DOCUMENT_ADDED``); a hồ sơ holding a document whose handling is not
finished is neither proposed nor destroyed (``DOCUMENT_UNDER_HANDLING``, NĐ 30/2020 Điều 29).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kho_people import PASSWORD, People, PeopleTemplates, people_in
from kho_retention import Clock, closed_file, council_ready, kho_env, open_kho, s3_env
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import KhoError
from repository import formats
from repository.workflow import Act
from retention.destruction import Destructions
from web.app import create_app
from web.context import Kho

MASTER = base64.b64encode(bytes(range(32))).decode()
CODE = "DESTRUCTION_STEPS_UNRECORDED"


COPIED = pytest.StashKey[dict[str, str]]()
"""The usernames of the people :func:`sealed` copied into the test's installation, if it did."""


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def sealed(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, people_templates: PeopleTemplates
) -> Iterator[Kho]:
    """An installation whose audit log is sealed (the writer of the store lacks its key). For a
    test that asks for :func:`staff`, a local installation's data folder starts as a copy of the
    accounts ``make_accounts`` makes with this master key at the clock's time
    (:class:`PeopleTemplates`); on S3 they are made in the test (``make_people``)."""
    env = kho_env(tmp_path) if request.param == "local" else s3_env(tmp_path)
    env = {**env, "KHO_MASTER_KEY": MASTER}
    if "staff" in request.fixturenames:
        usernames = people_templates.copy_into(Settings.from_env(env), clock.now)
        if usernames is not None:
            request.node.stash[COPIED] = usernames
    installation = open_kho(env, clock)
    yield installation
    installation.close()


@pytest.fixture
def staff(sealed: Kho, request: pytest.FixtureRequest) -> People:
    return people_in(sealed, request.node.stash.get(COPIED, None))


def _forge(d: Destructions, case_id: str, **changes: Any) -> dict[str, Any]:
    """What a writer of the store can do: write the case's next version as it likes."""
    case = d.cases.latest(case_id)
    body = {k: v for k, v in {**case, **changes}.items() if k != formats.FORMAT_KEY}
    return d.cases.write(case_id, body, expected=case["version"])


def _refused(kho: Kho, act: Any, code: str = CODE) -> KhoError:
    with pytest.raises(KhoError) as info:
        act()
    assert info.value.code == code and info.value.http_status == 409, (info.value.code, info.value.message)
    return info.value


def _intact(kho: Kho, record_ids: list[str]) -> None:
    for record_id in record_ids:
        assert kho.repo.keys.exists(record_id), record_id
        assert kho.repo._load(record_id).state != "destroyed"


def _audited(kho: Kho, code: str = CODE) -> None:
    refused = [e for e in kho.repo.audit.events() if e.details.get("code") == code]
    assert refused and refused[-1].action == "access:denied"


def _opened(kho: Kho, people: People, file_ids: list[str]) -> tuple[Destructions, str]:
    """A proposed case with its council formed (three members), no review yet."""
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    case = d.propose(file_ids, "Hồ sơ hết thời hạn bảo quản.", actor=people.actor("luu_tru"))
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    d.establish_council(case["case_id"], members, "QĐ số 05/QĐ-UBND", actor=people.actor("lanh_dao"))
    return d, case["case_id"]


def _approve(d: Destructions, case_id: str, people: People) -> Any:
    return lambda: d.decide(case_id, "QĐ 09", approve=True, actor=people.actor("lanh_dao"))


def _execute(d: Destructions, case_id: str, people: People) -> Any:
    return lambda: d.execute(case_id, PASSWORD, actor=people.actor("luu_tru"))


def test_a_case_marked_reviewed_without_minutes_is_not_approved(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case_id = _opened(kho, people, [file.record_id])
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        d.review(case_id, "agree", actor=people.actor(who))
    _forge(d, case_id, state="reviewed")  # no minutes were ever recorded
    d.attach_appraisal(case_id, "Công văn thẩm định số 12", actor=people.actor("luu_tru"))
    error = _refused(kho, _approve(d, case_id, people))
    assert "Biên bản họp" in error.message
    _audited(kho)
    assert d.cases.latest(case_id)["state"] == "reviewed"
    _refused(kho, _execute(d, case_id, people), "DESTRUCTION_WRONG_STATE")
    _intact(kho, [*docs, file.record_id])


def test_a_vote_turned_in_the_store_is_not_approved(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case_id = _opened(kho, people, [file.record_id])
    d.review(case_id, "agree", actor=people.actor("lanh_dao"))
    for who in ("luu_tru", "chuyen_vien"):
        d.review(case_id, "disagree", "Còn giá trị", actor=people.actor(who))
    d.record_minutes(case_id, "Biên bản: 1/3 đồng ý.", actor=people.actor("luu_tru"))
    d.attach_appraisal(case_id, "Thẩm định", actor=people.actor("luu_tru"))
    _refused(kho, _approve(d, case_id, people), "COUNCIL_NOT_AGREED")  # honest: refused as before
    reviews = d.cases.latest(case_id)["reviews"]
    _forge(d, case_id, reviews={m: {**r, "opinion": "agree", "note": ""} for m, r in reviews.items()})
    error = _refused(kho, _approve(d, case_id, people))
    assert people.usernames["chuyen_vien"] in error.message
    _audited(kho)
    assert d.cases.latest(case_id)["decision"] is None
    _intact(kho, [*docs, file.record_id])


def test_a_hồ_sơ_added_to_a_reviewed_case_is_not_approved(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    other, other_docs = closed_file(kho, people, notation="02.TCCB", words="khácbímật")
    d, case = council_ready(kho, people, [file.record_id])
    whole = d.cases.latest(case["case_id"])
    added = {**whole["items"][0], "record_id": other.record_id, "documents": other_docs}
    _forge(d, case["case_id"], items=[*whole["items"], added])
    error = _refused(kho, _approve(d, case["case_id"], people))
    assert other.record_id in error.message and file.record_id not in error.message
    _audited(kho)
    assert d.cases.latest(case["case_id"])["state"] == "reviewed"
    _intact(kho, [*docs, file.record_id, *other_docs, other.record_id])


def test_a_silent_member_and_forged_minutes_are_not_approved(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case_id = _opened(kho, people, [file.record_id])
    for who in ("lanh_dao", "luu_tru"):  # two of three agree; the third never speaks
        d.review(case_id, "agree", actor=people.actor(who))
    minutes = {"text": "Biên bản giả", "by": people.usernames["luu_tru"], "at": "2027-01-03T02:00:00Z"}
    _forge(d, case_id, state="reviewed", minutes=minutes)
    d.attach_appraisal(case_id, "Thẩm định", actor=people.actor("luu_tru"))
    error = _refused(kho, _approve(d, case_id, people))
    assert people.usernames["chuyen_vien"] in error.message
    _intact(kho, [*docs, file.record_id])


def test_minutes_rewritten_after_the_decision_stop_the_execution(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    minutes = d.cases.latest(case["case_id"])["minutes"]
    _forge(d, case["case_id"], minutes={**minutes, "text": "Biên bản đã sửa sau quyết định"})
    error = _refused(kho, _execute(d, case["case_id"], people))
    assert "Biên bản họp" in error.message
    _audited(kho)
    assert d.cases.latest(case["case_id"])["state"] == "decided"
    _intact(kho, [*docs, file.record_id])


def test_a_forgery_during_an_interrupted_execution_stops_its_resumption(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people, docs=3)
    d, case = council_ready(kho, people, [file.record_id])
    d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))

    def stop(case_id: str, step: str) -> None:
        if step.startswith("destroyed:"):
            raise KeyboardInterrupt

    d.on_step = stop
    with pytest.raises(KeyboardInterrupt):
        _execute(d, case["case_id"], people)()
    d.on_step = None
    whole = d.cases.latest(case["case_id"])
    assert whole["state"] == "executing"
    _forge(d, case["case_id"], appraisal={**whole["appraisal"], "text": "Thẩm định khác"})
    _refused(kho, _execute(d, case["case_id"], people))
    _intact(kho, [*docs[1:], file.record_id])  # what the first run had not reached is kept


def test_a_case_with_no_council_is_refused_with_a_code_not_500(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    _forge(d, case["case_id"], council=None)
    client = create_app(kho.settings, kho=kho).test_client()
    answer = client.post(
        f"/api/retention/destructions/{case['case_id']}/decision",
        json={"decision_ref": "QĐ 09"},
        headers=people.headers("lanh_dao"),
    )
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.json["error"]["code"] == CODE
    assert "Quyết định thành lập hội đồng" in answer.json["error"]["message"]
    _audited(kho)
    _intact(kho, [*docs, file.record_id])


def test_a_case_without_recorded_steps_is_refused_and_may_be_rejected(sealed: Kho, staff: People) -> None:
    """Upgrade: a case whose steps were stored before the log held them (here: the same case
    written under another id, as a writer of the store could) cannot be approved, only
    rejected; its hồ sơ are then proposed again."""
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    whole = d.cases.latest(case["case_id"])
    old_id = "0123456789abcdef"
    body = {k: v for k, v in whole.items() if k not in (formats.FORMAT_KEY, "version")}
    d.cases.write(old_id, {**body, "case_id": old_id}, expected=0)
    _refused(kho, _approve(d, old_id, people))
    rejected = d.decide(old_id, "QĐ không duyệt", approve=False, actor=people.actor("lanh_dao"))
    assert rejected["state"] == "rejected"
    _intact(kho, [*docs, file.record_id])
    again, fresh = council_ready(kho, people, [file.record_id])  # proposed again, steps recorded
    _approve(again, fresh["case_id"], people)()
    assert _execute(again, fresh["case_id"], people)()["state"] == "done"


def test_the_honest_path_records_every_step_and_destroys(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    attested = [
        e.details["step"]
        for e in kho.repo.audit.record_events(file.record_id)
        if e.action == "destruction:attested" and e.details["case_id"] == case["case_id"]
    ]
    assert attested == ["proposed", "council", "review", "review", "review", "minutes", "appraisal"]
    d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    assert _execute(d, case["case_id"], people)()["state"] == "done"
    assert all(not kho.repo.keys.exists(r) for r in [*docs, file.record_id])


def test_a_document_added_to_a_decided_hồ_sơ_is_refused(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    officer = people.actor("chuyen_vien")
    new = kho.repo.create_document(
        "den",
        incoming(code_number="9901", issued_date="2015-06-02"),
        pdf_bytes("vanbanmoi-rv38"),
        "moi.pdf",
        people.actor("van_thu"),
    )
    reopened = kho.retention.reopen_file(
        file.record_id, reason="Bổ sung văn bản", expected_version=file.version, actor=officer
    )
    added = kho.repo.add_to_file(
        file.record_id, new.record_id, expected_version=reopened.version, actor=officer
    )
    kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=added.version, actor=officer
    )
    error = _refused(kho, _execute(d, case["case_id"], people), "DESTRUCTION_DOCUMENT_ADDED")
    assert new.record_id in error.message
    _intact(kho, [*docs, new.record_id, file.record_id])
    assert d.cases.latest(case["case_id"])["state"] == "decided"


def _submit(kho: Kho, people: People, record_id: str) -> None:
    kho.handling.take(
        record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
        note="Kính trình",
    )


def _file_only(kho: Kho, people: People, record_id: str) -> None:
    kho.handling.take(
        record_id, Act.FILE_ONLY, expected_seq=1, actor=people.actor("lanh_dao"), note="Để biết"
    )


def test_a_hồ_sơ_with_a_document_under_handling_is_not_proposed(sealed: Kho, staff: People) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    _submit(kho, people, docs[1])
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    error = _refused(
        kho,
        lambda: d.propose([file.record_id], "Hết hạn", actor=people.actor("luu_tru")),
        "DOCUMENT_UNDER_HANDLING",
    )
    assert docs[1] in error.message
    assert not list(d.cases.all())
    _file_only(kho, people, docs[1])  # the leader ends it: "để biết, lưu"
    assert d.propose([file.record_id], "Hết hạn", actor=people.actor("luu_tru"))["state"] == "proposed"


def test_a_document_put_under_handling_after_the_decision_is_not_destroyed(
    sealed: Kho, staff: People
) -> None:
    kho, people = sealed, staff
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
    _submit(kho, people, docs[0])
    error = _refused(kho, _execute(d, case["case_id"], people), "DOCUMENT_UNDER_HANDLING")
    assert docs[0] in error.message
    _intact(kho, [*docs, file.record_id])
    _file_only(kho, people, docs[0])
    assert _execute(d, case["case_id"], people)()["state"] == "done"
