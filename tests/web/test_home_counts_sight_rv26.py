"""The home page's task counts ask the access policy, as the lists they count do (rv26).

A chuyên viên (cleared Thường) is given a document to handle; the văn thư then raises it to
Mật. "Việc của tôi" leaves it out, but the home page (``HandlingService.counts``: the page, ``GET
/api/work`` and ``kho handling``) still counted it from the work index: "1 việc đang giải quyết,
1 sắp đến hạn" over an empty list, so the person learnt that a document they may no longer see
was still open and when it fell due.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from kho_people import People
from kho_testing import incoming
from kho_web import login

from kho.timeutil import vn_date
from repository.workflow import Act
from web.context import Kho


def test_the_task_counts_leave_out_a_document_raised_above_the_handlers_clearance(
    kho: Kho, people: People, app: Flask
) -> None:
    h = kho.handling
    clerk, leader, handler = people.actor("van_thu"), people.actor("lanh_dao"), people.actor("chuyen_vien")
    doc = kho.repo.create_document("den", incoming(code_number="5501"), None, None, clerk)
    h.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=clerk, users=[people.usernames["lanh_dao"]])
    deadline = (vn_date(h.clock()) + timedelta(days=1)).isoformat()
    h.take(
        doc.record_id,
        Act.DIRECT,
        expected_seq=1,
        actor=leader,
        users=[people.usernames["chuyen_vien"]],
        deadline=deadline,
    )
    before = h.counts(handler)
    assert (before.open, before.due_soon) == (1, 1)
    assert [w.record_id for w in h.my_work(handler)] == [doc.record_id]

    current = kho.repo.get(doc.record_id, actor=clerk)
    kho.repo.update_metadata(doc.record_id, {"secrecy": 2}, expected_version=current.version, actor=clerk)
    assert not kho.repo.may_see(handler, kho.repo.get(doc.record_id, actor=clerk))
    assert h.my_work(handler) == []
    after = h.counts(handler)
    assert (after.open, after.due_soon, after.overdue, after.inbox) == (0, 0, 0, 0), after

    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = "10.9.0.8"
    assert login(web, people, "chuyen_vien").status_code == 302
    home = web.get("/").get_data(as_text=True)
    assert re.search(r'id="home-open">0<', home), home
    # Who may still see it (the văn thư, cleared Tuyệt mật, who handles nothing) is unchanged;
    # the lãnh đạo who directed it and waits for nothing counts nothing of it either.
    assert h.counts(leader).to_direct == 0
