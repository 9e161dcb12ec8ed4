"""A destruction case of the agency's hồ sơ is not a phòng's to read or to step (rv14): reading
the cases needs the role (:attr:`Action.DISPOSAL_LIST`) or a council seat, and the role alone gave
a phòng's lưu trữ viên every case of the agency (its hồ sơ, codes, titles, the thuyết minh and the
minutes) and let them attach the thẩm định of a case whose hồ sơ they may not see."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_retention import closed_file

from retention.destruction import Destructions
from web.context import Kho


def test_a_phong_archivist_neither_reads_nor_appraises_the_agencys_destruction_case(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """The agency's case, reviewed by its council, waits for its thẩm định. On main the lưu trữ
    viên of Phòng Tổng hợp (who may not see the hồ sơ: ``GET /api/records/<id>`` answers 404)
    got the case from the list and by its id, with the hồ sơ's id, code and title, and attached
    a thẩm định to it (200: a forged step of another unit's destruction). Now the case is not
    listed to them, its id answers NOT_FOUND as an absent case (read, document export and
    thẩm định alike, the hồ sơ not named), and nothing is written; the agency's lưu trữ viên
    attaches the thẩm định as before, and a council member still reads the case."""
    file, _ = closed_file(kho, people, notation="04.BM", docs=1)
    d = Destructions(kho.repo, kho.accounts, kho.backend)
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    case = d.propose([file.record_id], "Hết thời hạn bảo quản", actor=archivist)
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    case = d.establish_council(case["case_id"], members, "QĐ 05/QĐ-UBND", actor=head)
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        case = d.review(case["case_id"], "agree", "Đồng ý", actor=people.actor(who))
    case = d.record_minutes(case["case_id"], "Biên bản họp: 3/3 đồng ý.", actor=archivist)
    people.add("luu_tru_b", "Trịnh Văn Bảo", UNIT_B, ("luu_tru",), 3)
    token = people.headers("luu_tru_b")
    assert client.get(f"/api/records/{file.record_id}", headers=token).status_code == 404

    path = f"/api/retention/destructions/{case['case_id']}"
    listed = client.get("/api/retention/destructions", headers=token)
    assert listed.status_code == 200, listed.json
    assert listed.json == {"items": [], "total": 0}
    answers = [
        client.get(path, headers=token),
        client.get(path + "/documents/danh-muc?format=xlsx", headers=token),
        client.post(path + "/appraisal", json={"text": "Thẩm định giả"}, headers=token),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.get_data(as_text=True)[:300]
        assert answer.json["error"]["code"] == "NOT_FOUND"
        text = answer.get_data(as_text=True)
        assert file.record_id not in text and "04.BM" not in text
    assert d.cases.latest(case["case_id"])["appraisal"] is None

    assert client.get(path, headers=people.headers("chuyen_vien")).status_code == 200  # a seat
    own = client.post(
        path + "/appraisal", json={"text": "Công văn 12/SNV"}, headers=people.headers("luu_tru")
    )
    assert own.status_code == 200, own.get_data(as_text=True)[:300]
    assert own.json["appraisal"]["text"] == "Công văn 12/SNV"
