"""While the audit log refuses events (a cut tail before an auditor's acknowledgement), a record
a person may not know of is still answered exactly as an id that names nothing (404
``NOT_FOUND``), not ``AUDIT_CHAIN_BROKEN`` (503): the 503 against the absent id's 404 told an
outsider that the record exists (rv8 "found, not fixed"). A person who may see the record is
still refused with ``AUDIT_CHAIN_BROKEN``: their read would be an act the log cannot record."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.storage.base import ObjectStore
from web.context import Kho

ABSENT = "0123456789abcdef01234567"


def _cut(store: ObjectStore) -> None:
    """The last object of the log and the witness deleted (someone who can write the store)."""
    last = [info.key for info in store.list(EVENTS_PREFIX)][-1]
    store.delete(last)
    store.delete(WITNESS_KEY)


def _answer(
    client: FlaskClient, people: People, who: str, path: str, record_id: str, step: bool = False
) -> tuple[int, str, str]:
    if step:  # a handling step (repository/handling.py audits its own refusals)
        body = {"act": "assign", "expected_seq": 0, "users": [people.usernames["chuyen_vien"]]}
        reply = client.post(path, json=body, headers=people.headers(who))
    else:
        reply = client.get(path, headers=people.headers(who))
    error = reply.json["error"]
    return reply.status_code, error["code"], error["message"].replace(record_id, "<id>")


def test_an_unseen_record_answers_as_an_absent_id_while_the_log_refuses(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    record = kho.repo.create_document("den", incoming(), pdf_bytes("unseen"), "cv.pdf", clerk)
    _cut(kho.repo.store)
    for path in ("/api/records/{}", "/api/records/{}/content", "/api/handling/{}/steps"):
        step = path.endswith("/steps")
        for who in ("van_thu_b", "chuyen_vien_b"):
            absent = _answer(client, people, who, path.format(ABSENT), ABSENT, step)
            rid = record.record_id
            unseen = _answer(client, people, who, path.format(rid), rid, step)
            assert absent[:2] == (404, "NOT_FOUND"), (who, path, absent)
            assert unseen == absent, (who, path)
        seen = _answer(client, people, "van_thu", path.format(record.record_id), record.record_id, step)
        assert seen[:2] == (503, "AUDIT_CHAIN_BROKEN"), (path, seen)
    assert not kho.repo.store.exists(WITNESS_KEY)  # nothing was appended after the cut
