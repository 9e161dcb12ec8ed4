"""rv62: ``register:assign`` events crafted in the log must not stop ``kho fsck`` (m61's step 9d).

An installation without a seal key trusts every event whose hash chains (and one with a key
trusts the events below its sealed floor); one who can write the store can append such an event
with the chain's hash (public). m61's step 9d read the record an event names with the id as a
store key, and sorted the ids: an id that is not a key (``../x``, a NUL) stopped fsck with the
store's ``ValueError``, and an id that is not a string with a ``TypeError``, a traceback instead
of a report (on main before m61 the same log checked clean). Now an id that is not a string is a
malformed event (skipped, as m61 skips a number that is not a whole number), and an id of a form
Kho never makes names no record of the store (``is_record_id``, as every read by id says): the
number is reported given twice, that record "not in the store". Written with literal finding
names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, BACKENDS, CLERK, make_store, outgoing

from repository.audit import EventDraft
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore

SERIES = "hanh-chinh"
REUSED = "register-number-reused"


def _unsealed(backend: str, tmp_path: Path, name: str) -> Repository:
    """An installation with no seal key: every event whose hash chains is trusted."""
    return Repository(make_store(backend, tmp_path, name), LocalStore(tmp_path / "keys"), agency_id=AGENCY)


def _assign(record_id: Any, year: int, number: int) -> EventDraft:
    details = {"series": SERIES, "year": year, "number": number, "organ_id": AGENCY}
    return EventDraft("vanthu.nguyen", "register:assign", record_id=record_id, version=1, details=details)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("forged", ["../../x", "r\x00x", "A" * 300], ids=["dot-dot", "nul", "long"])
def test_an_assign_naming_an_id_that_is_no_key_is_reported_not_a_crash(
    backend: str, forged: str, tmp_path: Path
) -> None:
    repo = _unsealed(backend, tmp_path, "rv62id")
    held = repo.create_document("di", outgoing(), None, None, CLERK)
    assert held.registration is not None
    assert fsck(repo, grace_seconds=0).clean
    repo.audit.append_many([_assign(forged, held.registration.year, held.registration.number)])
    assert repo.audit.verify().ok  # the chain holds: only fsck can say it
    [reused] = fsck(repo, grace_seconds=0).issues  # main: ValueError from the store's key check
    assert reused.kind == REUSED and not reused.repairable
    assert reused.details["records"] == sorted([held.record_id, forged])
    assert reused.details["entry_record"] == held.record_id
    assert reused.details["missing"] == [forged]
    assert "văn bản không có trong kho" in reused.message
    again = fsck(repo, repair=True, grace_seconds=0)  # the repair runs to its end too
    assert [(i.kind, i.repaired) for i in again.issues] == [(REUSED, False)]


def test_an_assign_whose_record_id_is_not_a_string_is_skipped_not_a_crash(tmp_path: Path) -> None:
    repo = _unsealed("local", tmp_path, "rv62type")
    held = repo.create_document("di", outgoing(), None, None, CLERK)
    assert held.registration is not None
    repo.audit.append_many([_assign(5, held.registration.year, held.registration.number)])
    # main: TypeError sorting the holders (an int and a str); now a malformed event, skipped as m61
    # skips a number that is not a whole number
    assert fsck(repo, grace_seconds=0).clean
