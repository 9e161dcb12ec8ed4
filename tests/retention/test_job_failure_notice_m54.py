"""A scheduled job's failure is told to the agency's operators, not to every phòng's (rv59 open
item 2).

A failed backup, fixity check, capacity check... is the installation's, run by the agency's
quản trị (``Action.OPERATE``). Its notice carries the job's error word for word, which nothing
keeps from naming a record, and it went to every quản trị and lưu trữ viên of every unit. Now it
goes to those holding either role at the agency's own unit; the audit event says who was told.
The failure is recorded by the real task (``kho.retention.timed_out``, run in this process, as
the worker runs it for a job killed at its hard limit).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import AGENCY, UNIT_B, People
from kho_retention import kho_env

from repository.policy import Role
from retention.tasks import scheduled_timed_out
from web.context import Kho


def test_a_failed_scheduled_job_is_told_to_the_agency_operators_only(
    kho: Kho, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in kho_env(tmp_path).items():  # the task opens the installation from them
        monkeypatch.setenv(key, value)
    archivist_b = people.add("luu_tru_b", "Vũ Thị Lưu", UNIT_B, [Role.LUU_TRU], 0).username
    admin_b = people.add("quan_tri_b", "Đặng Văn Trị", UNIT_B, [Role.QUAN_TRI], 0).username
    both = people.add("luu_tru_ab", "Mai Văn Kép", UNIT_B, [Role.LUU_TRU], 0)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(both.username, [(UNIT_B, Role.LUU_TRU), (AGENCY, Role.LUU_TRU)], admin)

    result = scheduled_timed_out("backup")

    assert result == {"ok": False, "code": "BACKUP_TIMEOUT"}
    (event,) = [e for e in kho.repo.audit.events() if e.action == "backup:failed"]
    told = set(event.details["notified"])
    agency = {people.usernames["quan_tri"], people.usernames["luu_tru"], both.username}
    assert told == agency, (told, agency)  # before: phòng B's lưu trữ viên and quản trị too
    for username in (archivist_b, admin_b):
        assert not [n for n in kho.accounts.notifications(username) if n.kind == "backup"], username
    (notice,) = [n for n in kho.accounts.notifications(people.usernames["luu_tru"]) if n.kind == "backup"]
    assert "[BACKUP_TIMEOUT]" in notice.message, notice
