"""rv62's open item: an audit event whose ``details`` is not a JSON object (a list, a string, a
number; Kho always writes an object) stopped ``fsck()`` with ``AttributeError: 'list' object has
no attribute 'get'`` (and every later fsck of that store), while ``audit verify`` said the log
was whole. Such an event is now unreadable where events are parsed (``AuditEvent.from_raw``,
``FORMAT_INVALID``), which ``audit verify`` and fsck share: verify says the log is not whole,
fsck names the event (``audit``), the repair runs to its end, and the store still takes
documents. One who can write the store without the seal key can append such an event with the
chain's (public) hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, make_store, outgoing

from kho.errors import FormatInvalid
from repository.audit import AuditEvent, EventDraft
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("details", [[1, 2], "chi tiết", 5], ids=["list", "text", "number"])
@pytest.mark.parametrize("action", ["register:assign", "record:update", "hold:place"])
def test_an_event_whose_details_are_no_object_is_named_not_a_crash(
    backend: str, details: Any, action: str, tmp_path: Path
) -> None:
    repo = Repository(make_store(backend, tmp_path, "l51d"), LocalStore(tmp_path / "keys"), agency_id=AGENCY)
    held = repo.create_document("di", outgoing(), None, None, CLERK)
    assert fsck(repo, grace_seconds=0).clean
    [event] = repo.audit.append_many(
        [EventDraft("vanthu.nguyen", action, record_id=held.record_id, version=1, details=details)]
    )
    assert not repo.audit.verify().ok
    issues = [(i.kind, i.subject, i.repairable) for i in fsck(repo, grace_seconds=0).issues]
    assert issues == [("audit", f"#{event.seq}", False)]
    repaired = fsck(repo, repair=True, grace_seconds=0)
    assert [(i.kind, i.repaired) for i in repaired.issues] == [("audit", False)]
    later = repo.create_document("di", outgoing(), None, None, CLERK)
    assert later.registration is not None and held.registration is not None
    assert later.registration.number == held.registration.number + 1


def test_an_event_read_with_details_that_are_no_object_is_refused_with_a_code() -> None:
    raw = {
        "seq": 7, "at": "2026-12-07T00:00:00Z", "actor": "a", "action": "x:y", "record_id": None,
        "version": None, "source": None, "details": ["a"], "prev": "0" * 64, "hash": "0" * 64,
    }
    with pytest.raises(FormatInvalid) as refused:
        AuditEvent.from_raw(raw)
    assert refused.value.code == "FORMAT_INVALID" and "#7" in refused.value.message
    assert AuditEvent.from_raw({**raw, "details": None}).details is None  # (as written before)
    assert AuditEvent.from_raw({**raw, "details": {"k": 1}}).details == {"k": 1}
