"""A recall (thu hồi) of a văn bản đến refused mid-way (review r32).

``recall_incoming`` keeps the recall order (its record, ``recorded``) before it destroys the
document. When the destruction is refused — a nộp lưu of its hồ sơ in flight (a11's
``FILE_BEING_SUBMITTED``), or a hold — the recall stayed ``recorded`` for ever and nothing in the
audit said it was refused or why: listed as under way, the document alive. Now the recall is
``refused`` and a ``recall:refused`` event names the refusal's code; nothing is shredded."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import acting_at, closed_file, recall_outcome, submit_outcome

from kho.errors import KhoError
from repository.records import Record, version_key
from retention.holds import Holds
from retention.recall import Recalls
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _closed_as_refused(kho: Kho, document_id: str, code: str) -> None:
    """The recall of ``document_id`` is ``refused``, one ``recall:refused`` event names ``code``,
    the document is whole."""
    [recall] = [r for r in Recalls(kho.repo).recalls.all() if r["record_id"] == document_id]
    assert recall["state"] == "refused"  # before: "recorded", for ever
    events = [e for e in kho.repo.audit.record_events(document_id) if e.action.startswith("recall:")]
    assert [(e.action, e.details.get("code")) for e in events] == [("recall:refused", code)]
    assert events[0].details["recall_id"] == recall["recall_id"]
    assert kho.repo.keys.exists(document_id) and kho.repo._load(document_id).state == "active"


def test_a_recall_refused_by_a_nop_luu_in_flight_is_closed_as_refused(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    submitted_key = version_key(file.record_id, file.version + 1)
    with acting_at(kho, submitted_key, lambda: recall_outcome(kho, people, docs[0])) as recalled:
        done = submit_outcome(kho, people, file)
    assert isinstance(done, Record) and done.state == "submitted"
    [refused] = recalled
    assert isinstance(refused, KhoError) and refused.code == "FILE_BEING_SUBMITTED"
    _closed_as_refused(kho, docs[0], "FILE_BEING_SUBMITTED")


def test_a_recall_refused_by_a_hold_is_closed_as_refused(kho: Kho, people: People) -> None:
    _, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    Holds(kho.repo).place([docs[0]], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    refused = recall_outcome(kho, people, docs[0])
    assert isinstance(refused, KhoError) and refused.http_status == 409
    _closed_as_refused(kho, docs[0], refused.code)
