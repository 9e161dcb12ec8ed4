"""The agency's lưu trữ viên receives the hồ sơ of the phòng below it (receives_submission), but
may not know of that phòng's documents, nor of its hồ sơ never submitted (review rv8 of a15's
existence rule). The review, acceptance and return of such an id must answer as an id that names
nothing: a document was told "… không phải là hồ sơ", and a hồ sơ still open was reviewed and
shown whole (its title, the checks of its documents)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kho_people import People
from kho_submission import phong_b_file
from kho_testing import incoming

from kho.errors import KhoError
from repository.records import Actor, new_record_id
from web.context import Kho


def _answer(act: Callable[[str], Any], record_id: str) -> tuple[str, str, str]:
    try:
        act(record_id)
    except KhoError as error:
        return type(error).__name__, error.code, str(error).replace(record_id, "<id>")
    return "allowed", "", ""


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_the_agency_archivist_gets_an_absent_id_s_answer_for_what_a_phòng_never_submitted(
    kho: Kho, people: People
) -> None:
    archivist: Actor = people.actor("luu_tru")
    doc = kho.repo.create_document(
        "den", incoming(code_number="9914", issued_date="2015-03-02"), None, None, people.actor("van_thu_b")
    )
    open_file = phong_b_file(kho, people)  # not submitted: not the archive's to receive
    assert not kho.repo.may_see(archivist, kho.repo._load(doc.record_id))
    service = kho.retention
    acts: list[Callable[[str], Any]] = [
        lambda rid: service.review(rid, actor=archivist),
        lambda rid: service.accept(rid, expected_version=1, actor=archivist),
        lambda rid: service.return_file(rid, reason="Thiếu", expected_version=1, actor=archivist),
    ]
    for unseen in (open_file.record_id, doc.record_id):
        for act in acts:
            assert _answer(act, unseen) == _answer(act, new_record_id())
    assert kho.repo._load(open_file.record_id).version == open_file.version  # nothing written
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied" and e.actor == archivist.user]
    codes = {(e.record_id, e.details["code"], e.details.get("answered")) for e in denied}
    assert codes == {
        (open_file.record_id, "SUBMISSION_NOT_RECEIVED", "NOT_FOUND"),
        (doc.record_id, "NOT_A_FILE", "NOT_FOUND"),
    }
