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


def _answer(client: FlaskClient, people: People, who: str, path: str, record_id: str) -> tuple[int, str, str]:
    reply = client.get(path, headers=people.headers(who))
    error = reply.json["error"]
    return reply.status_code, error["code"], error["message"].replace(record_id, "<id>")


def test_an_unseen_record_answers_as_an_absent_id_while_the_log_refuses(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    record = kho.repo.create_document("den", incoming(), pdf_bytes("unseen"), "cv.pdf", clerk)
    _cut(kho.repo.store)
    for suffix in ("", "/content"):
        for who in ("van_thu_b", "chuyen_vien_b"):
            absent = _answer(client, people, who, f"/api/records/{ABSENT}{suffix}", ABSENT)
            rid = record.record_id
            unseen = _answer(client, people, who, f"/api/records/{rid}{suffix}", rid)
            assert absent[:2] == (404, "NOT_FOUND")
            assert unseen == absent, (who, suffix)
        seen = client.get(f"/api/records/{record.record_id}{suffix}", headers=people.headers("van_thu"))
        assert seen.status_code == 503 and seen.json["error"]["code"] == "AUDIT_CHAIN_BROKEN"
    assert not kho.repo.store.exists(WITNESS_KEY)  # nothing was appended after the cut
