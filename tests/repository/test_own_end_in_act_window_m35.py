"""A running process's last act cut and refilled while its next act is written (m35).

Review w1 item 3: one who can write the store cuts the events a running process wrote and
refills the log past them with forged, correctly chained events (and, if they like, a witness
naming the last). Before an act, ``AuditLog._cached_head`` finds that when the witness is past
the process's cached end: the last event it knew must still be there with its hash
(``_still_holds``). A refill landing *during* the act — after the witness read (main: before the
event write; since m31 on S3 also while the register entry is written) — was not found: the
act's event object collides with the refill, is chained after it, and the witness is moved
over it (its conditional replace refused, the re-read "above" the read), so the cut verified
whole. Now, before the witness is moved over events the act did not chain directly after the
process's cached end (it collided, or a conditional replace was refused), that end must still
hold (one read): else ``AUDIT_CHAIN_BROKEN``, the witness left where it is. Another writer's
legitimate appends in the same windows still go before the act, which is placed after them
and witnessed. Local folder and real Ceph RGW; the change lands via a hook on the store
instance (as in ``test_witness_read_ahead_m31.py``)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from kho_testing import (
    BACKENDS,
    CLERK,
    before_first_stage,
    make_store,
    new_repository,
    outgoing,
    two_event_act,
)

from kho.errors import AuditChainBroken
from repository.audit import (
    WITNESS_KEY,
    AuditEvent,
    AuditLog,
    EventDraft,
    batch_bytes,
    build_events,
    event_key,
    read_witness,
)
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

WINDOWS = ["registers/", "audit/events/"]
WINDOW_IDS = ["at-the-entry", "at-the-event"]


def _repository(backend: str, tmp_path: Path, name: str) -> tuple[ObjectStore, Repository]:
    store = make_store(backend, tmp_path, name)
    return store, new_repository(store, LocalStore(tmp_path / f"{name}-keys"))


def _number(repo: Repository) -> None:
    """One register number (a văn bản đi, no file): two events, one batch object."""
    repo.create_document("di", outgoing(), None, None, CLERK)


def _events(store: ObjectStore) -> list[AuditEvent]:
    return list(AuditLog(store).events())


def _two_numbers(repo: Repository, store: ObjectStore) -> list[AuditEvent]:
    """#0–#1 and #2–#3 (the process's last act, one object at #2): its next number is #4."""
    _number(repo)
    _number(repo)
    events = _events(store)
    assert [e.seq for e in events] == [0, 1, 2, 3]
    return events


def _refill_moving_the_witness(store: ObjectStore) -> None:
    """Cut the process's last act (#2–#3) and the witness, then write two acts of an attacker's
    log chained after #1 (#2–#5, objects at #2 and #4) with its witness at #5."""
    store.delete(event_key(2))
    store.delete(WITNESS_KEY)
    forger = AuditLog(store)
    two_event_act(forger, "forged-0")
    two_event_act(forger, "forged-1")


def _refill_leaving_the_witness(store: ObjectStore, after: AuditEvent) -> None:
    """Cut the process's last act (#2–#3) and write forged events #2–#5 (objects at #2 and #4)
    chained after ``after`` (#1) straight into the store, the witness left untouched (at #3,
    naming the process's own, now removed, event: its tag unchanged)."""
    store.delete(event_key(2))
    prev = after.hash
    for start in (2, 4):
        drafts = [EventDraft("forger", "record:create", record_id=f"f{start}"),
                  EventDraft("forger", "register:assign", record_id=f"f{start}")]
        forged = build_events(start, prev, after.at, drafts)
        store.put_if_absent(event_key(start), batch_bytes(forged))
        prev = forged[-1].hash


