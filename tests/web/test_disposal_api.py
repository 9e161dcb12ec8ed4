"""The retention API as the people who use it: codes and Vietnamese messages for refusals."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_retention import closed_file

from kho.timeutil import vn_date
from web.context import Kho


def test_destruction_through_the_api_with_holds_and_refusals(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people)
    h = people.headers
    listed = client.get("/api/retention/disposal?today=2027-03-01", headers=h("luu_tru"))
    assert listed.status_code == 200 and [i["record_id"] for i in listed.json["items"]] == [file.record_id]
    assert client.get("/api/retention/disposal", headers=h("chuyen_vien")).status_code == 403
    bad = client.get("/api/retention/disposal?today=31/12/2027", headers=h("luu_tru"))
    assert bad.status_code == 422 and bad.json["error"]["code"] == "DATE_INVALID"

    hold = client.post(
        "/api/retention/holds",
        json={"record_ids": [file.record_id], "reason": "Thanh tra"},
        headers=h("lanh_dao"),
    )
    assert hold.status_code == 201
    proposed = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết hạn"},
        headers=h("luu_tru"),
    )
    assert proposed.status_code == 409 and proposed.json["error"]["code"] == "LEGAL_HOLD"
    assert "phong tỏa" in proposed.json["error"]["message"]
    release = f"/api/retention/holds/{hold.json['order_id']}/release"
    not_theirs = client.post(release, json={"reason": "Xong"}, headers=h("luu_tru"))
    assert not_theirs.status_code == 403 and not_theirs.json["error"]["code"] == "HOLD_NOT_YOURS"
    released = client.post(release, json={"reason": "Xong"}, headers=h("lanh_dao"))
    assert released.status_code == 200 and released.json["state"] == "released"

    case = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết hạn"},
        headers=h("luu_tru"),
    ).json
    path = f"/api/retention/destructions/{case['case_id']}"
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    assert (
        client.post(
            f"{path}/council", json={"members": members, "decision_ref": "QĐ 05"}, headers=h("luu_tru")
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"{path}/council", json={"members": members, "decision_ref": "QĐ 05"}, headers=h("lanh_dao")
        ).status_code
        == 200
    )
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        assert client.post(f"{path}/review", json={"opinion": "agree"}, headers=h(who)).status_code == 200
    assert client.post(f"{path}/minutes", json={"text": "Biên bản"}, headers=h("luu_tru")).status_code == 200
    assert (
        client.post(f"{path}/appraisal", json={"text": "Thẩm định"}, headers=h("luu_tru")).status_code == 200
    )
    bad_day = client.post(
        f"{path}/decision", json={"decision_ref": "QĐ 09", "deadline": "31/12/2099"}, headers=h("lanh_dao")
    )
    assert bad_day.status_code == 422 and bad_day.json["error"]["code"] == "DATE_INVALID"
    past = client.post(
        f"{path}/decision", json={"decision_ref": "QĐ 09", "deadline": "2020-01-01"}, headers=h("lanh_dao")
    )
    assert past.status_code == 409 and past.json["error"]["code"] == "DEADLINE_PAST"
    today = vn_date(kho.repo.clock())  # the day of the decision, as the rule reads it
    late = (today + timedelta(days=16)).isoformat()  # TT 06/2025: at the latest 15 days after
    too_late = client.post(
        f"{path}/decision", json={"decision_ref": "QĐ 09", "deadline": late}, headers=h("lanh_dao")
    )
    assert too_late.status_code == 409 and too_late.json["error"]["code"] == "DEADLINE_TOO_LATE"
    assert "15 ngày" in too_late.json["error"]["message"]
    assert client.get(path, headers=h("lanh_dao")).json["state"] == "reviewed"  # nothing decided
    last = (today + timedelta(days=15)).isoformat()
    decided = client.post(
        f"{path}/decision", json={"decision_ref": "QĐ 09", "deadline": last}, headers=h("lanh_dao")
    )
    assert decided.status_code == 200 and decided.json["decision"]["deadline"] == last
    overdue = client.get("/api/retention/destructions/overdue", headers=h("luu_tru"))
    assert overdue.status_code == 200 and overdue.json["total"] == 0, "the deadline is ahead"
    pdf = client.get(f"{path}/documents/quyet-dinh-huy", headers=h("luu_tru"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    xlsx = client.get(f"{path}/documents/danh-muc?format=xlsx", headers=h("lanh_dao"))
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK") and "spreadsheetml" in xlsx.mimetype
    early = client.get(f"{path}/documents/bien-ban-huy", headers=h("luu_tru"))
    assert early.status_code == 409 and early.json["error"]["code"] == "DOSSIER_DOCUMENT_NOT_READY"
    assert (
        client.get(f"{path}/documents/danh-muc?format=doc", headers=h("luu_tru")).json["error"]["code"]
        == "FORMAT_INVALID"
    )
    assert client.get(f"{path}/documents/danh-muc", headers=h("van_thu")).status_code == 403
    wrong = client.post(f"{path}/execute", json={"password": "sai"}, headers=h("luu_tru"))
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "LOGIN_FAILED"
    done = client.post(f"{path}/execute", json={"password": PASSWORD}, headers=h("luu_tru"))
    assert done.status_code == 200 and done.json["state"] == "done"
    kept = client.get(f"{path}/documents/bien-ban-huy?format=xlsx", headers=h("luu_tru"))
    assert kept.status_code == 200 and kept.data.startswith(b"PK")
    gone = client.get(f"/api/records/{docs[0]}/content", headers=h("lanh_dao"))
    assert gone.status_code in (404, 410)
