"""Tampering with the audit log as someone with write access to the store would, through its
stored objects: audit batches (group commit, the default) and single events alike.

The log is read here as its *layout*: the stored objects in key order, each with the position
its key gives it (the sequence number in the key) and its raw events; an event's position is its
object's plus its offset. Every helper changes the layout and writes back only the objects that
changed (deleting the keys that no longer hold anything), keeping each object's shape: a batch
stays a batch with its format stamp, a single event stays a single event. Deliberately
independent of :mod:`repository.audit`'s readers, which are what the tests check.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repository import formats
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditEvent, event_key
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

if TYPE_CHECKING:
    from repository.anchor import Anchor
    from repository.records import Repository


@dataclass
class Stored:
    """One stored object of the log."""

    first: int
    events: list[dict[str, Any]]
    batch: bool

    def data(self) -> bytes:
        if self.batch:
            body: Any = formats.stamp(formats.AUDIT_BATCH.name, {"events": self.events})
        else:
            (body,) = self.events
        return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def layout(store: ObjectStore) -> list[Stored]:
    out = []
    for info in store.list(EVENTS_PREFIX):
        raw = json.loads(store.get(info.key))
        first = int(info.key.rsplit("/", 1)[1].split(".")[0])
        if "events" in raw and "action" not in raw:
            out.append(Stored(first, list(raw["events"]), True))
        else:
            out.append(Stored(first, [raw], False))
    return out


def _bytes(objects: list[Stored]) -> dict[str, bytes]:
    return {event_key(o.first): o.data() for o in objects if o.events}


def save(store: ObjectStore, before: list[Stored], after: list[Stored]) -> None:
    """Write ``after`` over the store's ``before``: delete what went, put what changed."""
    old, new = {event_key(o.first): o.data() for o in before}, _bytes(after)
    for key in old.keys() - new.keys():
        store.delete(key)
    for key, data in new.items():
        if old.get(key) != data:
            store.put(key, data)


def _locate(objects: list[Stored], seq: int) -> tuple[int, int]:
    for n, obj in enumerate(objects):
        if obj.first <= seq < obj.first + len(obj.events):
            return n, seq - obj.first
    raise LookupError(f"no stored object holds position {seq}")


def _copy(objects: list[Stored]) -> list[Stored]:
    return [Stored(o.first, [dict(e) for e in o.events], o.batch) for o in objects]


def is_batched(store: ObjectStore) -> bool:
    """Whether the log holds any batch (it was written with group commit)."""
    return any(o.batch for o in layout(store))


def event_at(store: ObjectStore, seq: int) -> AuditEvent:
    """The event stored at position ``seq``, as written."""
    objects = layout(store)
    n, i = _locate(objects, seq)
    return AuditEvent.from_raw(objects[n].events[i])


