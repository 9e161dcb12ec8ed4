"""Review rv6 (u5/u6): a held document whose last step was committed and not yet handed over (the
writer died in between, then a legal hold was placed) is shown, not a 500: the handling page and
the API answer 200 to the leader who took the step, the withholding is stored and audited once
however many reads meet it, and the person it was withheld from is refused (403), not served."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import login, text

from kho.timeutil import vn_date
from repository.handling import WITHHELD_PREFIX, step_key
from repository.workflow import Act
from retention.holds import Holds
from web.context import Kho


class _Died(BaseException):
    """The writing process ends here."""


def _half_done_then_held(kho: Kho, people: People) -> str:
    doc = kho.repo.create_document("den", incoming(code_number="931"), None, None, people.actor("van_thu"))
    kho.handling.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
                      users=[people.usernames["lanh_dao"]])
    store = kho.repo.store
    real = store.put_if_absent

    def dies_after_the_step(key: str, *args: Any, **kwargs: Any) -> Any:
        out = real(key, *args, **kwargs)
        if key == step_key(doc.record_id, 2):
            raise _Died
        return out

    store.put_if_absent = dies_after_the_step  # type: ignore[method-assign]
    try:
        with pytest.raises(_Died):
            kho.handling.take(
                doc.record_id, Act.DIRECT, expected_seq=1, actor=people.actor("lanh_dao"),
                users=[people.usernames["chuyen_vien_b"]],
                deadline=(vn_date(kho.handling.clock()) + timedelta(days=14)).isoformat(),
            )
    finally:
        store.put_if_absent = real  # type: ignore[method-assign]
    Holds(kho.repo).place([doc.record_id], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))
    return doc.record_id


def test_a_held_documents_handling_page_and_api_answer_with_the_step_withheld(
    app: Flask, web: FlaskClient, kho: Kho, people: People
) -> None:
    rid = _half_done_then_held(kho, people)
    login(web, people, "lanh_dao")
    for _ in range(2):
        page = web.get(f"/handling/{rid}")
        assert page.status_code == 200, text(page)[:500]
        answer = app.test_client().get(f"/api/handling/{rid}", headers=people.headers("lanh_dao"))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        assert len(answer.json["steps"]) == 2
        record = web.get(f"/records/{rid}")
        assert record.status_code == 200
    stored = [i.key for i in kho.repo.store.list(f"{WITHHELD_PREFIX}{rid}/")]
    assert stored == [f"{WITHHELD_PREFIX}{rid}/000002"]
    events = [
        e for e in kho.repo.audit.events()
        if e.record_id == rid and e.action == "handling:distribute-withheld"
    ]
    assert len(events) == 1
    refused = app.test_client().get(f"/api/handling/{rid}", headers=people.headers("chuyen_vien_b"))
    assert refused.status_code == 404  # not distributed to them: the answer of an absent id (a15)
