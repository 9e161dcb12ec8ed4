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

import os
from typing import Any

import pytest
from kho_testing import CLERK, checked_by_ingest, incoming, outgoing, pdf_bytes

from kho.errors import Conflict
from repository.fsck import fsck
from repository.records import Record, Repository, version_key
from repository.registers import RegisterEntry


def _confirm(repo: Repository, rec: Record, code_number: str = "77") -> Record:
    """Confirm the received document (a văn bản đi takes its số from the register)."""
    md = incoming(code_number=code_number, issued_date="2026-03-02") if rec.kind == "den" else outgoing()
    return repo.complete_intake(rec.record_id, md, expected_version=rec.version, actor=CLERK)


def _killed_before_its_version(repo: Repository, direction: str = "den") -> Record:
    """A received document whose confirmation was killed after its number was entered in the
    register, before the version carrying it was written (the intake record, as read)."""
    rec = checked_by_ingest(
        repo, repo.create_intake(direction, pdf_bytes("killed-numbered"), "cv.pdf", CLERK).record_id
    )
    numbered = version_key(rec.record_id, rec.version + 1)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        real = repo.store.put_if_absent

        def dying(key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
            if key == numbered:
                os._exit(137)
            return real(key, data, *args, **kwargs)

        repo.store.put_if_absent = dying  # type: ignore[method-assign]
        try:
            _confirm(repo, rec)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 137, "the writer was not killed at its version"
    assert [e.number for e in _entries(repo, rec.record_id)] == [1]  # numbered in the register
    assert repo._load(rec.record_id).state == "intake"  # not yet in the record
    return rec


def _entries(repo: Repository, record_id: str) -> list[RegisterEntry]:
    out = [RegisterEntry.from_json(repo.store.get(i.key)) for i in repo.store.list("registers/")]
    return [e for e in out if e.record_id == record_id]


@pytest.mark.parametrize("direction", ["den", "di"])
def test_confirming_again_after_the_kill_rolls_forward_to_the_first_number(
    repo_on: Repository, direction: str
) -> None:
    repo = repo_on
    rec = _killed_before_its_version(repo, direction)
    again = _confirm(repo, rec, code_number="78")  # the văn thư confirms again (the form re-sent)
    assert again.state == "active" and again.registration is not None
    assert again.registration.number == 1  # before: 2, a second number for one document
    assert [e.number for e in _entries(repo, rec.record_id)] == [1]  # one row, no gap
    assert repo._versions(rec.record_id) == list(range(1, rec.version + 2))  # one version more
    assert repo._load(rec.record_id).registration == again.registration
    assert not repo.store.exists(f"claims/intake/{rec.record_id}")
    updates = [e for e in repo.audit.events() if e.record_id == rec.record_id and e.action == "record:update"]
    assert len(updates) == 1 and updates[0].details.get("rolled_forward") is True  # audited once
    with pytest.raises(Conflict):  # a third confirmation: registered already
        _confirm(repo, rec)
    assert {i.kind for i in fsck(repo, grace_seconds=0).issues} <= {"stale-claim"}


def test_fsck_repair_after_the_kill_rolls_forward_and_a_confirmation_then_is_refused(
    repo_on: Repository,
) -> None:
    repo = repo_on
    rec = _killed_before_its_version(repo)
    report = fsck(repo, repair=True, grace_seconds=0)
    assert "rolled-forward" in {i.kind for i in report.issues}
    done = repo._load(rec.record_id)
    assert done.state == "active" and done.registration is not None and done.registration.number == 1
    with pytest.raises(Conflict):
        _confirm(repo, rec)
    assert [e.number for e in _entries(repo, rec.record_id)] == [1]