def edit_event(store: ObjectStore, seq: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the raw event at position ``seq`` in place (inside its batch when it has one)."""
    before = layout(store)
    after = _copy(before)
    n, i = _locate(after, seq)
    change(after[n].events[i])
    save(store, before, after)


def replace_event(store: ObjectStore, seq: int, event: AuditEvent) -> None:
    """Put ``event`` at position ``seq`` in place of what is there."""
    def swap_in(raw: dict[str, Any]) -> None:
        raw.clear()
        raw.update(event.stored())

    edit_event(store, seq, swap_in)


def remove_event(store: ObjectStore, seq: int) -> None:
    """Take the event at position ``seq`` out of its object; the events after it in that object
    keep their positions (they go to an object of their own at the next key)."""
    before = layout(store)
    after = _copy(before)
    n, i = _locate(after, seq)
    obj = after[n]
    head, tail = obj.events[:i], obj.events[i + 1 :]
    obj.events = head
    if tail:
        after.insert(n + 1, Stored(seq + 1, tail, obj.batch))
    save(store, before, [o for o in after if o.events])


def cut_from(store: ObjectStore, seq: int) -> None:
    """Remove every event at position ``seq`` and after (the end of the log)."""
    before = layout(store)
    after = _copy(before)
    for obj in after:
        obj.events = obj.events[: max(0, seq - obj.first)]
    save(store, before, [o for o in after if o.events])


def insert_event(store: ObjectStore, seq: int, event: AuditEvent) -> None:
    """Insert ``event`` at position ``seq`` (into the object holding that position); every
    event from there on moves one position up, whole objects to the next key."""
    before = layout(store)
    after = _copy(before)
    n, i = _locate(after, seq)
    if after[n].batch:
        after[n].events.insert(i, event.stored())
        n += 1
    else:  # an object of its own, as the log's writer would have made it
        after.insert(n, Stored(seq, [event.stored()], False))
        n += 1
    for obj in after[n:]:
        obj.first += 1
    save(store, before, after)


def swap_events(store: ObjectStore, a: int, b: int) -> None:
    """Exchange the events at positions ``a`` and ``b``."""
    before = layout(store)
    after = _copy(before)
    (na, ia), (nb, ib) = _locate(after, a), _locate(after, b)
    after[na].events[ia], after[nb].events[ib] = after[nb].events[ib], after[na].events[ia]
    save(store, before, after)


def swap_objects(store: ObjectStore, a: int, b: int) -> None:
    """Exchange the stored objects at keys ``a`` and ``b`` (whole batches)."""
    da, db = store.get(event_key(a)), store.get(event_key(b))
    store.put(event_key(a), db)
    store.put(event_key(b), da)


def rewrite_consistently(store: ObjectStore, drop: set[int], *, strip_seals: bool = False) -> None:
    """What an attacker with store write access does: drop events, renumber and rehash the rest
    and write them back in objects of the shape the log had (batches of the same size, or single
    events), rewrite the witness, so the chain alone verifies. ``strip_seals``: every event's
    seal is left out too (the attacker has no seal key: a whole log with no seal is all legacy)."""
    before = layout(store)
    size = max(len(o.events) for o in before)
    events = [AuditEvent.from_raw(raw) for o in before for raw in o.events]
    prev = "0" * 64
    forged = []
    for n, event in enumerate(e for e in events if e.seq not in drop):
        event = replace(event, seq=n, prev=prev, hash="", seal=None if strip_seals else event.seal)
        event = replace(event, hash=event.compute_hash())
        forged.append(event)
        prev = event.hash
    after = [
        Stored(start, [e.stored() for e in forged[start : start + size]], size > 1)
        for start in range(0, len(forged), size)
    ]
    save(store, before, after)
    witness = formats.dumps(formats.WITNESS.name, {"seq": len(forged) - 1, "hash": prev})
    store.put(WITNESS_KEY, witness)


def lower_witness(store: ObjectStore, seq: int) -> None:
    """Point the witness at the event at position ``seq`` (after cutting what follows it)."""
    event = event_at(store, seq)
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": seq, "hash": event.hash}))


def append_forged(
    store: ObjectStore,
    fields: dict[str, Any],
    *,
    into_last_batch: bool = False,
    seal: str | None = None,
    at: str | None = None,
) -> AuditEvent:
    """What a writer of the store without the seal key does (review rv19, open item 0): an event
    with ``fields`` (actor, action, record_id, details …) chained after the log's last event with
    a correct hash and ``prev``, written at the next key (or, ``into_last_batch``, inside the last
    stored object), and the witness moved to it. ``seal``: a seal to put on it (copied from
    another event); else it has none. ``at``: its time (else the last event's)."""
    before = layout(store)
    after = _copy(before)
    last = AuditEvent.from_raw(after[-1].events[-1])
    body = {
        "record_id": None,
        "version": None,
        "source": "cli",
        "details": {},
        **fields,
        "seq": last.seq + 1,
        "at": at or last.at,
        "prev": last.hash,
        "format_version": formats.AUDIT_EVENT.current,
    }
    if seal is not None:
        body["seal"] = seal
    event = AuditEvent(**body)
    event = replace(event, hash=event.compute_hash())
    if into_last_batch and after[-1].batch:
        after[-1].events.append(event.stored())
    else:
        after.append(Stored(event.seq, [event.stored()], False))
    save(store, before, after)
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": event.seq, "hash": event.hash}))
    return event


def snapshot(store: ObjectStore, copy: Path) -> Callable[[], None]:
    """Take a copy of the whole store now (its witness included); the function returned puts it
    back, as one who writes the store would roll it back outside ``kho restore`` (review rv23):
    the local folder copied over, or on S3 every object newer than the copy deleted and the
    witness put back as it was."""
    if isinstance(store, LocalStore):
        shutil.copytree(store.root, copy)

        def put_back_folder() -> None:
            shutil.rmtree(store.root)
            shutil.copytree(copy, store.root)

        return put_back_folder
    keys = {info.key for info in store.list("")}
    witness = store.get(WITNESS_KEY)

    def put_back_objects() -> None:
        for info in list(store.list("")):
            if info.key not in keys:
                store.delete(info.key)
        store.put(WITNESS_KEY, witness)

    return put_back_objects


def register_numbers(repo: Repository) -> list[int]:
    """Every register number the store holds, sorted."""
    return sorted(e.number for e in repo.registers.all_entries())


def store_keys(store: ObjectStore) -> set[str]:
    return {info.key for info in store.list("")}


def fresh_process(store: ObjectStore, keystore: ObjectStore, anchor: Anchor | None) -> Repository:
    """A Kho process started now on the store (nothing cached)."""
    from kho_testing import AGENCY, AGENCY_NAME

    from repository.records import Repository

    repo = Repository(store, keystore, agency_id=AGENCY, agency_name=AGENCY_NAME)
    repo.anchor = anchor
    return repo
