"""u13: a nộp lưu alert interrupted before it is sent whole is sent by the next run.

``send_alerts`` writes the alert's marker (sent once per hồ sơ, level and due date) before it
notifies anyone. Stopped in between — the task's soft time limit (``KHO_PERIODIC_SOFT_TIME_LIMIT``,
u13) raises ``SoftTimeLimitExceeded`` wherever the task is — the marker stayed: nobody was told
and no later run told them. Now the marker is given back and the next run sends the alert."""

from __future__ import annotations

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from kho_people import People
from kho_retention import closed_file

from retention.tasks import run_due_alerts
from web.context import Kho


def test_an_alert_cut_by_the_time_limit_is_sent_by_the_next_run(kho: Kho, people: People) -> None:
    file, _docs = closed_file(kho, people, notation="07.CAT")  # closed 2015: overdue
    calls: list[str] = []

    def cut(user: str, kind: str, message: str, record_id: str) -> None:
        calls.append(user)
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        kho.retention.send_alerts(cut, [people.actor("luu_tru")])
    assert calls, "the alert was never started"
    assert not [e for e in kho.repo.audit.events() if e.action == "retention:alert"]
    sent = run_due_alerts(kho.accounts, kho.retention)
    assert [a.file_id for a in sent] == [file.record_id]
    for who in ("chuyen_vien", "luu_tru"):
        due = [n for n in kho.accounts.notifications(people.usernames[who]) if n.kind == "retention:due"]
        assert len(due) == 1, who
    assert run_due_alerts(kho.accounts, kho.retention) == [], "still sent once"
