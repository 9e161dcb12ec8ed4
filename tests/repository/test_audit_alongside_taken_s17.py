"""An object written alongside an act's events that is already taken is the act's error.

On main the append took the refusal for another writer holding the event's number, read the
never-written event key and ended in ``NotFound`` (found by s17; see bench/NOTES-s17.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kho.errors import AlreadyExists
from repository.audit import AuditLog, EventDraft, read_witness
from repository.storage.group import NewObject
from repository.storage.local import LocalStore


def test_a_taken_object_alongside_one_act_is_its_error_not_a_collision_of_the_event(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "s")
    log = AuditLog(store)
    log.append("kho", "note:first")
    store.put_if_absent("extra/taken", b"someone else's")

    with pytest.raises(AlreadyExists) as refused:
        log.append_many(
            [EventDraft("u", "note:a")], alongside=[NewObject(store, "extra/taken", b"mine")]
        )

    assert refused.value.details["key"] == "extra/taken"
    assert [e.seq for e in AuditLog(store).events()] == [0]  # nothing appended
    assert read_witness(store)["seq"] == 0
