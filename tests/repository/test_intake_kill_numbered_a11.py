"""A confirmation (``complete_intake``) killed between its register entry and the version that
carries the number (review a11).

The register entry is the commit point of a number; the record's next version, which shows the
number, is written after it. A văn thư's worker killed (kill -9, OOM) between the two left the
record in intake, its version unchanged, and its intake claim held by a dead process: the next
confirmation of the same document took the claim over, passed the version check and took a
**second** number — one document, số đến (or số đi) 1 and 2, two register rows. Now the next
confirmation (and ``kho fsck --repair``) rolls forward to the first number.

The writer is a real forked child that dies (``os._exit(137)``, as SIGKILL) at the real store's
create of that version, on the local folder and on Ceph S3."""

from __future__ import annotations

import threading

import pytest
from kho_intake import confirm_intake, killed_before_numbered, register_rows
from kho_testing import AGENCY, CLERK, person, twice_at_once

from kho.errors import Conflict
from repository.fsck import fsck
from repository.policy import Role
from repository.records import Record, Repository


@pytest.mark.parametrize("direction", ["den", "di"])
def test_confirming_again_after_the_kill_rolls_forward_to_the_first_number(
    repo_on: Repository, direction: str
) -> None:
    repo = repo_on
    rec = killed_before_numbered(repo, direction)
    again = confirm_intake(repo, rec)  # the văn thư confirms again (the same form re-sent)
    assert again.state == "active" and again.registration is not None
    assert again.registration.number == 1  # before: 2, a second number for one document
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]  # one row, no gap
    assert repo._versions(rec.record_id) == list(range(1, rec.version + 2))  # one version more
    assert repo._load(rec.record_id).registration == again.registration
    assert not repo.store.exists(f"claims/intake/{rec.record_id}")
    updates = [e for e in repo.audit.events() if e.record_id == rec.record_id and e.action == "record:update"]
    assert len(updates) == 1 and updates[0].details.get("rolled_forward") is True  # audited once
    with pytest.raises(Conflict):  # a third confirmation: registered already
        confirm_intake(repo, rec)
    assert {i.kind for i in fsck(repo, grace_seconds=0).issues} <= {"stale-claim"}


def test_fsck_repair_after_the_kill_rolls_forward_and_a_confirmation_then_is_refused(
    repo_on: Repository,
) -> None:
    repo = repo_on
    rec = killed_before_numbered(repo)
    report = fsck(repo, repair=True, grace_seconds=0)
    assert "rolled-forward" in {i.kind for i in report.issues}
    done = repo._load(rec.record_id)
    assert done.state == "active" and done.registration is not None and done.registration.number == 1
    with pytest.raises(Conflict):
        confirm_intake(repo, rec)
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]


THUONG_CLERK = person("vanthu.tran", (AGENCY, Role.VAN_THU))
"""A văn thư of the agency cleared for Thường documents only."""


def _rolled_forward_once(repo: Repository, record_id: str) -> None:
    updates = [e for e in repo.audit.events() if e.record_id == record_id and e.action == "record:update"]
    assert len(updates) == 1 and updates[0].details.get("rolled_forward") is True
    assert updates[0].details.get("confirmed_by") == CLERK.user  # who typed what it carries


@pytest.mark.parametrize("direction", ["den", "di"])
def test_a_confirmation_typed_otherwise_after_the_kill_is_told_it_was_not_applied(
    repo_on: Repository, direction: str
) -> None:
    """Review r32: a11 answered the second văn thư with the first confirmation's record (200),
    and what they typed (another trích yếu) was dropped unsaid. Now: the first number is rolled
    forward and the second is refused (409), told their input was not written."""
    repo = repo_on
    rec = killed_before_numbered(repo, direction)
    with pytest.raises(Conflict) as refused:
        confirm_intake(repo, rec, subject="Về việc khác hẳn do văn thư thứ hai nhập")
    assert refused.value.code == "INTAKE_NUMBERED_BEFORE" and refused.value.http_status == 409
    assert "số 01" in refused.value.message and "chưa được ghi" in refused.value.message
    done = repo._load(rec.record_id)
    assert done.state == "active" and done.registration is not None and done.registration.number == 1
    assert done.metadata is not None and "khác hẳn" not in done.metadata.subject
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]
    _rolled_forward_once(repo, rec.record_id)


def test_a_thuong_clerk_confirming_after_the_kill_is_not_sent_the_mat_document(repo_on: Repository) -> None:
    """Review r32: the killed confirmation typed the document Mật; a Thường văn thư confirming
    it next was answered with the Mật record (its trích yếu, its sender) by a11."""
    repo = repo_on
    secret = "Kế hoạch phòng thủ khu vực năm 2026"
    rec = killed_before_numbered(repo, "den", secrecy="Mật", subject=secret)
    with pytest.raises(Conflict) as refused:
        confirm_intake(repo, rec, actor=THUONG_CLERK)  # the intake is Thường: they may confirm it
    assert refused.value.code == "INTAKE_NUMBERED_BEFORE"
    assert secret not in str(refused.value.to_dict()) and "số 01" not in refused.value.message
    done = repo._load(rec.record_id)
    assert done.secrecy > 0 and done.registration is not None and done.registration.number == 1
    assert not repo.may_see(THUONG_CLERK, done)
    _rolled_forward_once(repo, rec.record_id)


def test_two_clerks_confirming_at_once_after_the_kill_take_no_second_number(repo_on: Repository) -> None:
    """Review r32 (held on a11): both take over the dead writer's intake claim at once; one rolls
    forward to the first number, the other is refused; one register row, one audited update."""
    repo = repo_on
    rec = killed_before_numbered(repo)
    start = threading.Barrier(2, timeout=30)

    def confirm() -> Record:
        start.wait()  # both past the kill, at once
        return confirm_intake(repo, rec)

    outcomes = twice_at_once(confirm)
    assert all(isinstance(o, Record | Conflict) for o in outcomes), outcomes
    records = [o for o in outcomes if isinstance(o, Record)]
    assert len(outcomes) == 2 and len(records) <= 1, outcomes
    assert all(r.registration is not None and r.registration.number == 1 for r in records)
    done = repo._load(rec.record_id)
    assert done.registration is not None and done.registration.number == 1
    assert [e.number for e in register_rows(repo, rec.record_id)] == [1]
    _rolled_forward_once(repo, rec.record_id)
