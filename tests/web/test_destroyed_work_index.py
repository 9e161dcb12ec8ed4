"""What the handling work index (``work-index.sqlite``, beside the search index) keeps of a
document destroyed through the API: nothing of its content. Its rows carried the trích yếu and the
leaders' notes in plain text, in a file any copy of the data folder reads (ARCHITECTURE invariant
7: "destroyed means unrecoverable")."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_retention import closed_file
from kho_testing import incoming, pdf_bytes

from repository.workflow import Act
from web.context import Kho

NOTE = "Ý kiến ghichúbímật"


def _work_index_bytes(kho: Kho) -> bytes:
    folder = kho.settings.data_dir
    return b"".join(p.read_bytes() for p in folder.glob("work-index.sqlite*") if p.is_file())


def test_a_document_destroyed_through_the_api_leaves_nothing_in_the_work_index(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people)
    clerk, head = people.actor("van_thu"), people.actor("lanh_dao")
    subject = kho.repo.get(docs[0], actor=clerk).metadata.subject  # type: ignore[union-attr]
    kho.handling.take(docs[0], Act.SUBMIT, expected_seq=0, actor=clerk, users=[head.user], note=NOTE)
    held = _work_index_bytes(kho)
    assert NOTE.encode() in held and subject.encode() in held
    # A document under handling is not destroyed (DOCUMENT_UNDER_HANDLING): the leader ends it,
    # "để biết, lưu"; its rows stay in the index until the destruction.
    kho.handling.take(docs[0], Act.FILE_ONLY, expected_seq=1, actor=head, note="Để biết")
    held = _work_index_bytes(kho)
    assert NOTE.encode() in held and subject.encode() in held

    h = people.headers
    case = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết hạn"},
        headers=h("luu_tru"),
    ).json
    path = f"/api/retention/destructions/{case['case_id']}"
    members = [people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien")]
    council = {"members": members, "decision_ref": "QĐ 05"}
    assert client.post(f"{path}/council", json=council, headers=h("lanh_dao")).status_code == 200
    for who in ("lanh_dao", "luu_tru", "chuyen_vien"):
        assert client.post(f"{path}/review", json={"opinion": "agree"}, headers=h(who)).status_code == 200
    assert client.post(f"{path}/minutes", json={"text": "Biên bản"}, headers=h("luu_tru")).status_code == 200
    appraisal = client.post(f"{path}/appraisal", json={"text": "Thẩm định"}, headers=h("luu_tru"))
    assert appraisal.status_code == 200
    decided = client.post(f"{path}/decision", json={"decision_ref": "QĐ 09"}, headers=h("lanh_dao"))
    assert decided.status_code == 200, decided.json
    done = client.post(f"{path}/execute", json={"password": PASSWORD}, headers=h("luu_tru"))
    assert done.status_code == 200 and done.json["state"] == "done"

    left = _work_index_bytes(kho)
    assert NOTE.encode() not in left
    assert subject.encode() not in left
    assert not kho.handling.index.read("SELECT 1 FROM notices WHERE record_id = ?", (docs[0],))


def test_a_document_destroyed_by_a_recall_through_the_api_leaves_nothing_in_the_work_index(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    clerk, head = people.actor("van_thu"), people.actor("lanh_dao")
    doc = kho.repo.create_document("den", incoming(code_number="88"), pdf_bytes("den"), "cv.pdf", clerk)
    subject = doc.metadata.subject  # type: ignore[union-attr]
    kho.handling.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=clerk, users=[head.user], note=NOTE)
    assert NOTE.encode() in _work_index_bytes(kho)
    recalled = client.post(
        f"/api/records/{doc.record_id}/recall",
        json={"order_ref": "Công văn số 20/BNV-VP", "reason": "Ban hành nhầm"},
        headers=people.headers("van_thu"),
    )
    assert recalled.status_code == 200 and recalled.json["state"] == "destroyed", recalled.json
    left = _work_index_bytes(kho)
    assert NOTE.encode() not in left and subject.encode() not in left
    assert doc.record_id not in {n.record_id for n in kho.handling.notices(head)}
