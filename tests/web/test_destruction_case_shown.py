"""A destruction case shows its reader only the documents they may see (m5): the case is read by
role (lưu trữ viên, lãnh đạo) or by a seat on its council, not by sight of its documents."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from kho_people import AGENCY, People, create_person
from kho_testing import incoming, pdf_bytes

from web.context import Kho


def test_a_destruction_case_names_no_document_its_reader_may_not_see(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """A case lists each hồ sơ's document ids (``items[].documents``, and after execution
    ``execution.targets``) to whoever may read it: the agency's lưu trữ viên cleared for Thường
    and a Thường council member got the id of the Mật document in the hồ sơ (a5's open item).
    Now the answer to each of them (the case, the list, a step they take) carries the ids they
    may see; the Mật lưu trữ viên who proposed it gets both, and the stored case is whole."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    cleared, _password = create_person(
        kho.accounts, "Vũ Thị Mai", AGENCY, ("luu_tru",), 2, None, admin, confirmer=head
    )
    token = {"Authorization": f"Bearer {kho.accounts.issue_token(cleared.username, 'test', cleared)}"}
    clerk = people.actor("van_thu")
    secret, plain = (
        kho.repo.create_document(
            "den",
            incoming(code_number=n, issued_date="2015-03-02", secrecy=s),
            pdf_bytes(f"huy-{n}"),
            f"cv{n}.pdf",
            clerk,
        ).record_id
        for n, s in (("301", 2), ("302", 0))
    )
    file = kho.repo.create_file(
        {
            "file_notation": "09.HUY",
            "title": "Hồ sơ hết hạn bảo quản",
            "maintenance": "05 năm",
            "creator": "Đỗ Thị Khuê",
            "start_date": "2015-01-05",
        },
        clerk,
    )
    for doc in (secret, plain):
        file = kho.repo.add_to_file(file.record_id, doc, expected_version=file.version, actor=clerk)
    file = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=clerk
    )
    proposed = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết hạn"},
        headers=token,
    )
    assert proposed.status_code == 201, proposed.json
    assert proposed.json["items"][0]["documents"] == [secret, plain]
    path = f"/api/retention/destructions/{proposed.json['case_id']}"
    members = [people.usernames[w] for w in ("lanh_dao", "chuyen_vien")] + [cleared.username]
    council = client.post(
        path + "/council",
        json={"members": members, "decision_ref": "QĐ 05"},
        headers=people.headers("lanh_dao"),
    )
    assert council.status_code == 200, council.json
    thuong = [  # Thường: the agency's lưu trữ viên, and a council member reading and reviewing
        client.get(path, headers=people.headers("luu_tru")),
        client.get(path, headers=people.headers("chuyen_vien")),
        client.post(path + "/review", json={"opinion": "agree"}, headers=people.headers("chuyen_vien")),
    ]
    for answer in thuong:
        assert answer.status_code == 200, answer.json
        assert answer.json["items"][0]["documents"] == [plain]
        assert secret not in answer.get_data(as_text=True)
    listed = client.get("/api/retention/destructions", headers=people.headers("luu_tru"))
    assert listed.status_code == 200 and secret not in listed.get_data(as_text=True)
    assert client.get(path, headers=token).json["items"][0]["documents"] == [secret, plain]
    from retention.destruction import Destructions

    stored = Destructions(kho.repo).cases.latest(proposed.json["case_id"])
    assert stored["items"][0]["documents"] == [secret, plain]
