"""The next confirmation after one that failed between its catalog marker and its register entry
reads the register from the marker's ``from_number``, not whole (review r32, left open).

``_register_entry`` (the roll-forward of ``complete_intake`` and of ``kho fsck``) read every
entry of the register the marker names, one GET each, when the record had no entry there: at
2.5–3 ms a GET on this RGW, about 1 s per 400 entries, paid by the next văn thư. The marker now
carries a number the record's entry cannot be below (the next number the writing process would
try, known without a store call), and the register is listed from there. The roll-forward stays
exact: a confirmation that failed after its entry still gets its first number back.

The failures are the real store's, at its own writes: the stage of the register entry, the
create of the numbered version (a store error raised there once, as a full disk or an S3 500)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from kho_intake import confirm_intake, register_rows
from kho_testing import CLERK, checked_by_ingest, incoming, pdf_bytes

from repository.records import Record, Repository, version_key

EARLIER = 30
"""Entries already in the register before the failed confirmation."""


def _filled(repo: Repository) -> Repository:
    for n in range(EARLIER):
        repo.create_document("den", incoming(code_number=str(100 + n)), None, None, CLERK)
    return repo


def _intake(repo: Repository, seed: str) -> Record:
    return checked_by_ingest(repo, repo.create_intake("den", pdf_bytes(seed), "cv.pdf", CLERK).record_id)


@contextmanager
def _failing_once(repo: Repository, method: str, hit: Callable[[str], bool]) -> Iterator[None]:
    """The store's ``method`` raises OSError once, at the first key ``hit`` accepts."""
    store = repo.store
    real = getattr(store, method)
    done: list[str] = []

    def failing(key: str, *args: Any, **kwargs: Any) -> Any:
        if not done and hit(key):
            done.append(key)
            raise OSError(28, "No space left on device")
        return real(key, *args, **kwargs)

    setattr(store, method, failing)
    try:
        yield
    finally:
        setattr(store, method, real)
    assert done, "the store's write was never reached"


@contextmanager
def _register_gets(repo: Repository) -> Iterator[list[str]]:
    store = repo.store
    real = store.get
    seen: list[str] = []

    def counting(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.startswith("registers/"):
            seen.append(key)
        return real(key, *args, **kwargs)

    store.get = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        store.get = real  # type: ignore[method-assign]


def test_after_a_failure_before_the_entry_the_next_confirmation_reads_no_earlier_entry(
    repo_on: Repository,
) -> None:
    repo = _filled(repo_on)
    rec = _intake(repo, "m9-bounded-before-entry")
    with _failing_once(repo, "stage", lambda key: key.startswith("registers/")), pytest.raises(OSError):
        confirm_intake(repo, rec)
    assert register_rows(repo, rec.record_id) == []  # the entry was never written
    assert repo._load(rec.record_id).state == "intake"
    with _register_gets(repo) as gets:
        done = confirm_intake(repo, rec)
    assert done.registration is not None and done.registration.number == EARLIER + 1
    assert len(gets) <= 1, gets  # before: every entry of the register, EARLIER GETs
    assert [e.number for e in register_rows(repo, rec.record_id)] == [EARLIER + 1]


def test_after_a_failure_after_the_entry_the_bounded_lookup_still_rolls_forward(repo_on: Repository) -> None:
    repo = _filled(repo_on)
    rec = _intake(repo, "m9-bounded-after-entry")
    numbered = version_key(rec.record_id, rec.version + 1)
    with _failing_once(repo, "put_if_absent", lambda key: key == numbered), pytest.raises(OSError):
        confirm_intake(repo, rec)
    assert [e.number for e in register_rows(repo, rec.record_id)] == [EARLIER + 1]
    with _register_gets(repo) as gets:
        again = confirm_intake(repo, rec)
    assert again.registration is not None and again.registration.number == EARLIER + 1  # exact
    assert len(gets) <= 2, gets
    assert [e.number for e in register_rows(repo, rec.record_id)] == [EARLIER + 1]
    assert repo._load(rec.record_id).registration == again.registration
