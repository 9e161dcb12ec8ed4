"""A process running since before the audit log was cut holds the old end of the log in its
head cache. After an auditor acknowledges the cut (``audit:acknowledge`` after the real end, the
witness at it), each act of that process reads the witness before it writes (the read that moving
the witness needs anyway) and goes after the newest event: never at its cached number (a gap past
the acknowledgement, or a removed event's number) — whether that number is above the
acknowledgement, at it, or below it, and also for an act whose batch was open across the cut.

The logs here are written with :class:`AuditLog` directly; each act is two events (a record's
creation and its number), one batch object with group commit. On the local folder and on S3."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import BACKENDS, acknowledge_cut, make_store, outside_anchor, two_event_act

from repository.anchor import Anchor, verify_anchored
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    EVENTS_PREFIX,
    WITNESS_KEY,
    AuditEvent,
    AuditLog,
    event_key,
)
from repository.storage.base import ObjectStore

REASON = "Đã đối chiếu phần cuối bị mất với bản sao lưu: sự cố đĩa, không phải can thiệp."


def _assert_after(store: ObjectStore, anchor: Anchor, ack: AuditEvent, written: list[AuditEvent]) -> None:
    """The events written after the acknowledgement follow it, one after the other, and verify
    is ok: no new gap, fork or overlap for anyone to acknowledge again."""
    events = list(AuditLog(store).events(ack.seq))
    assert events[0].hash == ack.hash and events[0].action == ACKNOWLEDGE_ACTION
    assert [e.seq for e in events] == list(range(ack.seq, ack.seq + len(events)))
    assert [e.prev for e in events[1:]] == [e.hash for e in events[:-1]]
    assert {e.hash for e in written} <= {e.hash for e in events}
    report = verify_anchored(AuditLog(store), anchor)
    assert report.ok and not report.open_findings, report.open_findings


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stale_writer_whose_cached_end_is_above_the_acknowledgement_writes_right_after_it(
    backend: str, tmp_path: Path
) -> None:
    """The stale process wrote the act that was cut: its cached next number (#6) is past the
    acknowledgement (#4), a free key. Before the fix it wrote there: a gap at #5 after the
    acknowledgement."""
    store, anchor = make_store(backend, tmp_path, "sa"), outside_anchor(tmp_path)
    stale, other = AuditLog(store), AuditLog(store)
    two_event_act(stale, "a")
    two_event_act(other, "b")
    two_event_act(stale, "c")  # #4–#5, cut below
    store.delete(event_key(4))
    store.delete(WITNESS_KEY)
    ack = acknowledge_cut(store, anchor, REASON)
    assert ack.seq == 4
    written = two_event_act(stale, "d")
    assert written[0].seq == 5 and written[0].prev == ack.hash
    written += two_event_act(other, "e")  # its cached end is the acknowledgement's number: it collides
    _assert_after(store, anchor, ack, written)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stale_writer_whose_cached_end_is_the_acknowledgements_number_writes_after_it(
    backend: str, tmp_path: Path
) -> None:
    """The stale process's cached next number (#4) is where the acknowledgement went: it goes
    after the witnessed acknowledgement (the collision alone already did, but must not step on
    into a gap another stale writer leaves)."""
    store, anchor = make_store(backend, tmp_path, "se"), outside_anchor(tmp_path)
    stale, cutter = AuditLog(store), AuditLog(store)
    two_event_act(cutter, "a")
    two_event_act(stale, "b")
    two_event_act(cutter, "c")
    two_event_act(cutter, "d")  # #6–#7
    store.delete(event_key(6))
    store.delete(event_key(4))
    store.delete(WITNESS_KEY)  # the tail cut down to the stale writer's act: the next is #4
    ack = acknowledge_cut(store, anchor, REASON)
    assert ack.seq == 4
    written = two_event_act(cutter, "e")  # above: #8 cached
    written += two_event_act(stale, "f")
    assert [e.seq for e in written] == [5, 6, 7, 8]
    _assert_after(store, anchor, ack, written)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stale_writer_whose_cached_end_is_below_the_acknowledgement_does_not_fill_a_removed_gap(
    backend: str, tmp_path: Path
) -> None:
    """The stale process's cached next number (#2) is a removed event's (an act deleted in the
    middle, and the tail cut; both acknowledged at #6). Before the fix it wrote there (the key is
    free): events put into acknowledged history, a new break before #4."""
    store, anchor = make_store(backend, tmp_path, "sb"), outside_anchor(tmp_path)
    stale, other = AuditLog(store), AuditLog(store)
    two_event_act(stale, "a")  # #0–#1: the stale writer's next number is #2
    for name in ("b", "c", "d"):  # #2–#3, #4–#5, #6–#7
        two_event_act(other, name)
    store.delete(event_key(2))  # removed in the middle
    store.delete(event_key(6))  # and the tail cut
    store.delete(WITNESS_KEY)
    ack = acknowledge_cut(store, anchor, REASON)
    assert ack.seq == 6
    written = two_event_act(stale, "e")
    assert written[0].seq == 7 and written[0].prev == ack.hash
    assert not store.exists(event_key(2))
    written += two_event_act(other, "f")
    _assert_after(store, anchor, ack, written)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stale_writer_whose_batch_was_open_across_the_acknowledgement_writes_after_it(
    backend: str, tmp_path: Path
) -> None:
    """The stale process had started a batch (its events are written when the block ends) before
    the cut; the cut and the acknowledgement happen inside the block. Its cached end (#6) is past
    the acknowledgement (#4): the batch goes right after it."""
    store, anchor = make_store(backend, tmp_path, "sm"), outside_anchor(tmp_path)
    stale = AuditLog(store)
    for name in ("a", "b", "c"):
        two_event_act(stale, name)
    with stale.batch():
        stale.append("clerk", "record:read", record_id="a")
        store.delete(event_key(4))
        store.delete(WITNESS_KEY)
        ack = acknowledge_cut(store, anchor, REASON)
        stale.append("clerk", "record:read", record_id="b")
    written = [e for e in AuditLog(store).events(ack.seq + 1)]
    assert [(e.seq, e.action) for e in written] == [(5, "record:read"), (6, "record:read")]
    assert written[0].prev == ack.hash
    _assert_after(store, anchor, ack, written)
    assert [i.key for i in store.list(EVENTS_PREFIX)][-1] == event_key(5)
