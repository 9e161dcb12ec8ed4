"""Destruction: separation of duties at each of the head's steps, and an execution that could not
succeed refused before the password is judged (u12, rv14's "left open")."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, People
from kho_retention import closed_file

from web.context import Kho

COUNCIL = "Quyết định số 05/QĐ-UBND ngày 02/01/2027"


def _members(people: People) -> list[str]:
    return [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]


def _proposed(kho: Kho, people: People, client: FlaskClient, who: str, notation: str) -> dict[str, Any]:
    file, _ = closed_file(kho, people, notation=notation, docs=1)
    proposed = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết thời hạn bảo quản 05 năm."},
        headers=people.headers(who),
    )
    assert proposed.status_code == 201, proposed.json
    return proposed.json


def test_a_proposer_who_is_also_lanh_dao_neither_appoints_the_council_nor_decides(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """A person holding both lưu trữ viên and lãnh đạo proposes a destruction. On main they then
    set up the Hội đồng of their own proposal (200: they chose who judges it); only the decision
    was refused. Now both head's steps are refused to them (403 SELF_APPROVAL, audited, nothing
    written) and another lãnh đạo takes them."""
    people.add("luu_tru_lanh_dao", "Đinh Văn Kiêm", AGENCY, ("luu_tru", "lanh_dao"), 3)
    case = _proposed(kho, people, client, "luu_tru_lanh_dao", "05.KIEM")
    path = f"/api/retention/destructions/{case['case_id']}"
    own = client.post(
        path + "/council",
        json={"members": _members(people), "decision_ref": COUNCIL},
        headers=people.headers("luu_tru_lanh_dao"),
    )
    assert own.status_code == 403, own.get_data(as_text=True)[:300]  # main: 200
    assert own.json["error"]["code"] == "SELF_APPROVAL"
    assert "thành lập hội đồng" in own.json["error"]["message"]
    assert client.get(path, headers=people.headers("lanh_dao")).json["state"] == "proposed"
    refused = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert refused[-1].details["action"] == "destruction:council"
    assert refused[-1].details["code"] == "SELF_APPROVAL"

    head = people.headers("lanh_dao")
    council = client.post(
        path + "/council", json={"members": _members(people), "decision_ref": COUNCIL}, headers=head
    )
    assert council.status_code == 200, council.json
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        review = client.post(path + "/review", json={"opinion": "agree"}, headers=people.headers(who))
        assert review.status_code == 200, review.json
    minutes = client.post(path + "/minutes", json={"text": "3/3 đồng ý."}, headers=people.headers("luu_tru"))
    assert minutes.status_code == 200, minutes.json
    appraisal = client.post(
        path + "/appraisal", json={"text": "Công văn 12/SNV"}, headers=people.headers("luu_tru")
    )
    assert appraisal.status_code == 200, appraisal.json
    decided = client.post(
        path + "/decision", json={"decision_ref": "QĐ 09/QĐ-UBND"}, headers=people.headers("luu_tru_lanh_dao")
    )
    assert decided.status_code == 403 and decided.json["error"]["code"] == "SELF_APPROVAL", decided.json
    assert "quyết định hủy" in decided.json["error"]["message"]
    decided = client.post(path + "/decision", json={"decision_ref": "QĐ 09/QĐ-UBND"}, headers=head)
    assert decided.status_code == 200 and decided.json["state"] == "decided", decided.json


def _login_failures(kho: Kho, username: str) -> int:
    return sum(
        1 for e in kho.repo.audit.events() if e.action == "account:login-failed" and e.actor == username
    )


def test_an_undecided_case_is_refused_the_same_way_whatever_the_password(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """The lưu trữ viên asks to carry out a case the head has not decided. They expect to be told
    the case is not at that step, whatever they typed, and not to be a wrong guess nearer a lock.
    On main a wrong password came first: 401 LOGIN_FAILED (counted towards the lock), and the
    right one 409: the answer told the two apart. Now both are 409 DESTRUCTION_WRONG_STATE, the
    same answer, and no login is judged or counted. On a decided case the password is checked
    as before."""
    case = _proposed(kho, people, client, "luu_tru", "06.CHO")
    path = f"/api/retention/destructions/{case['case_id']}/execute"
    archivist = people.usernames["luu_tru"]
    token = people.headers("luu_tru")
    before = kho.accounts.get(archivist).failed_logins
    wrong = client.post(path, json={"password": "sai-mat-khau"}, headers=token)
    right = client.post(path, json={"password": PASSWORD}, headers=token)
    assert wrong.status_code == 409, wrong.get_data(as_text=True)[:300]  # main: 401 LOGIN_FAILED
    assert wrong.json["error"]["code"] == "DESTRUCTION_WRONG_STATE"
    assert wrong.json == right.json and right.status_code == 409
    assert "Đã lập danh mục đề nghị hủy" in wrong.json["error"]["message"]
    assert kho.accounts.get(archivist).failed_logins == before
    assert _login_failures(kho, archivist) == 0
    assert (
        client.get(f"/api/retention/destructions/{case['case_id']}", headers=token).json["state"]
        == "proposed"
    )
