"""A destroyed document's handling notices and work items: what the work index lists (home page,
``/api/me``, work lists) named the document by its trích yếu and carried the leader's notes; after
the destruction none of that may be shown to anyone (ARCHITECTURE invariant 7: the audit trail
keeps the fact, the "đã hủy" row the register entry, nothing keeps the content)."""

from __future__ import annotations

import pytest
from kho_people import PASSWORD, People
from kho_retention import closed_file, council_ready

from repository.workflow import Act
from web.context import Kho

NOTE = "Ý kiến ghichúbímật"


@pytest.mark.parametrize("kho", ["local", pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_a_destroyed_documents_notices_and_work_items_are_no_longer_listed(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people)
    kept, kept_docs = closed_file(kho, people, notation="02.TCCB", maintenance="Vĩnh viễn", words="giữlại")
    handling, clerk, head = kho.handling, people.actor("van_thu"), people.actor("lanh_dao")
    subject = kho.repo.get(docs[0], actor=clerk).metadata.subject  # type: ignore[union-attr]
    for rid in (docs[0], kept_docs[0]):
        handling.take(rid, Act.SUBMIT, expected_seq=0, actor=clerk, users=[head.user], note=NOTE)
    listed = {n.record_id: n.text for n in handling.notices(head)}
    assert NOTE in listed[docs[0]] and subject in listed[docs[0]]
    assert {row[0] for row in handling.to_direct(head)} >= {docs[0], kept_docs[0]}
    # A document under handling is not destroyed (DOCUMENT_UNDER_HANDLING): the leader ends it,
    # "để biết, lưu"; its notice (the note, the trích yếu) is still listed until the destruction.
    handling.take(docs[0], Act.FILE_ONLY, expected_seq=1, actor=head, note="Để biết")
    listed = {n.record_id: n.text for n in handling.notices(head)}
    assert NOTE in listed[docs[0]] and subject in listed[docs[0]]

    d, case = council_ready(kho, people, [file.record_id])
    case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=head)
    assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"

    for who in (head, clerk):
        notices = handling.notices(who)
        assert docs[0] not in {n.record_id for n in notices}
        assert not any(NOTE in n.text and n.record_id == docs[0] for n in notices)
        assert docs[0] not in {i.record_id for i in handling.my_work(who)}
        assert docs[0] not in {row[0] for row in handling.to_direct(who)}
    # The document that was kept is listed as before.
    assert kept_docs[0] in {n.record_id for n in handling.notices(head)}
    assert kept_docs[0] in {row[0] for row in handling.to_direct(head)}
    assert kept.record_id
