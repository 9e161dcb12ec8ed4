"""A recall (thu hồi) of a văn bản đến racing the nộp lưu of its hồ sơ (review a11).

``recall_incoming`` checked that no hồ sơ of the document was handed over to the archive, then
destroyed it. A chuyên viên submitting the hồ sơ in between left a submitted hồ sơ — a permanent
record on its way to the historical archive, a version that cannot be withdrawn — listing a
document whose key was shredded. Now the recall's destruction looks at the hồ sơ after taking its
claim (``claims/destroying/<id>``), and a submission takes ``claims/submitting/<hồ sơ>`` and looks
for the claims of its documents before writing its version: of the two, one sees the other.

Each interleaving is forced from the real store's own writes (a hook on ``put_if_absent`` of the
claim, of the submitted version, of the "đã hủy" row), on the local folder and on Ceph S3."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import acting_at, closed_file, recall_outcome, submit_outcome

from kho.errors import Conflict
from repository.records import Record, destroyed_key, destroying_key, version_key
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _whole(kho: Kho, people: People, file_id: str, document_id: str) -> None:
    """The submitted hồ sơ lists the document and its original still opens."""
    submitted = kho.repo._load(file_id)
    assert submitted.state == "submitted" and document_id in submitted.documents
    assert kho.repo.keys.exists(document_id)
    assert kho.repo._load(document_id).state == "active"
    assert kho.repo.read_content(document_id, actor=people.actor("van_thu"))[1].startswith(b"%PDF")
    assert list(kho.repo.store.list("claims/destroying/")) == []
    assert list(kho.repo.store.list("claims/submitting/")) == []


def test_a_submission_between_the_recalls_check_and_its_destruction_keeps_the_document(
    kho: Kho, people: People
) -> None:
    """The hồ sơ is submitted after the recall checked it, before the recall's destruction takes
    its claim: the destruction sees the submitted hồ sơ and refuses, nothing shredded."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    with acting_at(kho, destroying_key(docs[0]), lambda: submit_outcome(kho, people, file)) as submitted:
        refused = recall_outcome(kho, people, docs[0])
    assert isinstance(submitted[0], Record) and submitted[0].state == "submitted"
    assert isinstance(refused, Conflict), refused  # before: the recall destroyed the document
    assert refused.code == "DOCUMENT_IN_ARCHIVE" and refused.http_status == 409
    assert "nộp lưu" in refused.message
    _whole(kho, people, file.record_id, docs[0])


def test_a_recall_between_the_submissions_check_and_its_version_is_refused(kho: Kho, people: People) -> None:
    """The recall runs whole after the submission checked its documents, before the submitted
    version is written: the destruction sees the submission in flight and refuses."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    submitted_key = version_key(file.record_id, file.version + 1)
    with acting_at(kho, submitted_key, lambda: recall_outcome(kho, people, docs[0])) as recalled:
        done = submit_outcome(kho, people, file)
    assert isinstance(done, Record) and done.state == "submitted", done
    [refused] = recalled
    assert isinstance(refused, Conflict), refused  # before: destroyed under the submission
    assert refused.code == "FILE_BEING_SUBMITTED" and refused.http_status == 409
    assert "nộp lưu" in refused.message and refused.details["file_id"] == file.record_id
    _whole(kho, people, file.record_id, docs[0])


def test_a_submission_while_the_recall_destroys_a_document_is_refused(kho: Kho, people: People) -> None:
    """The recall's destruction holds its claim and is writing the "đã hủy" row when the hồ sơ is
    submitted: the submission is refused (the hồ sơ stays closed), the recall finishes."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    with acting_at(kho, destroyed_key(docs[0]), lambda: submit_outcome(kho, people, file)) as submitted:
        done = recall_outcome(kho, people, docs[0])
    assert isinstance(done, dict) and done["state"] == "destroyed", done
    [refused] = submitted
    assert isinstance(refused, Conflict), refused  # before: submitted, then the document shredded
    assert refused.code == "RECORD_BEING_DESTROYED" and refused.http_status == 409
    assert kho.repo._load(file.record_id).state == "closed"
    assert list(kho.repo.store.list("claims/submitting/")) == []
    # Submitted again once the recall is done: the hồ sơ goes with the recalled document's
    # "đã hủy" row, as any hồ sơ whose document was recalled before its nộp lưu.
    again = submit_outcome(kho, people, kho.repo._load(file.record_id))
    assert isinstance(again, Record) and again.state == "submitted", again


def test_a_recall_after_the_submission_is_refused_before_it_writes_anything(kho: Kho, people: People) -> None:
    """Sequentially (held before, kept): nothing written, no claim left."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    assert isinstance(submit_outcome(kho, people, file), Record)
    refused = recall_outcome(kho, people, docs[1])
    assert isinstance(refused, Conflict) and refused.code == "DOCUMENT_IN_ARCHIVE"
    _whole(kho, people, file.record_id, docs[1])
