"""rv28 (u13's open item): a due alert whose marker cannot be given back is still sent later.

``send_alerts`` wrote the alert's once-only marker before notifying; interrupted (the soft time
limit), it gave the marker back — unless the store was down at that moment (the delete fails too):
the marker stayed, and no later run ever told anyone. Now a run claims the alert, marks it sent
only once it is sent whole, and a claim left behind is taken over by a run past the task's hard
time limit. Real Ceph S3 through a relay the test cuts (connections refused), nothing patched."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from kho_people import make_people
from kho_relay import Relay
from kho_retention import closed_file, s3_env

from kho.config import Settings
from kho.errors import KhoError
from retention.service import RetentionService
from retention.tasks import run_due_alerts
from web.context import Kho


@pytest.mark.s3
def test_an_alert_cut_while_the_store_is_down_is_sent_by_a_later_run(tmp_path: os.PathLike[str]) -> None:
    env = s3_env(tmp_path)  # type: ignore[arg-type]
    relay = Relay(env["KHO_S3_ENDPOINT"]).start()
    try:
        kho = Kho(Settings.from_env({**os.environ, **env, "KHO_S3_ENDPOINT": relay.address}))
        people = make_people(kho)
        file, _docs = closed_file(kho, people, notation="07.CAT")  # closed 2015: overdue
        now = [datetime.now(UTC)]
        service = RetentionService(kho.repo, clock=lambda: now[0])
        told: list[str] = []

        def cut(user: str, kind: str, message: str, record_id: str) -> None:
            told.append(user)
            relay.stop()  # the store goes down, then the time limit lands
            raise SoftTimeLimitExceeded()

        with pytest.raises((SoftTimeLimitExceeded, KhoError)):
            service.send_alerts(cut, [people.actor("luu_tru")])
        assert told, "the alert was never started"
        relay.start()
        assert run_due_alerts(kho.accounts, service) == [], "a claim as young as a run may still be sending"
        now[0] += timedelta(hours=1, minutes=1)  # the next run, past the task's hard time limit
        sent = run_due_alerts(kho.accounts, service)
        assert [a.file_id for a in sent] == [file.record_id]
        for who in ("chuyen_vien", "luu_tru"):
            due = [n for n in kho.accounts.notifications(people.usernames[who]) if n.kind == "retention:due"]
            assert len(due) == 1, who
        now[0] += timedelta(days=1)
        assert run_due_alerts(kho.accounts, service) == [], "sent once"
    finally:
        relay.stop()
