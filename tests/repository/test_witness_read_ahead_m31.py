"""The audit witness read of a register number, started ahead on S3 (issue 14, m31).

A process that has appended before reads the audit witness before each act's events
(``AuditLog._cached_head``). On S3 that read is a request round trip (~3 ms on the test gateway);
``Repository.create_document`` starts it just before the register entry (the commit point) is
written, so that it runs beside the register's claim and entry writes instead of after them.
Everything the read is checked for is still checked before the first event object is written,
and the witness is moved only by a replace conditional on the version read (its tag).

The read now happens before the register entry is written, not after it: a cut, a lowered or
deleted witness, or an auditor's acknowledgement landing while the entry is written lands
after the read. The tests below make each land there (and, for comparison, where it lands
between the read and the event write in every version of the code) and pin what stays
true: the act is refused with ``AUDIT_CHAIN_BROKEN`` and the witness is never moved over the
cut; an acknowledgement is never filled in below. The local folder's read (~55 µs) is made in
place, in the creating thread, after the entry (a thread hand-off would cost more)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from kho_testing import (
    BACKENDS,
    CLERK,
    acknowledge_cut,
    before_first_stage,
    make_store,
    new_repository,
    outgoing,
    outside_anchor,
)

from kho.errors import AuditChainBroken
from repository import formats
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    IN_PLACE_AFTER_MEETING,
    WITNESS_KEY,
    AuditEvent,
    AuditLog,
    event_key,
    read_witness,
)
from repository.records import Repository
from repository.storage.base import ObjectInfo, ObjectStore, Staged
from repository.storage.local import LocalStore

REASON = "Đã đối chiếu phần cuối bị mất với bản sao lưu: sự cố đĩa, không phải can thiệp."
WAIT_S = 20.0  # generous: the machine is shared and loaded


def _repository(backend: str, tmp_path: Path, name: str) -> tuple[ObjectStore, Repository]:
    store = make_store(backend, tmp_path, name)
    return store, new_repository(store, LocalStore(tmp_path / f"{name}-keys"))


def _number(repo: Repository) -> None:
    """One register number (a văn bản đi, no file): two events, one batch object."""
    repo.create_document("di", outgoing(), None, None, CLERK)


def _set_witness(store: ObjectStore, event: AuditEvent) -> None:
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": event.seq, "hash": event.hash}))


@pytest.mark.s3
def test_on_s3_the_witness_read_runs_beside_the_register_entry_write(tmp_path: Path) -> None:
    """The witness GET of a number starts before the register entry's create has returned, in
    another thread: the entry's create waits (up to 20 s) for the GET to begin, which before
    m31 came only after the entry was written. Still one witness read per number."""
    store, repo = _repository("s3", tmp_path, "m31beside")
    _number(repo)  # the first act checks the log as a new process does, in place
    started = threading.Event()
    reads: list[str] = []
    real_get_tagged, real_put = store.get_tagged, store.put_if_absent
    creating = threading.current_thread().name
    seen_before_entry: list[bool] = []

    def get_tagged(key: str) -> tuple[bytes, str]:
        if key == WITNESS_KEY:
            reads.append(threading.current_thread().name)
            started.set()
        return real_get_tagged(key)

    def put_if_absent(key: str, data: bytes) -> ObjectInfo:
        if key.startswith("registers/"):
            seen_before_entry.append(started.wait(WAIT_S))
        return real_put(key, data)

    store.get_tagged = get_tagged  # type: ignore[method-assign]
    store.put_if_absent = put_if_absent  # type: ignore[method-assign]
    for _ in range(2):
        started.clear()
        _number(repo)
    assert seen_before_entry == [True, True]
    assert len(reads) == 2 and creating not in reads, reads
    assert read_witness(store)["seq"] == 5
    assert AuditLog(store).verify().ok


def test_on_the_local_folder_the_witness_is_read_in_place_after_the_entry(tmp_path: Path) -> None:
    """The local folder's witness read stays where it was: in the creating thread, after the
    register entry (no thread hand-off for a ~55 µs read). Passes before and after m31."""
    store, repo = _repository("local", tmp_path, "m31local")
    _number(repo)
    order: list[str] = []
    real_get_tagged, real_stage = store.get_tagged, store.stage

    def get_tagged(key: str) -> tuple[bytes, str]:
        if key == WITNESS_KEY:
            order.append("read in " + threading.current_thread().name)
        return real_get_tagged(key)

    def stage(key: str, data: bytes, *, fresh: bool = False) -> Staged:
        if key.startswith("registers/"):
            order.append("entry")
        return real_stage(key, data, fresh=fresh)

    store.get_tagged = get_tagged  # type: ignore[method-assign]
    store.stage = stage  # type: ignore[method-assign]
    _number(repo)
    assert order == ["entry", "read in " + threading.current_thread().name]


WINDOWS = ["registers/", "audit/events/"]


@pytest.mark.parametrize("window", WINDOWS, ids=["at-the-entry", "at-the-event"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cut_with_the_witness_lowered_while_a_number_is_taken_is_refused(
    backend: str, window: str, tmp_path: Path
) -> None:
    """An attacker cuts the process's last act (#2–#3) and puts the witness back at #1 while
    the next number is written. The act is refused (``AUDIT_CHAIN_BROKEN``) and the witness is
    left at #1, not moved over the cut; nothing is chained into the numbers cut. The register
    entry is written either way (the refusal comes after the commit point, as before m31)."""
    store, repo = _repository(backend, tmp_path, f"m31cut{window[0]}")
    _number(repo)
    _number(repo)  # #2–#3
    first = list(AuditLog(store).events())[1]

    def cut() -> None:
        store.delete(event_key(2))
        _set_witness(store, first)

    before_first_stage(store, cut, window)
    with pytest.raises(AuditChainBroken) as refused:
        _number(repo)
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert read_witness(store)["seq"] == 1
    # nothing chained into the numbers cut (a consistently lowered witness with nothing after
    # it verifies clean: only a signed checkpoint finds that, test_audit_cut.py)
    assert not store.exists(event_key(2)) and not store.exists(event_key(3))
    assert len(list(repo.registers.all_entries())) == 3


@pytest.mark.parametrize("window", WINDOWS, ids=["at-the-entry", "at-the-event"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_deleted_while_a_number_is_taken_is_not_written_again(
    backend: str, window: str, tmp_path: Path
) -> None:
    """The witness deleted while the next number is written: refused, and left missing (a new
    witness would cover whatever was cut with it)."""
    store, repo = _repository(backend, tmp_path, f"m31del{window[0]}")
    _number(repo)
    _number(repo)
    before_first_stage(store, lambda: store.delete(WITNESS_KEY), window)
    with pytest.raises(AuditChainBroken) as refused:
        _number(repo)
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert not store.exists(WITNESS_KEY)
    with pytest.raises(AuditChainBroken):  # nor by the next act of the process
        _number(repo)
    assert not store.exists(WITNESS_KEY)


@pytest.mark.parametrize("window", WINDOWS, ids=["at-the-entry", "at-the-event"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledgement_while_a_number_is_taken_is_never_filled_in_below(
    backend: str, window: str, tmp_path: Path
) -> None:
    """The process's last act (#2–#3) is cut and an auditor acknowledges it (``audit:acknowledge``
    at #2, the witness at it) while the next number is written. Either the act goes right after
    the acknowledgement (the read found it: before m31 when it lands at the entry), or it is
    refused (``AUDIT_CHAIN_BROKEN``: the witness was rewritten below the version read before the
    events; when it lands after the read: at the event in every version, at the entry since m31)
    with the witness left at the acknowledgement. Never is the witness moved past an event that
    is not chained after the acknowledgement, and the acknowledgement stays intact."""
    store, repo = _repository(backend, tmp_path, f"m31ack{window[0]}")
    anchor = outside_anchor(tmp_path)
    _number(repo)
    _number(repo)
    acks: list[AuditEvent] = []

    def cut_and_acknowledge() -> None:
        store.delete(event_key(2))
        store.delete(WITNESS_KEY)
        acks.append(acknowledge_cut(store, anchor, REASON))

    before_first_stage(store, cut_and_acknowledge, window)
    try:
        _number(repo)
        placed = True
    except AuditChainBroken as refused:
        assert refused.code == "AUDIT_CHAIN_BROKEN"
        placed = False
    # Where the read comes after the change in every version: refused. Before it (the local
    # folder's entry): placed. S3's entry: placed before m31, refused since (the read moved).
    expected = {("local", "registers/"): True, ("local", "audit/events/"): False}
    assert placed == expected.get((backend, window), False if window == "audit/events/" else placed)
    (ack,) = acks
    assert ack.seq == 2
    events = {e.seq: e for e in AuditLog(store).events()}
    assert events[2].hash == ack.hash and events[2].action == ACKNOWLEDGE_ACTION
    witness = read_witness(store)
    if placed:
        assert window == "registers/"
        assert witness["seq"] == 4 and events[3].prev == ack.hash and events[4].prev == events[3].hash
    else:
        assert (witness["seq"], witness["hash"]) == (2, ack.hash)
        assert not store.exists(event_key(3))  # the act did not fill in the number after it


@pytest.mark.s3
def test_on_s3_a_writer_that_met_another_reads_the_witness_in_place_for_a_while(
    tmp_path: Path,
) -> None:
    """With writers sharing the log, a read started ahead is mostly stale by the event write and
    costs a collision more (two processes in one series: 13.7 → 16.9 requests a number). A
    writer whose last event object met another writer's reads the witness in place (in the
    creating thread, after the entry); once an act of it meets no other writer it reads ahead
    again. Fails without the contention rule (every read after the first ahead)."""
    store, repo = _repository("s3", tmp_path, "m31met")
    second = new_repository(store, LocalStore(tmp_path / "m31met-keys2"))
    _number(repo)  # first act: in place
    _number(second)
    creating = threading.current_thread().name
    reads: list[str] = []
    read_done = threading.Event()
    real_get_tagged = store.get_tagged

    def get_tagged(key: str) -> tuple[bytes, str]:
        if key != WITNESS_KEY:
            return real_get_tagged(key)
        reads.append("in place" if threading.current_thread().name == creating else "ahead")
        try:
            return real_get_tagged(key)
        finally:
            read_done.set()

    def second_appends() -> None:
        assert read_done.wait(WAIT_S)  # the first writer's read has answered: it cannot see this
        _number(second)

    store.get_tagged = get_tagged  # type: ignore[method-assign]
    # The second writer appends while the first writes its entry: the first's read (ahead, its
    # last act met nobody) misses it, and its event object meets the second's.
    before_first_stage(store, second_appends, "registers/")
    _number(repo)
    assert reads[0] == "ahead", reads
    reads.clear()
    for _ in range(IN_PLACE_AFTER_MEETING):  # met the other writer: in place for a while
        _number(repo)
    assert reads == ["in place"] * IN_PLACE_AFTER_MEETING, reads
    reads.clear()
    _number(repo)  # then written alone long enough: ahead again
    assert reads == ["ahead"], reads
    assert AuditLog(store).verify().ok
