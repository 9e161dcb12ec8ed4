"""r34 review of m9's length limits: a text the rule accepts is stored whole, never cut silently
(the retention schedule's căn cứ was cut at 500 characters). The trust anchor's note (a
``Ghi chú``, not a one-line reference) is in ``test_trust_cli.py``."""

from __future__ import annotations

import pytest
from kho_people import People

from kho.errors import KhoError
from repository.vocabulary import TextKind
from web.context import Kho


def _schedule_entries(kho: Kho) -> list[dict[str, object]]:
    return [e.to_dict() for e in kho.retention.schedule().entries]


def test_the_schedule_keeps_the_whole_reason_it_was_edited_for(kho: Kho, people: People) -> None:
    service = kho.retention
    admin = people.actor("quan_tri")
    clause = (
        "Căn cứ Thông tư số 10/2022/TT-BNV ngày 19/12/2022 của Bộ Nội vụ quy định thời hạn bảo quản"
        " tài liệu, Mục 3 nhóm hồ sơ hội nghị, hội thảo; "
    )
    note = (clause * 6).strip()
    assert 500 < len(note) <= TextKind.NOTE
    new = service.edit_schedule(_schedule_entries(kho), expected_version=1, note=note, actor=admin)
    assert new.note == note
    assert service.schedule().note == note
    (event,) = [e for e in kho.repo.audit.events() if e.action == "retention:schedule-edit"]
    assert event.details["note"] == note

    with pytest.raises(KhoError) as refused:
        service.edit_schedule(_schedule_entries(kho), expected_version=2, note="x" * 1001, actor=admin)
    assert [e.code for e in refused.value.errors] == ["FIELD_TOO_LONG"]  # type: ignore[attr-defined]
    assert service.schedule().version == 2