def _refused(repo: Repository) -> AuditChainBroken:
    with pytest.raises(AuditChainBroken) as refused:
        _number(repo)
    error = refused.value
    assert error.code == "AUDIT_CHAIN_BROKEN"
    assert unicodedata.is_normalized("NFC", error.message)
    return error


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOW_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_act_cut_and_refilled_with_the_witness_moved_while_a_number_is_taken_is_refused(
    backend: str, window: str, tmp_path: Path
) -> None:
    """The process's last act (#2–#3) cut and refilled (#2–#5 forged, witness at #5) while its
    next number is written. Before m35 the act collided with the forged #4, was chained after
    the forged #5 (#6–#7), and the witness was moved to #7 over the refill (on S3 in both
    windows, on the local folder at the event; the local folder reads the witness after the
    entry, so found the refill there already). Now refused, the witness left at #5."""
    store, repo = _repository(backend, tmp_path, f"m35rw{window[0]}")
    _two_numbers(repo, store)
    before_first_stage(store, lambda: _refill_moving_the_witness(store), window)
    error = _refused(repo)
    assert "#3" in error.message, error.message
    witness = read_witness(store)
    forged = [e for e in _events(store) if e.seq <= 5]
    assert (witness["seq"], witness["hash"]) == (5, forged[-1].hash)
    assert all(e.record_id and e.record_id.startswith("forged-") for e in forged[2:])


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOW_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_act_cut_and_refilled_with_the_witness_left_alone_while_a_number_is_taken_is_refused(
    backend: str, window: str, tmp_path: Path
) -> None:
    """The same refill (#2–#5 forged) written without touching the witness (still at #3, its
    tag unchanged). The witness read passes (it names the process's own #3), the act collides
    with the forged #4 and is chained after the forged #5, and the conditional replace
    succeeds (nothing changed the witness): before m35 the witness was moved to #7 over the
    refill in both windows on both stores. Now the act stepped over objects it did not know, so
    its own #3 is checked first: refused, the witness left at #3."""
    store, repo = _repository(backend, tmp_path, f"m35rl{window[0]}")
    events = _two_numbers(repo, store)
    before_first_stage(store, lambda: _refill_leaving_the_witness(store, events[1]), window)
    error = _refused(repo)
    assert "#3" in error.message, error.message
    witness = read_witness(store)
    assert (witness["seq"], witness["hash"]) == (3, events[3].hash)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_last_act_cut_and_refilled_with_the_witness_left_alone_between_acts_is_refused(
    backend: str, tmp_path: Path
) -> None:
    """The same refill made between two acts (no window at all): the witness read names the
    process's own #3, so ``_cached_head`` checks nothing more; the act collided with the forged
    #4 and was witnessed over the refill before m35 (in main too). Now refused, witness at #3."""
    store, repo = _repository(backend, tmp_path, "m35rb")
    events = _two_numbers(repo, store)
    _refill_leaving_the_witness(store, events[1])
    _refused(repo)
    witness = read_witness(store)
    assert (witness["seq"], witness["hash"]) == (3, events[3].hash)


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOW_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_another_writers_appends_while_a_number_is_taken_are_placed_before_it_and_witnessed(
    backend: str, window: str, tmp_path: Path
) -> None:
    """The legitimate race in the same windows: another process appends an act (#4–#5) while
    the number is written. The act goes after it (#6–#7), the witness is moved to it (its own
    #3 still holds), no refusal; the log verifies whole and the next number follows."""
    store, repo = _repository(backend, tmp_path, f"m35ok{window[0]}")
    _two_numbers(repo, store)
    before_first_stage(store, lambda: two_event_act(AuditLog(store), "other"), window)
    _number(repo)
    events = _events(store)
    assert [e.seq for e in events] == list(range(8))
    assert [e.record_id for e in events[4:6]] == ["other", "other"]
    witness = read_witness(store)
    assert (witness["seq"], witness["hash"]) == (7, events[7].hash)
    assert AuditLog(store).verify().ok
    _number(repo)
    assert read_witness(store)["seq"] == 9


@pytest.mark.parametrize("window", WINDOWS, ids=WINDOW_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_another_writers_appends_not_yet_witnessed_are_stepped_over_and_witnessed(
    backend: str, window: str, tmp_path: Path
) -> None:
    """Another writer's act (#4–#5) written but not yet witnessed (it died before its witness
    write, or has not got there) while the number is written: the act collides, goes after it
    (#6–#7) and moves the witness over it: no refusal. The object it collided with is chained
    after its own #3, so its own last act's object (#2) is not read again: two writers pay
    nothing for the check."""
    store, repo = _repository(backend, tmp_path, f"m35dw{window[0]}")
    events = _two_numbers(repo, store)
    reads: list[str] = []
    real_get = store.get

    def get(key: str, version_id: str | None = None) -> bytes:
        reads.append(key)
        return real_get(key, version_id) if version_id is not None else real_get(key)

    store.get = get  # type: ignore[method-assign]

    def other_without_witness() -> None:
        drafts = [EventDraft("other", "record:create", record_id="o"),
                  EventDraft("other", "register:assign", record_id="o")]
        store.put_if_absent(event_key(4), batch_bytes(build_events(4, events[3].hash, events[3].at, drafts)))

    before_first_stage(store, other_without_witness, window)
    _number(repo)
    assert event_key(2) not in reads, reads
    after = _events(store)
    assert [e.seq for e in after] == list(range(8))
    witness = read_witness(store)
    assert (witness["seq"], witness["hash"]) == (7, after[7].hash)
    assert AuditLog(store).verify().ok
