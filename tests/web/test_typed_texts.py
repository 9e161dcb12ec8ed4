"""One rule for every free text a person types: a hidden character (a control character, a
bidirectional override or isolate) is refused with FIELD_CONTROL_CHARS before anything is written.

Metadata, file names, full names and unit names already followed it; handling notes, return,
override and duplicate reasons, saved-search names, hold reasons and the destruction and nộp lưu
texts stored such characters as typed ("Đồng ý \u202eban hành" shows reversed to the next
reader)."""

from __future__ import annotations

import pytest
from kho_people import People, submit_with_note
from kho_testing import incoming

from ingest.pipeline import return_document
from kho.errors import ValidationFailed
from repository.saved_searches import SavedSearches
from retention.submission import SubmissionState, check_return
from web.context import Kho

NOT_RECORDS = ("accounts/", "units/", "tokens/", "token-index/", "audit", "catalog/", "notifications/")
HIDDEN = ("Đồng ý \u202eban hành", "ghi\x00chú", "ý kiến\x85", "a\u2066b\u2069")


def _refused(excinfo: pytest.ExceptionInfo[ValidationFailed], field: str) -> None:
    assert [(e.field, e.code) for e in excinfo.value.errors] == [(field, "FIELD_CONTROL_CHARS")]
    assert "ký tự điều khiển" in excinfo.value.message


@pytest.mark.parametrize("text", HIDDEN)
def test_a_handling_note_with_a_hidden_character_is_refused(kho: Kho, people: People, text: str) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="77"), None, None, clerk)
    with pytest.raises(ValidationFailed) as refused:
        submit_with_note(people, doc.record_id, text)
    _refused(refused, "note")
    assert kho.handling.steps(doc.record_id) == []
    # Line breaks and tabs in a note are still taken.
    submit_with_note(people, doc.record_id, "Kính trình\nđồng chí\tChủ tịch")
    assert kho.handling.steps(doc.record_id)[0].note == "Kính trình\nđồng chí\tChủ tịch"


@pytest.mark.parametrize("field", ["duplicate_reason", "override_reason"])
def test_a_registration_reason_with_a_hidden_character_is_refused(
    kho: Kho, people: People, field: str
) -> None:
    clerk = people.actor("van_thu")
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.create_document("den", incoming(code_number="78"), None, None, clerk, **{field: HIDDEN[0]})
    _refused(refused, field)
    assert not [i.key for i in kho.repo.store.list("") if not i.key.startswith(NOT_RECORDS)]


def test_a_return_reason_with_a_hidden_character_is_refused(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="79"), None, None, clerk, register=False)
    with pytest.raises(ValidationFailed) as refused:
        return_document(kho.repo, doc.record_id, actor=clerk, reason="Sai \u202ethẩm quyền")
    _refused(refused, "reason")
    assert not kho.repo.get(doc.record_id, actor=clerk).extra.get("returned")


def test_a_saved_search_name_with_a_hidden_character_is_refused(kho: Kho, people: People) -> None:
    who = people.actor("chuyen_vien")
    saved = SavedSearches(kho.repo)
    for name in ("Văn bản \u202eđến", "Tên\u2067x\u2069", "dòng\nhai"):
        with pytest.raises(ValidationFailed) as refused:
            saved.save(name, "ubnd", {}, [], actor=who)
        _refused(refused, "name")
    assert saved.list(actor=who) == []


def test_a_hold_reason_and_a_submission_return_reason_with_a_hidden_character_are_refused(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="80"), None, None, clerk)
    with pytest.raises(ValidationFailed) as refused:
        kho.repo.place_hold(
            doc.record_id, "hold-1", "Thanh tra \u202eđang xét", actor=people.actor("luu_tru")
        )
    _refused(refused, "reason")
    assert not kho.repo.holds_on(doc.record_id)
    with pytest.raises(ValidationFailed) as refused:
        check_return(SubmissionState.SUBMITTED, "Thiếu \u202emục lục")
    _refused(refused, "reason")
