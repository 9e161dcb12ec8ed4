"""Two văn thư confirm the same received document at once (review a6).

``complete_intake`` checked the record was still in intake, then allocated a number and wrote the
version; the number's register entry is the commit point and a version taken meanwhile is merged
over (``_materialise``). Two confirmations of one document (two tabs, two people of the văn thư)
that both passed the check each got a number: one document, two số đến (or số đi), both rows in
the register, the record ending with the second. Now a completion is one at a time
(``claims/intake/<id>`` then the version checked again): the second is refused with a 409
(``VERSION_CONFLICT``) before it takes a number.

The two confirmations are made to pass the state check together with a barrier in the signature
gate (after the check, before anything is written)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kho_testing import (
    CLERK,
    checked_by_ingest,
    incoming,
    outgoing,
    pdf_bytes,
    twice_at_once,
)

from kho.errors import Conflict
from repository.records import Repository


@pytest.fixture
def repo(repo_on: Repository) -> Repository:
    return repo_on


def _both_at_once(repo: Repository, direction: str, metadata: dict[str, Any]) -> tuple[str, list[Any]]:
    received = repo.create_intake(direction, pdf_bytes(f"race-{direction}"), "cv.pdf", CLERK)
    checked = checked_by_ingest(repo, received.record_id)  # as ingest leaves it
    together = threading.Barrier(2, timeout=30)
    gate = repo._gate

    def gate_together(*args: Any, **kwargs: Any) -> Any:
        together.wait()  # both have read the record in intake
        return gate(*args, **kwargs)

    repo._gate = gate_together  # type: ignore[method-assign]
    outcomes = twice_at_once(
        lambda: repo.complete_intake(
            checked.record_id, metadata, expected_version=checked.version, actor=CLERK
        )
    )
    return checked.record_id, outcomes


@pytest.mark.parametrize("direction", ["den", "di"])
def test_one_document_confirmed_twice_at_once_gets_one_number(repo: Repository, direction: str) -> None:
    metadata = incoming() if direction == "den" else outgoing()
    record_id, outcomes = _both_at_once(repo, direction, metadata)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    registered = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(registered) == 1 and len(refused) == 1, outcomes  # before: both registered
    assert isinstance(refused[0], Conflict) and refused[0].http_status == 409
    assert refused[0].code == "VERSION_CONFLICT" and "vào sổ" in refused[0].message
    entries = [info.key for info in repo.store.list("registers/")]
    assert len(entries) == 1, entries  # before: numbers 1 and 2 for the one document
    record = repo._load(record_id)
    assert record.registration == registered[0].registration and record.registration.number == 1
    assert list(repo.store.list("claims/intake/")) == []  # given back
