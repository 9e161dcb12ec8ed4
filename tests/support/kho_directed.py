"""An incoming document registered by the văn thư, submitted to the lãnh đạo and directed to a
chuyên viên with a deadline (task "1"): the start of most handling tests (rv26, rv29)."""

from __future__ import annotations

from datetime import timedelta

from kho_people import People
from kho_testing import incoming

from kho.timeutil import vn_date
from repository.workflow import Act
from web.context import Kho


def directed(kho: Kho, people: People, number: str, *, handler: str = "chuyen_vien", days: int = 1) -> str:
    """The record id of a new incoming document numbered ``number``, directed to ``handler`` with
    its deadline ``days`` after today."""
    h = kho.handling
    doc = kho.repo.create_document("den", incoming(code_number=number), None, None, people.actor("van_thu"))
    h.take(
        doc.record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    h.take(
        doc.record_id,
        Act.DIRECT,
        expected_seq=1,
        actor=people.actor("lanh_dao"),
        users=[people.usernames[handler]],
        deadline=(vn_date(h.clock()) + timedelta(days=days)).isoformat(),
    )
    return doc.record_id
