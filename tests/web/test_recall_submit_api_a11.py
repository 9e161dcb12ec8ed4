"""The recall API racing a nộp lưu (review a11): a recall of a văn bản đến asked for while its
hồ sơ is being submitted is answered 409 with a code and a Vietnamese message (not 200 with the
document shredded under the submission, not a 500); the repository's side is
tests/retention/test_recall_submit_race_a11.py."""

from __future__ import annotations

import unicodedata

from flask.testing import FlaskClient
from kho_people import People
from kho_retention import acting_at, closed_file

from repository.records import version_key
from web.context import Kho


def test_a_recall_asked_for_while_its_file_is_being_submitted_gets_409(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")

    def recall() -> object:
        return client.post(
            f"/api/records/{docs[0]}/recall",
            json={"order_ref": "Công văn số 20/BNV-VP", "reason": "Bên gửi thu hồi"},
            headers=people.headers("van_thu"),
        )

    submitted_key = version_key(file.record_id, file.version + 1)
    with acting_at(kho, submitted_key, recall) as answers:
        kho.retention.submit(file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien"))
    [answer] = answers
    assert answer.status_code == 409, answer.json  # before: 200, the document shredded
    error = answer.json["error"]
    assert error["code"] == "FILE_BEING_SUBMITTED"
    assert "đang được nộp lưu" in error["message"]
    assert unicodedata.is_normalized("NFC", error["message"])
    assert kho.repo._load(file.record_id).state == "submitted"
    assert kho.repo.keys.exists(docs[0]) and kho.repo._load(docs[0]).state == "active"
