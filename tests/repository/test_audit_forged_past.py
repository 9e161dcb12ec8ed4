"""Forged, correctly chained events past a running process's cached end (review w1, "Item 3").

One who can write the store cuts the events a running process wrote, writes events of their own
chained after the real end up past the process's cached number, and a witness naming the last of
them. The witness is then at or past the process's cached end (the path of "other processes
wrote meanwhile"), so the process used to chain after it: its own events were gone and the log
verified whole. Now, on that path only, the process checks that the last event it knew is still
there with its hash — one read of the object that held it — and refuses the act as a cut is
refused (``AUDIT_CHAIN_BROKEN``, nothing written, warning logged, cache dropped). A lone writer
never takes that path and reads nothing more; two writers taking turns read one object more per
act. What it cannot find: events of *other* processes cut and forged between its last event and
the witness (it never knew them); only a signed checkpoint finds those. Local folder and S3."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kho_testing import BACKENDS, make_store, two_event_act

from kho.errors import AuditChainBroken
from repository.audit import EVENTS_PREFIX, AuditLog, event_key, read_witness
from repository.storage.base import ObjectStore


def _keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


def _forge_past(store: ObjectStore, cut: list[str], acts: int) -> None:
    """Delete ``cut`` (the running process's events) and the witness, then write ``acts`` acts of
    two events chained after the real end, with a witness at the last: written by a log of the
    attacker's (a new process accepts the consistent end it finds)."""
    for key in cut:
        store.delete(key)
    from repository.audit import WITNESS_KEY

    store.delete(WITNESS_KEY)
    forger = AuditLog(store)
    for n in range(acts):
        two_event_act(forger, f"forged-{n}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_events_chained_past_the_cached_end_are_not_chained_after(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store(backend, tmp_path, "fp")
    running, other = AuditLog(store), AuditLog(store)
    two_event_act(other, "a")  # #0–#1
    two_event_act(running, "b")  # #2–#3: the running process's next number is #4
    _forge_past(store, [event_key(2)], acts=2)  # #2–#5 forged, witness at #5: past #4
    assert read_witness(store)["seq"] == 5
    before = _keys(store)
    with caplog.at_level(logging.WARNING), pytest.raises(AuditChainBroken) as refused:
        two_event_act(running, "c")  # main: written at #6, after the forgery; verify clean
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert "#3" in refused.value.message and "#5" in refused.value.message
    assert _keys(store) == before  # nothing written
    assert any("event #3" in r.getMessage() for r in caplog.records)
    # Once: the cache is dropped; the next act checks the log as a new process does.
    assert two_event_act(running, "d")[0].seq == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_single_event_act_cut_and_refilled_is_refused_too(backend: str, tmp_path: Path) -> None:
    """The process's last event starts its own object (one event per act)."""
    store = make_store(backend, tmp_path, "fs")
    running, other = AuditLog(store), AuditLog(store)
    two_event_act(other, "a")  # #0–#1
    running.append("clerk", "record:view", record_id="b")  # #2
    _forge_past(store, [event_key(2)], acts=1)  # #2–#3 forged
    with pytest.raises(AuditChainBroken):
        running.append("clerk", "record:view", record_id="c")
    assert _keys(store) == [event_key(0), event_key(2)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_writers_taking_turns_are_not_refused_and_read_one_object_more_a_lone_writer_none(
    backend: str, tmp_path: Path
) -> None:
    """The legitimate case of the same path: another process wrote since. The check reads the
    object of this process's last event (its key remembered: one read, never a miss first) and
    lets the act through; a lone writer reads no event object at all."""
    store = make_store(backend, tmp_path, "ft")
    reads: list[str] = []
    get = store.get

    def counting(key: str) -> bytes:
        reads.append(key)
        return get(key)

    store.get = counting  # type: ignore[method-assign]
    one, two = AuditLog(store), AuditLog(store)
    two_event_act(one, "a")
    two_event_act(two, "b")

    def older_read(below: int) -> list[str]:
        """The event objects read during the act that lie below its own events."""
        return [k for k in reads if k.startswith(EVENTS_PREFIX) and k < event_key(below)]

    for n in range(3):  # taking turns: each act finds the other's events past its own
        reads.clear()
        mine = two_event_act(one, f"one-{n}")
        assert older_read(mine[0].seq) == [event_key(mine[0].seq - 4)]  # its own last act's object
        reads.clear()
        mine = two_event_act(two, f"two-{n}")
        assert older_read(mine[0].seq) == [event_key(mine[0].seq - 4)]
    for n in range(3):  # alone: nothing past its end, no older event object read
        reads.clear()
        mine = two_event_act(two, f"alone-{n}")
        assert older_read(mine[0].seq) == []
    assert two.verify().ok
