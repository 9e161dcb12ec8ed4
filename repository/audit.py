"""The audit chain: an append-only, hash-chained log of events kept in the object store.

Each stored object ``audit/events/<shard>/<seq>.json`` — one event, or by default the events of
one act (group commit, below) — is created with create-if-absent, so two writers can never take
the same sequence number, and each event carries the SHA-256 of the event before it. ``verify``
walks the chain and names every event that was changed, removed, inserted or moved. A witness
object (``audit/witness.json``) records the newest sequence number so that events cut from the
end are found too; on backends with object lock every object is also put under COMPLIANCE
retention.

Group commit (``AuditLog(group_commit=True)``, the default since issue 14; ``False`` or
``KHO_AUDIT_GROUP_COMMIT=false`` writes one object per event, as before): the events of one act
(a record's creation and its number; the events of one :meth:`AuditLog.batch`) are written as
one object, an *audit batch* (:data:`repository.formats.AUDIT_BATCH`) at the key of its first
event: one create-if-absent (one claim on S3 servers without conditional PUT) instead of one per
event. Every event in it keeps its own sequence number, hash and link, so the chain, the witness
and the checkpoints mean what they meant; readers (here, :mod:`repository.anchor`, ``fsck``,
backups) expand a batch into its events, and stores holding both shapes read as one chain. The
events after a batch start at the key of its first event plus its length.

Seals (review rv20): the chain has no secret, so whoever writes the store could compute a hash and
a ``prev`` and append a forged event at the next key. A Kho with a seal key (derived from
``KHO_MASTER_KEY``) seals each event it writes (:func:`build_events`, format 2): an HMAC over its
body and position, inside the hashed body. ``verify`` names an event unsealed or badly sealed
after the first sealed one (kind ``seal``), and the readers that act on events read only those
:meth:`AuditLog.trusted` accepts (rules: :meth:`repository.seals.Sealer.event_verdict`).

Event names follow ``subject:action`` (``record:create``, ``content:read``, ``register:assign``).
Times are stored in UTC (QCVN 12:2026/BCA 2.2.22) and shown in Vietnam time.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kho import jsontext, logs
from kho.errors import (
    AUDIT_SEAL_KEY_MISSING_MESSAGE,
    AlreadyExists,
    AuditChainBroken,
    AuditSealKeyMissing,
    Conflict,
    FormatInvalid,
    FormatUnsupported,
    KhoError,
    NotFound,
)
from kho.scoped import RequestView
from kho.sentences import clause, sentences
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.audit_index import HOLD_EVENT_ACTIONS, MemoryRecordIndex, RecordIndex
from repository.seals import SEAL_FIELD, Sealer, Verdict
from repository.storage.base import ABSENT, ObjectStore, Retention
from repository.storage.group import (
    NewObject,
    Settling,
    pool_running,
    read_beside,
    start_after_fork,
    write_group,
    written,
)

if TYPE_CHECKING:  # the witness read started ahead of an act's writes (m31)
    from concurrent.futures import Future


def _warn(message: str, *args: object) -> None:
    """A warning in this module's log (:func:`kho.logs.warn`)."""
    logs.warn(__name__, message, *args)


GENESIS = "0" * 64
ACKNOWLEDGE_ACTION = "audit:acknowledge"
"""An auditor's signed decision on the log's findings (:mod:`repository.acknowledge`)."""
HOLD_RELEASE = "hold:release"
"""The hold event that lifts a hold (the others of :data:`HOLD_EVENT_ACTIONS` place one)."""
_SHARD = 100_000
EVENTS_PREFIX = "audit/events/"
WITNESS_KEY = "audit/witness.json"


def event_key(seq: int) -> str:
    return f"{EVENTS_PREFIX}{seq // _SHARD:06d}/{seq:012d}.json"


MAX_BATCH = 64
"""Events per batch object at most (longer acts take several objects); readers look this far
back for the object holding an event whose number is not a key."""


_NAMED_VERSION = re.compile(r"((?:accounts|units)/[^/]+)/v(\d{6})")


def object_named(event: AuditEvent) -> tuple[str, int] | None:
    """``("accounts/<name>", n)`` or ``("units/<id>", n)`` when ``event`` names version ``n`` of
    an account or a unit (``details.object``,
    :meth:`repository.accounts.AccountService._write_audited`): the by-record index keeps the
    highest per object (review s18; units: s20). Pure."""
    obj = (event.details or {}).get("object") if isinstance(event.details, dict) else None
    found = _NAMED_VERSION.fullmatch(obj) if isinstance(obj, str) else None
    return (found.group(1), int(found.group(2))) if found else None


def _held_log(seq: int) -> str:
    """The refusal of an append that meets event number ``seq`` claimed by a write that never
    finished (:meth:`~repository.storage.base.ObjectStore.get_landed`)."""
    return (
        f"Nhật ký kiểm toán đang bị giữ ở sự kiện số {seq} bởi một lượt ghi chưa hoàn tất (có thể"
        " lượt ghi đó đã dừng ở máy khác); sự kiện của thao tác này chưa được ghi vào nhật ký."
        " Hãy thử lại sau ít phút."
    )


def key_seq(key: str) -> int:
    """The sequence number an event key names (the first event of a batch)."""
    return int(key.rsplit("/", 1)[1].split(".")[0])


def listed_seq(key: str) -> int | None:
    """The sequence number of a key listed under :data:`EVENTS_PREFIX` when it is an event key
    exactly as Kho writes one (:func:`event_key`); None for any other object there (one added or
    renamed by a hand in the store). Readers skip such objects and :meth:`AuditLog.verify` names
    them: a key's number alone (``…/000000000005.x``, ``README.json``) must neither stand for an
    event that readers by key cannot find nor stop the check with a traceback."""
    try:
        seq = key_seq(key)
    except (ValueError, IndexError):
        return None
    return seq if seq >= 0 and event_key(seq) == key else None


def raw_events(raw: Any) -> list[Any]:
    """The parsed events one stored object holds: itself, or the events of a batch."""
    if isinstance(raw, dict) and "events" in raw and "action" not in raw:
        if (
            formats.FORMAT_KEY not in raw
            or formats.version_of(formats.AUDIT_BATCH.name, raw) < formats.AUDIT_BATCH.unversioned
        ):
            # No batch was ever written without its stamp: the wrapper was edited.
            raise FormatInvalid("Lô sự kiện nhật ký kiểm toán mang phiên bản định dạng không hợp lệ.")
        batch = formats.upcast(formats.AUDIT_BATCH.name, raw)
        items = batch["events"]
        if not isinstance(items, list) or not items:
            raise FormatInvalid("Lô sự kiện nhật ký kiểm toán không chứa sự kiện nào.")
        return items
    return [raw]


def parse_object(data: bytes) -> list[AuditEvent]:
    """The events of one stored object (one event, or a batch), in order."""
    raw = parse_json(data)
    try:
        return [AuditEvent.from_raw(item) for item in raw_events(raw)]
    except TypeError as exc:
        raise FormatInvalid("Sự kiện nhật ký kiểm toán thiếu hoặc thừa trường.") from exc


def batch_bytes(events: Sequence[AuditEvent]) -> bytes:
    """The stored form of several consecutive events (format ``audit-batch``)."""
    return encode_stored([e.stored() for e in events])


def encode_stored(stored: Sequence[Mapping[str, Any]]) -> bytes:
    """The bytes of one stored object holding the events whose stored forms
    (:meth:`AuditEvent.stored`) are ``stored``: the event itself when it is one
    (:meth:`AuditEvent.to_json`), else their batch (:func:`batch_bytes`)."""
    if len(stored) == 1:
        body: Mapping[str, Any] = stored[0]
    else:
        body = formats.stamp(formats.AUDIT_BATCH.name, {"events": list(stored)})
    return json.dumps(body, sort_keys=True, ensure_ascii=False).encode()


def raw_holding(store: ObjectStore, seq: int) -> tuple[int, list[Any]] | None:
    """The object that holds event ``seq`` — its key's number and its parsed events — or None.

    Its own key when it starts an object; else the key before it (the batch of an act of two
    events, the commonest: a record's creation and its number); otherwise the nearest key below
    it, found by one listing of at most :data:`MAX_BATCH` keys. :class:`FormatInvalid` if it does
    not parse.
    """
    if seq < 0:
        return None
    try:
        return seq, raw_events(parse_json(store.get(event_key(seq))))
    except NotFound:
        pass
    if seq >= 1:
        try:
            items = raw_events(parse_json(store.get(event_key(seq - 1))))
        except NotFound:
            pass
        else:
            return (seq - 1, items) if len(items) > 1 else None
    low = seq - MAX_BATCH
    best = None
    for info in store.list(EVENTS_PREFIX, start_after=event_key(low) if low >= 0 else None):
        if info.key > event_key(seq):
            break
        if listed_seq(info.key) is not None:
            best = info.key
    if best is None:
        return None
    try:
        items = raw_events(parse_json(store.get(best)))
    except NotFound:
        return None
    first = key_seq(best)
    return (first, items) if first + len(items) > seq else None


def parse_json(data: bytes) -> Any:
    """Stored JSON parsed; :class:`FormatInvalid` for bytes that are not JSON or nest too deep to
    parse (a store writer's ``[[[…]]]`` must be an unreadable event, not a RecursionError)."""
    try:
        return jsontext.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FormatInvalid("Sự kiện nhật ký kiểm toán không phải là JSON hợp lệ.") from exc


WITNESS_SEALED = "sealed"
"""In the witness: ``true`` when the event it names carries a seal (written by a process with the
seal key). Absent: unsealed, or a witness written before this field (review rv32). A process
without the seal key reads the witness at every act anyway (:meth:`AuditLog._cached_head`): this
tells it that another writer has sealed the log since its first act, with no read more (rv22's
open 1: such a process kept writing unsealed events until it restarted). An optional field of
format 1, as ``acknowledges`` is of a checkpoint: a reader that does not know it is the code
before it, which never asked."""


def witness_bytes(seq: int, digest: str, *, sealed: bool) -> bytes:
    """The stored witness naming event ``seq`` (``sealed``: that event carries a seal)."""
    body: dict[str, Any] = {"seq": seq, "hash": digest}
    if sealed:
        body[WITNESS_SEALED] = True
    return formats.dumps(formats.WITNESS.name, body)


def read_witness(store: ObjectStore) -> dict[str, Any]:
    """The witness (``seq``, ``hash``) in the current format; :class:`NotFound` if none."""
    return formats.loads(formats.WITNESS.name, store.get(WITNESS_KEY))


@dataclass(frozen=True)
class WitnessRead:
    """The witness as one read found it, and the store's tag of the version read
    (:meth:`ObjectStore.get_tagged`: what a conditional replace of it is made against)."""

    witness: dict[str, Any]
    tag: str
    seq: int

    def above(self, before: WitnessRead) -> bool:
        """Whether this read finds the witness as ``before`` found it, or moved past it (not
        rewritten at or below its number)."""
        return self.tag == before.tag or self.seq > before.seq


@dataclass(frozen=True)
class OwnEnd:
    """The end of the log a process knew before an act (its cached end: the last event it
    wrote or found, with its hash, time and the key of the object holding it). Before the
    witness is moved over events the act did not chain directly after it, this event must still
    hold (:meth:`AuditLog._check_own_end`; m35)."""

    seq: int
    digest: str
    moment: str
    home: str | None


class SlotAhead:
    """The claim of an act's first event number taken ahead of its write (m36,
    :meth:`AuditLog.claim_slot_ahead`): ``seq`` and, once the claim has answered, ``outcome``:
    True (this process holds it: the create sends the data only), False (another writer holds
    it: the create meets it as it does today), None (nothing claimed) or the claim's error."""

    def __init__(self, seq: int, owner: int) -> None:
        self.seq = seq
        self.owner = owner
        """The thread whose act claimed it (gives it back at the end of its act if unused)."""
        self.outcome: bool | BaseException | None = None
        self.answered = threading.Event()

    def answer(self, outcome: bool | BaseException | None) -> None:
        self.outcome = outcome
        self.answered.set()

    def result(self) -> bool | BaseException | None:
        self.answered.wait()
        return self.outcome


def read_witness_tagged(store: ObjectStore) -> WitnessRead:
    """:func:`read_witness` with the tag of the version read (the same one request);
    :class:`NotFound` if none, :class:`FormatInvalid` (or ``KeyError``, ``TypeError``,
    ``ValueError``) if it does not read as a witness."""
    data, tag = store.get_tagged(WITNESS_KEY)
    witness = formats.loads(formats.WITNESS.name, data)
    return WitnessRead(witness, tag, int(witness["seq"]))


WITNESS_PATIENCE = (0.1, 0.3, 0.6)
"""Pauses (seconds) between reads of a witness missing from a log of several acts before an
append is refused: concurrent writers of a new store's first acts write it just after their
events."""


def _cut(message: str) -> AuditChainBroken:
    return AuditChainBroken(
        sentences(message, "Không ghi thêm sự kiện; cần kiểm toán viên kiểm tra (kho audit verify, kho fsck)")
    )


def _unreadable_witness() -> AuditChainBroken:
    """A witness that does not read as one (forged or damaged)."""
    return _cut("Bản ghi chứng (witness) của nhật ký kiểm toán không đọc được (hỏng).")


def _unreadable_end(seq: int) -> AuditChainBroken:
    """An object at the log's end that does not parse (written whole by every writer: forged or
    damaged): chaining after it would hide it like a cut."""
    return _cut(f"Sự kiện #{seq} ở cuối nhật ký kiểm toán không đọc được (hỏng).")


@dataclass(frozen=True)
class WitnessedEnd:
    """The event the witness names, found in the log: its number and the stored object holding
    it (the number in its key, its parsed raw events)."""

    seq: int
    first: int
    items: list[Any]
    read: WitnessRead | None = None
    """The witness read it was found from, with its tag (:func:`checked_witness`): the version
    the first act of a process moves the witness from (:meth:`AuditLog._write_witness`)."""


def checked_witness(store: ObjectStore) -> WitnessedEnd | None:
    """The event the witness names, checked against the log before anything is chained after
    the log's end (the first append of a process, a checkpoint); None for a log without a
    witness that may lack it (empty, or only the events of its first act: their writer was
    killed before its witness write, or is about to write it). :class:`AuditChainBroken`
    otherwise — an append would then chain after a cut end and, moving the witness, make the
    shortened history verify whole.

    A witness behind the newest event is accepted however far (writers killed before their
    witness write, and concurrent writers that have not written it yet, leave it behind; one who
    can write the witness can also lower it to a consistent point, which only a checkpoint
    finds). A witness must name an event that is there and carries its hash. Missing from a log
    of several acts, it is read again for a moment first: concurrent writers of a new store's
    first acts write theirs just after their events."""
    may_lack: bool | None = None
    for pause in (*WITNESS_PATIENCE, None):
        try:
            read = read_witness_tagged(store)
        except NotFound:
            if may_lack is None:
                may_lack = first_act_only(store)
            if may_lack:
                return None
            if pause is not None:
                time.sleep(pause)
            continue
        except (FormatInvalid, KeyError, TypeError, ValueError):  # not JSON, not an object: forged
            raise _unreadable_witness() from None
        return replace(_check_witness(store, read.witness), read=read)
    raise _cut(
        "Nhật ký kiểm toán có nhiều hành động nhưng thiếu bản ghi chứng (witness): phần cuối"
        " nhật ký có thể đã bị cắt cùng với nó."
    )


def _check_witness(store: ObjectStore, witness: dict[str, Any]) -> WitnessedEnd:
    """The rule for a witness, in one place (appends, checkpoints and :meth:`AuditLog.verify`):
    it names an event that is there and carries that event's hash."""
    try:
        seq, digest = int(witness["seq"]), str(witness["hash"])
    except (KeyError, TypeError, ValueError):
        raise _unreadable_witness() from None
    try:
        held = raw_holding(store, seq)
        if held is None:
            raise _cut(f"Sự kiện #{seq} mà bản ghi chứng (witness) trỏ tới không còn trong nhật ký.")
        first, items = held
        event = AuditEvent.from_raw(items[seq - first])
    except (FormatInvalid, TypeError):
        raise _cut(f"Sự kiện #{seq} mà bản ghi chứng (witness) trỏ tới không đọc được (hỏng).") from None
    if event.seq != seq or event.hash != digest:
        raise _cut(f"Sự kiện #{seq} không khớp với bản ghi chứng (witness) của nhật ký.")
    return WitnessedEnd(seq, first, items)


def first_act_only(store: ObjectStore) -> bool:
    """Whether every event of the log (none, too) shares one moment (the events of one append
    do): the log holds at most its first act. Stops at the second moment. The one rule for a
    log that may lack its witness (an append's check, ``kho fsck``'s repair of it)."""
    moments = set()
    for info in store.list(EVENTS_PREFIX):
        try:
            moments.update(event.at for event in parse_object(store.get(info.key)))
        except (FormatInvalid, NotFound):
            return False  # not shown to be one act
        if len(moments) > 1:
            return False
    return True


FLOOR_RECHECK_S = 600.0
"""A process that found no signed ``sealed_since`` asks again after this many seconds (a process
that outlives the first checkpoint of format 2 learns it without a restart); once found it is
kept (a signed claim does not move up)."""
STEPS_BEFORE_LISTING = 16
"""Objects an append reads forward after a collision before it lists the log instead."""
CATCH_UP_BY_LISTING = 100
"""Behind the head by more than this many events, the by-record index catches up by listing the
log (one request per page of keys) instead of probing each sequence number."""
INDEX_CHUNK = 10_000
PARSED_LIMIT = 200_000
"""Parsed events kept for queries (about 1 kB each)."""

IN_PLACE_AFTER_MEETING = 16
"""After an event object of the log met another writer's, this many of the writer's next acts
read the witness in place (:meth:`AuditLog.reading_ahead`): writers sharing the log meet again
well within it, so a started-ahead read, mostly stale with them, is not tried until the writer
has written alone for a while."""


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    """UTC instant, ISO 8601 (``2026-11-21T03:04:05.123456Z``)."""
    actor: str
    action: str
    record_id: str | None
    version: int | None
    source: str | None
    """Where the request came from (IP address, host, ``cli``)."""
    details: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""
    format_version: int | None = None
    """The stored format (:mod:`repository.formats`); None for events written before formats
    were versioned, whose hashed body has no such field (so they still verify)."""
    seal: str | None = None
    """HMAC of the body under the seal key (:meth:`repository.seals.Sealer.event_verdict`),
    inside the hashed body; None for an event written without a seal key (or before seals)."""

    def body(self) -> dict[str, Any]:
        """What the hash covers: every field but the hash; the format version and the seal when
        they are set."""
        data = self.stored()
        data.pop("hash")
        return data

    def compute_hash(self) -> str:
        return _body_hash(self.body())

    def stored(self) -> dict[str, Any]:
        data = formats.as_dict(self)
        if data[formats.FORMAT_KEY] is None:
            del data[formats.FORMAT_KEY]
        if data[SEAL_FIELD] is None:
            del data[SEAL_FIELD]
        return data

    def to_json(self) -> bytes:
        return json.dumps(self.stored(), sort_keys=True, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> AuditEvent:
        """An event of any known format version, keeping the version it was written in (the
        hash covers the body as written)."""
        return cls.from_raw(parse_json(data))

    @classmethod
    def from_raw(cls, raw: Any) -> AuditEvent:
        """:meth:`from_json` of an event already parsed (one of a batch's)."""
        kind = formats.AUDIT_EVENT.name
        fields = formats.unstamped(kind, formats.upcast(kind, raw))
        details = fields.get("details")
        if details is not None and not isinstance(details, dict):
            # (Kho writes an object, or nothing: a list or a number was written by hand, and
            # every reader of an event's details would stop on it; unreadable, as a wrong field)
            raise FormatInvalid(
                f"Sự kiện nhật ký #{fields.get('seq')}: phần chi tiết không phải là một đối tượng JSON.",
                code="FORMAT_INVALID",
            )
        return cls(**fields, format_version=raw.get(formats.FORMAT_KEY))


def _body_hash(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


NO_SEAL_KEY = Sealer()


def build_events(
    seq: int, prev: str, moment: str, drafts: Sequence[EventDraft], sealer: Sealer = NO_SEAL_KEY
) -> list[AuditEvent]:
    """The events of ``drafts`` chained from ``seq`` after ``prev``, in the current format, each
    sealed when ``sealer`` has a key (the seal over the body, then the hash over the body and the
    seal)."""
    return built_events(seq, prev, moment, drafts, sealer)[0]


def built_events(
    seq: int, prev: str, moment: str, drafts: Sequence[EventDraft], sealer: Sealer = NO_SEAL_KEY
) -> tuple[list[AuditEvent], bytes]:
    """:func:`build_events` and the bytes of the one object that stores them
    (:func:`encode_stored`), made from the bodies just hashed (issue 14, m32): an event's
    stored form is its body and its hash, so it is not rebuilt from the event
    (:meth:`AuditEvent.stored`, a copy of every field and of ``details``) before it is written.
    The same bytes as ``encode_stored([e.stored() for e in events])``
    (``tests/repository/test_audit_encode_m32.py``)."""
    out: list[AuditEvent] = []
    stored: list[dict[str, Any]] = []
    for draft in drafts:
        body: dict[str, Any] = {
            "seq": seq,
            "at": moment,
            "actor": draft.actor,
            "action": draft.action,
            "record_id": draft.record_id,
            "version": draft.version,
            "source": draft.source,
            "details": formats.as_dict(draft.details or {}),
            "prev": prev,
            formats.FORMAT_KEY: formats.AUDIT_EVENT.current,
        }
        seal = sealer.seal_event(body)
        if seal is not None:
            body[SEAL_FIELD] = seal
        digest = _body_hash(body)
        event = AuditEvent(**body, hash=digest)
        body["hash"] = digest  # now the event's stored form (the hash left out above)
        out.append(event)
        stored.append(body)
        seq, prev = seq + 1, digest
    return out, encode_stored(stored)


def event_check(sealer: Sealer, event: AuditEvent, *, after_sealed: bool) -> Verdict:
    """What ``event``'s seal says (:meth:`repository.seals.Sealer.event_verdict`)."""
    return sealer.event_verdict(event.body(), after_sealed=after_sealed)


def refuse_unsealed_writer(sealer: Sealer, newest_seal: object) -> None:
    """A process without a seal key must not write into a sealed log (review rv22): its events
    would carry no seal, every ``verify`` would name them (``seal``) and the readers that act on
    events would ignore them — a genuine ``hold:place`` among them would not hold. Asked at a
    process's first append with the newest event's ``seal`` field (read there anyway, by
    :meth:`AuditLog._find_head`: no request more), and by ``kho audit acknowledge``; a process
    without the key cannot check a seal but sees that one is there. A log never sealed keeps
    working without a key. :class:`AuditSealKeyMissing` before anything is written."""
    if not sealer.active and newest_seal is not None:
        raise AuditSealKeyMissing(AUDIT_SEAL_KEY_MISSING_MESSAGE)


def sealed_events(
    sealer: Sealer, events: list[AuditEvent], sealing: list[bool], since: int | None = None
) -> list[AuditEvent]:
    """The events (in log order, one stored object's) that a reader scanning the log may act on
    (fsck's repairs, ``kho account seal``): without a seal key all; else those whose seal checks
    and the legacy ones before the first sealed event
    (:meth:`repository.seals.Sealer.event_verdict`). ``sealing[0]``: a sealed event was met (kept
    across the objects of one scan). ``since``: the first sealed position a signed checkpoint
    vouches for (:meth:`AuditLog.sealed_floor`): an unsealed event there or later is not legacy,
    whether or not a sealed event is still in the store."""
    kept = []
    for event in events:
        verdict = event_check(sealer, event, after_sealed=False)
        if event_counts(verdict, event.seq, sealed_before=sealing[0], since=since):
            kept.append(event)
        sealing[0] = sealing[0] or verdict is Verdict.SEALED
    return kept


def event_counts(verdict: Verdict, seq: int, *, sealed_before: bool, since: int | None = None) -> bool:
    """Whether a reader may act on the event at ``seq`` (the one rule of fsck's scan,
    :func:`sealed_events`, and of a restore's notes, ``retention.backup._NumbersGiven``).
    ``verdict``: its seal's, asked as if no sealed event came before
    (``event_verdict(..., after_sealed=False)``: an unsealed event is LEGACY there).
    ``sealed_before``: an event whose seal checks is stored before it. ``since``: the first
    sealed position a signed checkpoint vouches for. Counts: a seal that checks; no seal key
    (UNCHECKED); no seal and neither a sealed event before it nor a checkpoint's sealing start
    at or before it (legacy). Never: a seal that does not check."""
    if verdict in (Verdict.SEALED, Verdict.UNCHECKED):
        return True
    return verdict is Verdict.LEGACY and not sealed_before and (since is None or seq < since)


def seal_finding(seq: int, event: AuditEvent, *, floor: int | None = None) -> Finding:
    """The ``verify`` finding of an event whose seal is due and missing or does not check.
    ``floor``: due because a signed checkpoint says the log is sealed from that position on (no
    sealed event before it in the store)."""
    if event.seal is None and floor is not None:
        message = (
            f"Sự kiện #{seq} không mang dấu niêm phong (seal) dù điểm mốc đã ký xác nhận nhật ký được"
            f" niêm phong từ sự kiện #{floor}: nó không do Kho ghi (nhật ký có thể đã bị viết lại)."
        )
    elif event.seal is None:
        message = (
            f"Sự kiện #{seq} không mang dấu niêm phong (seal) dù đứng sau sự kiện đã niêm phong:"
            " nó không do Kho ghi (có thể bị giả mạo bởi người ghi trực tiếp vào kho)."
        )
    else:
        message = (
            f"Dấu niêm phong (seal) của sự kiện #{seq} không khớp: sự kiện bị giả mạo, hoặc dấu bị"
            " chép từ sự kiện hay vị trí khác."
        )
    return Finding(seq, "seal", message, seen=fingerprint(event.stored()))


@dataclass(frozen=True)
class EventDraft:
    """An event to append: what :meth:`AuditLog.append` takes, for :meth:`AuditLog.append_many`."""

    actor: str
    action: str
    record_id: str | None = None
    version: int | None = None
    source: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Finding:
    """One break in the chain."""

    seq: int
    kind: str
    """``changed`` | ``removed`` | ``inserted`` | ``moved`` | ``truncated`` | ``unreadable`` |
    ``seal`` (an event not sealed, or badly sealed, after a sealed one: :func:`seal_finding`)."""
    message: str
    acknowledged: dict[str, Any] | None = None
    """The auditor's signed decision that covers this finding (``by``, ``at``, ``reason``,
    ``event``: :mod:`repository.acknowledge`); None while nobody has acknowledged it."""
    seen: str | None = None
    """:func:`fingerprint` of the stored event the finding is about (the one at ``seq``), when
    one is readable there: an acknowledgement covers the finding only while that event is still
    the one the auditor saw, so a later edit of an event whose change was acknowledged is a
    fresh finding."""


def fingerprint(stored: Mapping[str, Any]) -> str:
    """SHA-256 of an event exactly as stored (every field, its stored ``hash`` included)."""
    canonical = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class VerifyReport:
    events: int
    findings: tuple[Finding, ...]
    last_seq: int | None
    last_hash: str | None

    @property
    def ok(self) -> bool:
        """No finding, or every one acknowledged by an auditor's signed decision (they stay
        listed)."""
        return all(f.acknowledged is not None for f in self.findings)

    @property
    def open_findings(self) -> tuple[Finding, ...]:
        """The findings no auditor has acknowledged."""
        return tuple(f for f in self.findings if f.acknowledged is None)


_CAUGHT_UP: RequestView[set[int]] = RequestView("kho_audit_caught_up", set)
"""Inside :func:`one_catch_up_begin`'s scope: the logs (``id``) whose by-record index this
request has caught up."""


def one_catch_up_begin() -> contextvars.Token[set[int] | None]:
    """From now until :func:`one_catch_up_end`, in this thread or task, each log's by-record
    index is caught up with the log at most once (its first catch-up; one that failed does not
    count): the read-only view of one request (the record page, ``GET /api/records/<id>``),
    whose token check catches up, then its history of events again (s27: the audit witness
    read three times per page). The view is the log as at the first catch-up: an event
    another process appends later in the same request is not in it (this process's own are
    indexed as they are written). Not for a request that writes a record: no decision that
    serialises on the log (a hold against a destruction, a guard) may rest on an earlier read."""
    return _CAUGHT_UP.begin()


def one_catch_up_end(token: contextvars.Token[set[int] | None]) -> None:
    """The end of :func:`one_catch_up_begin`'s scope (every later catch-up reads the log)."""
    _CAUGHT_UP.end(token)


class AuditLog:
    def __init__(
        self,
        store: ObjectStore,
        *,
        retention_days: int | None = None,
        group_commit: bool = True,
        index: RecordIndex | None = None,
        sealer: Sealer = NO_SEAL_KEY,
        before_write: Callable[[], None] | None = None,
        sealed_since: Callable[[], int | None] | None = None,
        after_write: Callable[[int, str, str], None] | None = None,
    ) -> None:
        self.store = store
        self.after_write = after_write
        """Called with the position, hash and time of the newest event once an append is witnessed
        (the head noted outside the store, :meth:`repository.rollback.HistoryGuard.noted`); it
        never raises. None: nothing noted."""
        self.sealer = sealer
        """Seals the events this log writes and checks those it reads (:mod:`repository.seals`);
        without a key nothing is sealed or checked."""
        self.before_write = before_write
        """Called before every append writes anything (it may raise to refuse it): the check that
        the store is not behind the history anchored outside it, made once per process
        (:class:`repository.rollback.HistoryGuard`). None: no such check."""
        self._sealed_since = sealed_since
        """Reads the first sealed position the newest signed checkpoints vouch for
        (:func:`repository.anchor.signed_sealed_since`); asked once per process, by
        :meth:`sealed_floor`. None: no checkpoints to ask."""
        self._floor: tuple[int | None, float] | None = None
        """What :meth:`sealed_floor` read and when (``time.monotonic``)."""
        self._sealed_at: int | None = None
        """A position whose event's seal checks (the lowest found), once found."""
        self._unsealed_until = 0
        """Every event below this position was found unsealed (legacy)."""
        self.retention_days = retention_days
        self.group_commit = group_commit
        """Write the events of one act as one batch object (module docstring)."""
        self._lock = threading.Lock()
        self._next: tuple[int, str, str] | None = None
        """The cached end of the log: the next number, the hash and the time of the event
        before it (the newest this process wrote or found)."""
        self._next_home: str | None = None
        """The key of the object that holds the event before :attr:`_next` (a batch's first event's
        key), so that checking that event is one read (:meth:`_still_holds`)."""
        self._witnessed = -1
        self._witness_seen = False
        """This process has read or written the witness: from then on it is never missing."""
        self._cuts_found = 0
        """Appends refused because the witness went missing (a witness check made before one of
        them is not used after it)."""
        self._witness_writes = 0
        """Witness writes this log made (a witness read started before one of them is not used
        after it: :meth:`reading_ahead`)."""
        self._ahead = threading.local()
        """Per thread: the witness read started by :meth:`reading_ahead` (the cached end and the
        count of witness writes when it started, and its future), until the act uses it."""
        self._slot: SlotAhead | None = None
        """The act's first event number claimed ahead (:meth:`claim_slot_ahead`), until an append
        at it uses it or it is given back (under the log's lock)."""
        self._in_place_acts = 0
        """Acts left whose witness read :meth:`reading_ahead` makes in place: set to
        :data:`IN_PLACE_AFTER_MEETING` when an event object of this log meets another writer's
        (:meth:`_write_object`). While writers share the log, a read started ahead is mostly
        stale by the act's event write and costs a collision more (measured with two processes
        in one series: 13.7 → 16.9 requests a number, 42.6 → 38.5 numbers/s; reading in place
        only after an act that met another: 15.5)."""
        # Events never change once written (each is hash-chained; ``verify`` reads the store, not
        # this): queries keep the ones they parsed, so a page's history does not re-read the log.
        self._parsed: dict[str, list[AuditEvent]] = {}
        # Derived, rebuildable data (never trusted for integrity: ``verify`` reads the store):
        # the sequence numbers of each record's events, so a record's history reads its own
        # events instead of the whole log (:mod:`repository.audit_index`: in memory, or a SQLite
        # file kept across processes). Built by one scan when empty, given the events this
        # process appends, and caught up from its ``next_seq`` to the head before each read.
        self.record_index: RecordIndex = index if index is not None else MemoryRecordIndex()
        self._anchor_checked = False
        self._home: dict[int, str] = {}  # seq → key of the batch holding it, found by a listing
        self._index_lock = threading.Lock()
        self.reads = 0
        """Stored objects parsed by this log (how much of the log a read touched)."""
        self._batch = threading.local()
        self.guard: Callable[[Sequence[EventDraft]], None] | None = None
        """Called with the events of every append before anything is queued or written; it may
        raise to refuse the act they record (the web's refusal of a cross-site GET,
        :mod:`web.cross_site`). None: every append goes ahead."""
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        """In the child of a ``fork`` (``storage.group.start_after_fork``): new locks (one held
        by another thread of the parent at the fork would be held for ever here). The next
        append looks the log's head up again: the parent may write on meanwhile."""
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._next = None
        self._slot = None  # (the parent's claim: the parent writes or gives it back)

    # -- writing ---------------------------------------------------------------------------
    def append(
        self,
        actor: str,
        action: str,
        *,
        record_id: str | None = None,
        version: int | None = None,
        source: str | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEvent | None:
        """Append one event; inside :meth:`batch` (same thread) it is queued and written with the
        batch's other events when the batch ends, and None is returned."""
        draft = EventDraft(
            actor, action, record_id=record_id, version=version, source=source, details=details
        )
        if self.guard is not None:
            self.guard([draft])
        queued: list[EventDraft] | None = getattr(self._batch, "drafts", None)
        if queued is not None and at is None:
            queued.append(draft)
            return None
        return self.append_many([draft], at=at)[0]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Write the events this thread appends inside the block in one :meth:`append_many`
        (one head lookup and one witness move instead of one per event), when the block ends
        — also when it ends with an error, so a denial or a failed step is still recorded."""
        if getattr(self._batch, "drafts", None) is not None:
            yield  # nested: the outer batch writes
            return
        self._batch.drafts = []
        try:
            yield
        finally:
            drafts, self._batch.drafts = self._batch.drafts, None
            if drafts:
                self.append_many(drafts)

    @contextmanager
    def reading_ahead(self) -> Iterator[Callable[[], None]]:
        """Within the block, the caller may start (by calling what it yields) the witness read of
        its next :meth:`append_many` in this thread while it writes what comes before the act's
        events (a registered record's register entry: issue 14, m31), so that the read's round
        trip hides behind those writes instead of adding one to the act.

        Only the read moves; everything :meth:`_cached_head` checks of it is still checked under
        the log's lock before the act's first event object is written, and the witness is moved
        by a replace conditional on the version that read found (its tag), which any change of
        the witness since (a cut, a lowered, put-back or deleted witness, an acknowledgement,
        another writer's move) defeats: found then, as a change during an act is found today.
        The read is used only by the act it was started for: not after a witness write of this
        log or a change of its cached end meanwhile (another thread's act, a refusal, a fork),
        and never after the block (a read left from an act that failed before its events is
        dropped). Started only where a read is a round trip (:attr:`ObjectStore.reads_are_round_trips`:
        S3), where this process has appended before (its first act checks the log as a new
        process does, in place) and not for :data:`IN_PLACE_AFTER_MEETING` acts after one of its
        event objects met another writer's (with writers sharing the log a read started ahead
        would mostly be stale: :attr:`_in_place_acts`)."""

        def start() -> None:
            if self._in_place_acts > 0:
                self._in_place_acts -= 1
                return
            if self.store.reads_are_round_trips and self._next is not None:
                cached, writes = self._next, self._witness_writes  # read before the request starts
                future = read_beside(read_witness_tagged, self.store)
                if future is not None:
                    self._ahead.read = (cached, writes, future)

        try:
            yield start
        finally:
            self._ahead.read = None
            self._give_back_slot()

    def claim_slot_ahead(self) -> None:
        """Claim the number the act's first event object will take, beside a write of the act
        that comes before its events (a registered record's register entry, once its number is
        won: :meth:`repository.registers.Registers.allocate`'s ``claimed``), where a create is a
        claim and then the data (S3 without conditional PUT): the event's create then sends its
        data only, one request round less (issue 14, m36). Nothing of the act's events is
        written; only the key is taken, as the create's own claim would take it a round later.

        Only when the witness read :meth:`reading_ahead` started for this act is in and names
        this process's cached end (number and hash: the act's events go right after it, as
        :meth:`_cached_head` will find again under the lock) and no other act of this process
        runs or ran since (the lock taken without waiting, the cached end and witness writes as
        when the read started). Else nothing is claimed and the act writes as before. The claim
        is used by the first append that writes at that number (this act's, or another thread's
        that got there first: a claim of this process, under the log's lock), else given back
        (its claim object deleted) when an append plans elsewhere and at the end of the act's
        :meth:`reading_ahead` block (an act that failed before its events: a register entry
        that could not be written): a live process leaves no claimed number empty. Never
        raises: a failure is the act's to meet at its event write, as today."""
        ahead = getattr(self._ahead, "read", None)
        if ahead is None:
            return
        cached, writes, future = ahead
        try:
            read = future.result()
            confirmed = read.seq == cached[0] - 1 and str(read.witness["hash"]) == cached[1]
        except Exception:  # (the act reads it again and says why)
            return
        if not confirmed or not self._lock.acquire(blocking=False):
            return
        try:
            if self._next is not cached or self._witness_writes != writes or self._slot is not None:
                return
            slot = self._slot = SlotAhead(cached[0], threading.get_ident())
        finally:
            self._lock.release()
        if read_beside(self._claim_slot, slot) is None:
            slot.answer(None)  # (no reader thread here: the create claims, as before)

    def _claim_slot(self, slot: SlotAhead) -> None:
        try:
            slot.answer(self.store.claim_ahead(event_key(slot.seq)) or None)
        except AlreadyExists:
            slot.answer(False)
        except BaseException as error:
            slot.answer(error)

    def _give_back_slot(self) -> None:
        """At the end of an act's :meth:`reading_ahead`: the number it claimed ahead, if no
        append used it, is given back."""
        slot = self._slot
        if slot is None or slot.owner != threading.get_ident():
            return
        with self._lock:
            if self._slot is slot:
                self._slot = None
                self._settle_slot(slot, None)

    def _settle_slot(self, slot: SlotAhead, seq: int | None) -> str | None:
        """Under the log's lock, the append at ``seq`` (None: no append) takes the number
        claimed ahead: its key when this process holds it and ``seq`` is it (the create then
        sends the data only; the caller gives it back if that create never comes); else None
        (the create claims as before), the claim given back when held for another number. The
        claim's own error is raised when ``seq`` is its number: the create would have met it."""
        outcome = slot.result()
        key = event_key(slot.seq)
        if isinstance(outcome, BaseException):
            if seq == slot.seq:
                raise outcome
            return None  # (its answer lost: left as a create's own claim would be)
        if outcome is False:
            self._in_place_acts = IN_PLACE_AFTER_MEETING  # another writer met at the log's end
            return None
        if outcome is None:
            return None
        if seq == slot.seq:
            return key
        self.store.release_ahead(key)
        return None

    def _read_ahead(self) -> Future[WitnessRead] | None:
        """The witness read :meth:`reading_ahead` started for this act, if nothing this log did
        since can have made it stale; else None (read it now). Under the log's lock."""
        ahead: tuple[tuple[int, str, str], int, Future[WitnessRead]] | None
        ahead = getattr(self._ahead, "read", None)
        self._ahead.read = None
        if ahead is None or ahead[0] is not self._next or ahead[1] != self._witness_writes:
            return None
        return ahead[2]

    def append_many(
        self,
        drafts: Sequence[EventDraft],
        *,
        at: datetime | None = None,
        alongside: Sequence[NewObject] = (),
        after: Settling | None = None,
        before: Callable[[], object] | None = None,
    ) -> list[AuditEvent]:
        """Append events of one act (a record's creation and its number) in order, each its own
        link in the chain, and move the witness once, past the last of them. With group commit
        they are one stored object (a batch), else one object each.

        ``alongside``: objects of the act that do not depend on its events and on which they do
        not depend (a registered record's first version, written after its commit point): they
        are written in one step with the first event object and become visible before it
        (``storage.group.write_group``). When one of them fails and the event object was held
        back, nothing is appended and its error is raised; when the event object was written
        anyway (a backend that sends a group concurrently), the events are appended and the
        error is raised after the witness moved past them. ``after``: the directory syncs of
        the act's commit point, waited for before the first event object (and ``alongside``)
        is linked, while they are staged.

        ``before``: the act's own write (an account's next version, :mod:`repository.accounts`),
        called under the log's lock once the log's end was found and checked, right before the
        first event object is written: a log that refuses the act (``AUDIT_CHAIN_BROKEN``)
        refuses it before ``before`` runs, so the change is not made; when ``before`` raises
        (``AlreadyExists``: another writer won the change), nothing is appended. Only a death
        between the two (or a cut found at the write itself) leaves the change without its
        events, which ``kho fsck --repair`` appends from the change."""
        if self.guard is not None:
            self.guard(drafts)
        if self.before_write is not None:
            self.before_write()
        moment = to_iso_utc(at or utcnow())
        out: list[AuditEvent] = []
        homes: list[int] = []  # per event: the first event of the object holding it
        size = MAX_BATCH if self.group_commit else 1
        late: list[BaseException] = []
        # A process's first append checks the log's end against the witness before it takes the
        # lock: a missing witness is read again for up to a second (checked_witness), and the
        # other threads of the process need not queue behind that wait. The end found is only
        # a starting point: the head is looked up from it under the lock (events written
        # meanwhile follow it; the witness never moves down).
        checked, cuts = self._next is None, self._cuts_found
        end = self._checked_witness() if checked else None
        with self._lock:
            known: WitnessRead | None = None  # the witness as read before this act's write
            own: OwnEnd | None = None  # the cached end before this act (checked before the witness)
            if self._next is not None:
                cached = self._next
                seq, prev, known = self._cached_head()
                if self._next is cached:  # not dropped for an acknowledgement found after a cut
                    own = OwnEnd(cached[0] - 1, cached[1], cached[2], self._next_home)
            else:  # checked again if another thread's append found the log cut meanwhile
                fresh = checked and cuts == self._cuts_found
                end = end if fresh else self._checked_witness()
                self._witnessed = end.seq if end is not None else -1
                known = end.read if end is not None else None
                seq, prev = self._find_head(end)
            if before is not None:
                before()
            slot, self._slot = self._slot, None
            held = self._settle_slot(slot, seq) if slot is not None else None
            # The first object's directory syncs (and its ``alongside``'s) are left running in
            # ``settled`` while the witness is staged (its temp file fsync'd, the old version
            # archived); the witness is renamed into place only once they all succeeded
            # (``_write_witness(before=)``): it never names an event that is not durable.
            settled = Settling()
            unchained: list[int] = []  # where this act met an object not chained after its plan
            try:
                for start in range(0, len(drafts), size):
                    first = start == 0
                    if not first:
                        settled.wait()  # an object is chained after the one before it: durable first
                    written = self._write_object(
                        seq,
                        prev,
                        moment,
                        drafts[start : start + size],
                        alongside if first else (),
                        late,
                        after if first else None,
                        settled if first else None,
                        unchained,
                    )
                    key = event_key(written[0].seq)
                    self._remember(key, written)
                    out.extend(written)
                    homes.extend([written[0].seq] * len(written))
                    seq, prev = written[-1].seq + 1, written[-1].hash
                    self._next = (seq, prev, written[-1].at)
                    self._next_home = key
                    self._protect(key)
            except BaseException as error:
                # What was written is witnessed all the same (once durable); a refusal to move
                # the witness (a cut found meanwhile) or a failed sync is the cause of this
                # error, not its replacement.
                try:
                    settled.wait()
                    if out:
                        self._write_witness(out[-1].seq, out[-1].hash, sealed=out[-1].seal is not None)
                except Exception as witness_error:
                    raise error from witness_error
                raise
            finally:
                if held is not None:
                    self.store.release_ahead(held)  # (nothing when the create used it)
            if out:
                try:
                    last = out[-1]
                    self._write_witness(
                        last.seq,
                        last.hash,
                        sealed=last.seal is not None,
                        known=known,
                        before=settled,
                        own=own,
                        first=out[0].seq,
                        unchained=bool(unchained),
                    )
                except BaseException as error:
                    settled.fail(error)  # every sync ended before the error goes on
                settled.wait()  # (when the witness did not move: it was ahead already)
                self._index_appended(out, homes)
                if self.after_write is not None:
                    self.after_write(out[-1].seq, out[-1].hash, out[-1].at)
        if late:
            raise late[0]
        return out

    def _index_appended(self, events: Sequence[AuditEvent], homes: Sequence[int]) -> None:
        """Give the by-record index the events just written (a failure here loses nothing: the
        next read catches up from the log)."""
        try:
            with self._index_lock:
                self._check_anchor()
                if events[0].seq == 0 and self.record_index.anchor() != events[0].hash:
                    self.record_index.reset(events[0].hash)  # the log begins now
                    self._forget_caught_up()
                else:
                    head = self.record_index.head()
                    if head is not None and head[0] == events[0].seq - 1 and head[1] != events[0].prev:
                        # indexed up to this place of another timeline of the log (review rv23)
                        self.record_index.reset(self._first_hash(), keep_named=True)
                        self._forget_caught_up()
                entries = [(e.record_id, e.seq, h) for e, h in zip(events, homes, strict=True) if e.record_id]
                versions = [(e.record_id, e.version) for e in events if e.record_id and e.version]
                holds = [(e.record_id, e.seq, h) for e, h in zip(events, homes, strict=True)
                         if e.record_id and e.action in HOLD_EVENT_ACTIONS]
                last = (events[-1].seq, events[-1].hash)
                named = [pair for e in events if (pair := object_named(e)) is not None]
                end = events[-1].seq + 1
                self.record_index.add(entries, events[0].seq, end, versions, holds, last, named)
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index not updated on append: %s", exc)

    @staticmethod
    def _chain(
        seq: int, prev: str, moment: str, drafts: Sequence[EventDraft], sealer: Sealer = NO_SEAL_KEY
    ) -> list[AuditEvent]:
        return build_events(seq, prev, moment, drafts, sealer)

    def _write_object(
        self,
        seq: int,
        prev: str,
        moment: str,
        drafts: Sequence[EventDraft],
        alongside: Sequence[NewObject] = (),
        late: list[BaseException] | None = None,
        after: Settling | None = None,
        settling: Settling | None = None,
        unchained: list[int] | None = None,
    ) -> list[AuditEvent]:
        """Write the events of ``drafts`` as one object at ``seq`` (or after the objects another
        writer put there first). ``settling``: the directory syncs of its step (with
        ``alongside``, after ``after``) are left running in it; the caller waits for them. An
        event written alone is left syncing only where the write pool runs already: a process
        whose one write is an event and the witness starts no thread for it, and syncs it here.
        ``unchained``: given ``seq`` when the object another writer put there is not chained
        after ``prev`` (the event the write was planned after: the log below ``seq`` changed
        since it was found; m35, :meth:`_write_witness`'s ``own``)."""
        stepped = 0
        while True:
            events, data = built_events(seq, prev, moment, drafts, self.sealer)
            try:
                if alongside or after is not None:
                    # written once, also if the event collides (``after`` is waited for once)
                    pending, alongside, waited, after = alongside, (), after, None
                    self._put_with(pending, event_key(seq), data, late, waited, settling)
                elif settling is not None and pool_running():
                    # An event alone, in a process that runs the write pool already (a server):
                    # its directory sync runs while the witness is staged, as above. Elsewhere
                    # (a command whose one write is this event) it is synced here, no thread.
                    self._put_with((), event_key(seq), data, late, None, settling)
                else:
                    self.store.put_if_absent(event_key(seq), data)
            except AlreadyExists as taken:
                if taken.details.get("key", event_key(seq)) != event_key(seq):
                    raise  # an object ``alongside`` was taken, not this number: the act's error
                self._in_place_acts = IN_PLACE_AFTER_MEETING
                # Another process wrote this number first: chain after its object and after
                # the objects that follow it, one read each (other writers went ahead by a few
                # objects: the common case with two or more writers). Far behind — more than
                # STEPS_BEFORE_LISTING objects read in this append — jump past the newest object
                # listed instead: a listing costs one request on S3 but reads the whole shard
                # folder on the local store (100,000 names), so it is the rare path.
                key = event_key(seq)
                if stepped >= STEPS_BEFORE_LISTING:
                    key = self._newest_after(seq) or key
                try:
                    # A number claimed by a writer that did not write it (S3 claims mode,
                    # killed on another machine): refused with a code, as the register does,
                    # until the claim is stale and the next put takes the number over — the
                    # chain goes on from the object before it, no hole (review s19).
                    other = parse_object(self.store.get_landed(key, _held_log(key_seq(key))))
                except FormatInvalid:
                    raise _unreadable_end(key_seq(key)) from None
                # a process without the seal key meets another writer's sealed event here
                # (read anyway): refused, as at its first append (rv22's open 1)
                refuse_unsealed_writer(self.sealer, other[-1].seal)
                if unchained is not None and stepped == 0 and other[0].prev != prev:
                    unchained.append(seq)  # (a legitimate writer's object is chained after it)
                seq, prev = key_seq(key) + len(other), other[-1].hash
                stepped += 1
                # After the first collision the number after the object met is tried at once:
                # with another writer or three it is free far more often than not (measured:
                # 6 of 7 with four processes), and a read of it would mostly find nothing —
                # one request that tells what the create itself tells. Met again, the writer
                # is further behind: it reads forward, then lists, as below.
                while 1 < stepped < STEPS_BEFORE_LISTING:
                    try:
                        following = self._read(event_key(seq))
                    except (NotFound, FormatInvalid):
                        break  # free (or unreadable: the next put meets it and says so)
                    refuse_unsealed_writer(self.sealer, following[-1].seal)
                    seq, prev = seq + len(following), following[-1].hash
                    stepped += 1
                continue
            return events

    def _put_with(
        self,
        alongside: Sequence[NewObject],
        key: str,
        data: bytes,
        late: list[BaseException] | None,
        after: Settling | None = None,
        settling: Settling | None = None,
    ) -> None:
        """Write an event object in one step with the objects ``alongside`` it (they first),
        linked once ``after`` succeeded; raise what ``put_if_absent`` of the event object alone
        would, or the first failure of the others when the event object was held back by it.
        ``settling``: the links' directory syncs are left running in it (a failed one is
        raised by its wait, not here)."""
        group = [*alongside, NewObject(self.store, key, data)]
        outcomes = write_group(group, after=after, settling=settling)
        others = next((o for o in outcomes[:-1] if isinstance(o, BaseException)), None)
        own = outcomes[-1]
        if others is not None:
            if not written(own):
                raise others
            if late is not None:
                late.append(others)
        if isinstance(own, BaseException):
            raise own
        assert own is not None

    def _newest_after(self, seq: int) -> str | None:
        newest = None
        for info in self.store.list(EVENTS_PREFIX, start_after=event_key(seq)):
            if listed_seq(info.key) is not None:  # a foreign name must not place the append
                newest = info.key
        return newest

    def _protect(self, key: str) -> None:
        if self.retention_days and self.store.supports_retention:
            until = utcnow() + timedelta(days=self.retention_days)
            self.store.set_retention(key, Retention(mode="COMPLIANCE", until=until))

    def _cached_head(self) -> tuple[int, str, WitnessRead]:
        """Where an act of a process that has appended before goes: its cached end, checked
        against the witness, and the witness read (:meth:`_write_witness` moves it from there).

        The witness is read before the act's events are written, with the tag of the version
        read: :meth:`_write_witness` moves it from that version only (a conditional replace, no
        read more per act), or, where the store cannot replace conditionally, reads it again
        just before it moves it (one read more). What it says of the cached end:

        - it names the cached end's last event (number and hash): the process is at the end;
        - it is at or past the cached end's next number: other processes wrote meanwhile; the
          act goes after the witnessed event (a collision then steps on past any event written
          after it), never at a number the witness has passed — that number may be a removed
          event's, acknowledged (:mod:`repository.acknowledge`): the act would fill the gap.
          But first the last event this process knew must still be there with its hash (one
          read of its object, :meth:`_still_holds`; review w1 item 3): else this process's
          events were cut and the log refilled past them with forged, correctly chained events
          and a witness naming the last, and chaining after it would make the cut verify
          whole. Refused as a lowered witness is (:meth:`_refuse_cut`). A lone writer never
          takes this branch, so pays nothing;
        - it is below the cached end, or at its last number with another hash: the witness
          went down (:meth:`_witness_went_down`);
        - it is missing: it was deleted while this process runs (it has written it); refused
          before anything is written (:meth:`_witness_deleted`)."""
        assert self._next is not None
        seq, prev, _ = self._next
        ahead = self._read_ahead()
        try:
            # the same request, started ahead of the act's earlier writes (reading_ahead), or now
            read = ahead.result() if ahead is not None else read_witness_tagged(self.store)
            witness = read.witness
            at, digest = read.seq, str(witness["hash"])
        except NotFound:
            raise self._witness_deleted() from None
        except (FormatInvalid, KeyError, TypeError, ValueError):
            raise _unreadable_witness() from None
        # Another writer sealed the log since this process's first act (it has no seal key):
        # refused before anything is written, as at a first append (rv22's open 1; the
        # witness's own flag, read here at every act anyway: no request more).
        refuse_unsealed_writer(self.sealer, True if witness.get(WITNESS_SEALED) is True else None)
        self._witnessed = at
        if at == seq - 1 and digest == prev:
            return seq, prev, read
        if at >= seq:
            if self._still_holds(seq - 1, prev, self._next_home):
                return at + 1, digest, read
            seq, prev = self._refuse_cut(
                witness,
                f"Sự kiện #{seq - 1} mà tiến trình này đã ghi hoặc đã thấy không còn trong nhật ký kiểm"
                f" toán (bản ghi chứng (witness) ở #{at}, sau nó) và không có quyết định chấp nhận nào"
                " của kiểm toán viên sau đó: phần cuối nhật ký có thể đã bị cắt và ghi lại.",
            )
            return seq, prev, read
        seq, prev = self._witness_went_down(witness)
        return seq, prev, read

    def _still_holds(self, seq: int, digest: str, home: str | None) -> bool:
        """Whether event ``seq``, the last this process knew, is still in the log with hash
        ``digest`` (stored and recomputed): one read of the object that held it (``home``,
        :attr:`_next_home` when it was cached), asked of the store, never of the parse cache."""
        if home is None or key_seq(home) > seq:
            return self._holds(seq, digest)
        try:
            items = raw_events(parse_json(self.store.get(home)))
            event = AuditEvent.from_raw(items[seq - key_seq(home)])
        except NotFound:
            return False
        except (FormatInvalid, TypeError, IndexError, KeyError, ValueError):
            return False
        return event.hash == digest and event.compute_hash() == digest

    def _witness_went_down(self, witness: dict[str, Any]) -> tuple[int, str]:
        """Where an act goes when the witness is below this process's cached end (or names its
        last number with another hash). Not on the common path: one read, more only after a cut.

        - The last event this process knew is still there with its hash: nothing it knew was
          removed (a writer overtaken wrote the witness lower for a moment and moves it on, or
          the witness alone was lowered). The act goes at the cached end — not after the
          witness, which could put it into a gap below (an event removed in the middle).
        - It is gone: events this process knew were removed (the tail cut and the witness
          lowered with it, or deleted and written again). The act goes after the real end
          only when an auditor's acknowledgement (``audit:acknowledge``) was written after the
          event this process knew (walking back from the real end over the events newer than
          it). Otherwise it is refused (``AUDIT_CHAIN_BROKEN``): chaining after the real end
          would make the cut verify whole, evidence only a signed checkpoint keeps. The
          refusal is made once: the next append checks the log as a new process does (which
          accepts a consistently lowered witness, :func:`checked_witness`)."""
        assert self._next is not None
        seq, prev, _ = self._next
        if self._holds(seq - 1, prev):
            return seq, prev
        return self._refuse_cut(
            witness,
            f"Sự kiện #{seq - 1} mà tiến trình này đã ghi hoặc đã thấy không còn trong nhật ký kiểm"
            f" toán (bản ghi chứng (witness) đã bị hạ xuống #{witness.get('seq')}) và không có quyết"
            " định chấp nhận nào của kiểm toán viên sau đó: phần cuối nhật ký có thể đã bị cắt.",
        )

    def _refuse_cut(self, witness: dict[str, Any], message: str) -> tuple[int, str]:
        """The last event this process knew is gone: the act goes after the real end only when an
        auditor's acknowledgement was written after that event; otherwise it is refused
        (``AUDIT_CHAIN_BROKEN``, ``message``), once: the cache is dropped and the next append
        checks the log as a new process does."""
        assert self._next is not None
        seq, prev, moment = self._next
        self._next = None  # found again from the log, as by a new process
        end = _check_witness(self.store, witness)
        head, digest = self._find_head(end)
        if self._acknowledged_since(head - 1, moment):
            return head, digest
        self._cuts_found += 1
        _warn(
            "audit log cut under a running process: event #%d (%s) gone, witness at #%d,"
            " real end #%d, no acknowledgement since %s",
            seq - 1,
            prev,
            end.seq,
            head - 1,
            moment,
        )
        raise _cut(message)

    def _holds(self, seq: int, digest: str) -> bool:
        """Whether event ``seq`` is in the log with hash ``digest``."""
        try:
            held = raw_holding(self.store, seq)
            if held is None:
                return False
            first, items = held
            return AuditEvent.from_raw(items[seq - first]).hash == digest
        except (FormatInvalid, TypeError, IndexError):
            return False

    def _acknowledged_since(self, last: int, moment: str) -> bool:
        """Whether an ``audit:acknowledge`` event whose hash recomputes lies among the events
        from ``last`` back to the first written at or before ``moment`` (the time of the event
        a process knew, gone since), and one a reader may act on (:meth:`trusted`: with a seal
        key, its seal checks). Its signature is judged by ``verify``, which names an unsigned
        one as an open finding for good: an event forged to pass here is evidence."""
        position = last
        while position >= 0:
            try:
                held = raw_holding(self.store, position)
                if held is None:
                    return False
                first, items = held
                events = [AuditEvent.from_raw(item) for item in items[: position - first + 1]]
            except (FormatInvalid, TypeError):
                return False
            for event in reversed(events):
                if event.at <= moment:
                    return False
                if (
                    event.action == ACKNOWLEDGE_ACTION
                    and event.compute_hash() == event.hash
                    and self.trusted(event)  # a forged, unsealed one is no leave (review rv21)
                ):
                    return True
            position = first - 1
        return False

    def _witness_deleted(self) -> AuditChainBroken:
        """The refusal when a witness this process has seen is gone (deleted while it runs):
        the next append checks the log again (:meth:`_find_head`) before it writes anything."""
        self._next = None
        self._cuts_found += 1
        return _cut(
            "Bản ghi chứng (witness) của nhật ký kiểm toán đã bị xóa trong khi hệ thống"
            " đang chạy: không ghi lại để khỏi che phần cuối nhật ký có thể đã bị cắt."
        )

    def _write_witness(
        self,
        seq: int,
        digest: str,
        *,
        sealed: bool = False,
        restoring: bool = False,
        known: WitnessRead | None = None,
        before: Settling | None = None,
        own: OwnEnd | None = None,
        first: int | None = None,
        unchained: bool = False,
    ) -> None:
        """Move the witness up to event ``seq`` (never down); ``sealed``: that event carries a
        seal (:data:`WITNESS_SEALED`).

        ``own``: the end of the log this process knew before the act (its cached end), checked
        by :meth:`_cached_head`; the act's events run from ``first`` to ``seq``. ``unchained``:
        the act collided in :meth:`_write_object` with an object at the number it was planned at
        that is not chained after the event it was planned after (``own``, or the witnessed event
        :meth:`_cached_head` checked ``own`` for): the log below changed during the act. Then,
        before the witness is moved (or left past the act as found), ``own`` must still hold
        (:meth:`_check_own_end`, one read, once: after the act's events are written, so a later
        replacement of anything below them breaks the chain at the act's first event, which
        ``verify`` finds). Else this process's last act may have been cut and the log refilled
        past it with forged, correctly chained events while the act ran (review w1 item 3 in the
        act's own window, with the witness moved or left alone; m35), and the act chained after
        them: refused (``AUDIT_CHAIN_BROKEN``), the witness left where it is. No read otherwise:
        an act that did not collide is chained after its plan itself, and the object a
        legitimate other writer put at the planned number is chained after the planned event
        (the chain is one line); a refill below either breaks the chain where ``verify`` finds
        it. So a refused replace alone needs no check, and two writers read nothing more.

        A witness this process has seen (read or written) that is gone now was deleted: writing
        a new one would cover the cut. :class:`AuditChainBroken` then, the witness left missing
        (``verify`` names it), and the next append checks the log again (:meth:`_find_head`)
        before it writes anything. ``restoring``: ``kho fsck --repair`` writes a witness lost to
        a kill (:meth:`restore_witness`).

        ``known``: the witness as :meth:`_cached_head` read it before the act's events were
        written. Where the store replaces conditionally (:attr:`ObjectStore.replaces_conditionally`:
        the local folder; S3, where the witness lives in the companion unversioned bucket), the
        witness is replaced only if it is still that version (:meth:`ObjectStore.put_if_match`):
        no read more per act, and a witness deleted or rewritten during the act is never written
        over. The replace fails
        then, and the witness is read again:

        - missing: deleted during the act (the events of another act may have been cut with
          it): refused, the witness left missing;
        - rewritten without moving past the version read before the act (lowered, or put back
          as it was — a witness moved by conditional replaces only goes up): refused
          (:meth:`_witness_rewritten`);
        - moved up by another writer, not past ``seq``: replaced again, under the new version;
          past it: nothing to do.

        A conditional replace that succeeded is the end: it cannot have replaced a higher
        witness, so events past ``seq`` are another writer's, whose own replace (refused on the
        version it read, then made on this one) witnesses them, or a dead writer's, which the
        next act steps past and witnesses. (On S3 the companion bucket is checked to honour
        both conditions when the store opens: ``S3Store``.)

        Elsewhere (a store that does not replace conditionally) the witness is read again
        just before it is replaced (one GET more per act) and replaced without condition:
        a deletion during the act is found, and the window left is that read and the write, as
        before a2. Another writer's higher witness can then land between our read and write and
        be replaced by our lower one: after the write, an event past ``seq`` means such a writer
        may have been overwritten, and the witness is moved on to the newest event found (again,
        until none follows). The last writer to move the witness thus sees every event of a
        writer it may have overwritten.

        ``before``: the directory syncs of the events this witness names, still running. The
        witness is prepared meanwhile (``ObjectStore.prepare_put``: on the local folder its temp
        file fsync'd and the old version archived, in the same round as those syncs) and made
        visible only once they all succeeded; if one failed, it is not moved and the error is
        raised (the caller waits for the syncs also when the witness does not move). A
        conditional replace compares the version at that commit, after the wait."""
        conditional = self.store.replaces_conditionally
        ahead = known if conditional else None  # the read before the act serves the first replace
        refused: str | None = None  # the tag of a conditional replace refused
        check_own = unchained  # own is checked once, before the witness moves (or is left past it)
        while True:
            if seq <= self._witnessed:
                return
            current: WitnessRead | None
            if ahead is not None:
                current, ahead = ahead, None
            else:
                try:
                    current = read_witness_tagged(self.store)
                except NotFound:
                    if self._witness_seen and not restoring:
                        raise self._witness_deleted() from None
                    current = None
                except (FormatInvalid, KeyError, TypeError, ValueError):
                    raise _unreadable_witness() from None
                if conditional and known is not None and current is not None and not current.above(known):
                    raise self._witness_rewritten(known, current, seq)
            if check_own and own is not None:
                self._check_own_end(own, seq if first is None else first, seq, current)
            check_own = False
            if current is not None and current.seq >= seq:
                self._witnessed = current.seq
                self._witness_seen = True
                return
            data = witness_bytes(seq, digest, sealed=sealed)
            # Conditional where the store can (also not when the very version a replace was
            # refused on is read again: a server that does not honour the condition after all;
            # then read just before, as elsewhere).
            # (none yet: created only while there is none, so a late first act's witness never
            # lands over a higher one another process wrote meanwhile)
            tag = (current.tag if current is not None else ABSENT) if conditional else None
            tag = None if tag == refused else tag
            try:
                if before is not None:
                    # Staged while the events' directories sync; the version is compared at the
                    # commit (under the directory's lock on the local folder), after the wait.
                    prepared = self.store.prepare_put(WITNESS_KEY, data, tag)
                    try:
                        before.wait()  # the events it names are durable before it is visible
                    except BaseException:
                        prepared.discard()
                        raise
                    before = None
                    prepared.commit()
                elif tag is not None:
                    self.store.put_if_match(WITNESS_KEY, data, tag)
                else:
                    self.store.put(WITNESS_KEY, data)
            except Conflict:
                if tag is None:
                    raise
                refused = tag
                continue  # replaced or deleted since that read: read it again
            self._witnessed = seq
            self._witness_seen = True
            self._witness_writes += 1
            if tag is not None and not restoring:
                # A conditional replace cannot have replaced a higher witness: another writer's
                # events past ``seq`` are its own to witness (its replace, made against an
                # older version, fails and reads this one), or a dead writer's, which the next
                # act steps past and witnesses. No read more per act. (A restore by ``kho fsck
                # --repair`` still moves on past what was written meanwhile: its promise.)
                return
            newer = self._newest_from(seq + 1)
            if newer is None:
                return
            seq, digest, sealed = newer.seq, newer.hash, newer.seal is not None

    def _check_own_end(self, own: OwnEnd, first: int, seq: int, current: WitnessRead | None) -> None:
        """Before the witness is moved to event ``seq`` (or left past it) over events this act
        (events ``first``–``seq``) did not chain directly after ``own``, the end this process knew
        before the act: ``own`` must still be in the log with its hash (one read of its object,
        as :meth:`_cached_head` checks it before an act), or an auditor's acknowledgement must
        lie between it and the act (as :meth:`_refuse_cut` allows). Else :class:`AuditChainBroken`
        (the message family of :meth:`_cached_head`'s), the witness left where it is, once: the
        next append checks the log as a new process does. A legitimate other writer's events
        leave ``own`` where it was, so they pass with that one read."""
        if self._still_holds(own.seq, own.digest, own.home):
            return
        if self._acknowledged_since(first - 1, own.moment):
            return
        self._next = None
        self._cuts_found += 1
        at = current.seq if current is not None else -1
        _warn(
            "audit log cut under a running act: event #%d (%s) gone, act at #%d-#%d chained after"
            " other events, witness at #%d, no acknowledgement since %s; witness not moved",
            own.seq,
            own.digest,
            first,
            seq,
            at,
            own.moment,
        )
        raise _cut(
            f"Sự kiện #{own.seq} mà tiến trình này đã ghi hoặc đã thấy không còn trong nhật ký kiểm"
            f" toán (bản ghi chứng (witness) ở #{at} khi hệ thống ghi sự kiện #{seq}) và không có"
            " quyết định chấp nhận nào của kiểm toán viên sau đó: phần cuối nhật ký có thể đã bị cắt"
            " và ghi lại trong khi hệ thống ghi."
        )

    def _witness_rewritten(self, known: WitnessRead, current: WitnessRead, seq: int) -> AuditChainBroken:
        """The refusal when, during an act, the witness was written again without moving past
        the version read before the act (``known``), on a store whose witness writes are
        conditional (every writer's only go up). Not a Kho writer's doing but an operator's
        (``kho audit acknowledge`` at that moment) or an attacker's: lowered with a cut of
        events written meanwhile, which this act's events may have taken the place of. The
        witness is left as it is; once, as for a lowered witness (:meth:`_witness_went_down`):
        the next append checks the log as a new process does."""
        self._next = None
        self._cuts_found += 1
        _warn(
            "audit witness rewritten during an act: read at #%d before it, #%d when moving it to"
            " #%d; not moved",
            known.seq,
            current.seq,
            seq,
        )
        return _cut(
            f"Bản ghi chứng (witness) của nhật ký kiểm toán đã bị ghi lại ở #{current.seq} trong khi"
            f" hệ thống ghi sự kiện #{seq} (trước đó ở #{known.seq}): không ghi đè để khỏi che phần"
            " cuối nhật ký có thể đã bị cắt."
        )

    def write_after_end(self, seq: int, prev: str, draft: EventDraft) -> AuditEvent:
        """Write one event at ``seq`` chained after ``prev`` — the end of the log as found by
        listing, not as the witness says — and the witness at it (``kho audit acknowledge``,
        which has decided, with an auditor, that the log's end may be chained after although
        the witness check refuses). :class:`AlreadyExists` when the number was taken meanwhile."""
        with self._lock:
            (event,) = build_events(seq, prev, to_iso_utc(utcnow()), [draft], self.sealer)
            self.store.put_if_absent(event_key(seq), event.to_json())
            self._protect(event_key(seq))
            self._remember(event_key(seq), [event])
            self.store.put(WITNESS_KEY, witness_bytes(event.seq, event.hash, sealed=event.seal is not None))
            self._witness_writes += 1
            self._next = (event.seq + 1, event.hash, event.at)
            self._next_home = event_key(seq)
            self._witnessed = event.seq
            self._witness_seen = True
        return event

    def restore_witness(self, seq: int, digest: str) -> None:
        """Write the witness of a log that has none at event ``seq`` (``kho fsck --repair``,
        which decides when that is safe: the writer of the log's first act died before its
        witness write). Moves it on past any event written meanwhile, as an append does. Says
        whether that event is sealed as the stored event does (one read; a rare repair)."""
        held = raw_holding(self.store, seq)
        raw = held[1][seq - held[0]] if held is not None else None
        sealed = isinstance(raw, dict) and raw.get(SEAL_FIELD) is not None
        with self._lock:
            self._write_witness(seq, digest, sealed=sealed, restoring=True)

    def _newest_from(self, seq: int) -> AuditEvent | None:
        """The newest event of the objects that follow each other from event ``seq`` on; None
        when no object starts at ``seq``."""
        newest: AuditEvent | None = None
        while True:
            try:
                events = self._read(event_key(seq))
            except (NotFound, FormatInvalid):  # an unreadable object: ``verify`` names it
                break
            newest, seq = events[-1], seq + len(events)
        return newest

    def _find_head(self, end: WitnessedEnd | None) -> tuple[int, str]:
        """The next free sequence number and the hash of the newest event, from the log's end
        checked against its witness (``end``, from :meth:`_checked_witness`)."""
        if end is not None:
            start = end.seq
        else:
            last = None
            for info in self.store.list(EVENTS_PREFIX):
                if listed_seq(info.key) is not None:
                    last = info.key
            if last is None:
                return 0, GENESIS
            start = key_seq(last)
        seq = start
        while self.store.exists(event_key(seq + 1)):
            seq += 1
        try:
            held: tuple[int, list[Any]] | None
            if end is not None and seq == start:
                held = (end.first, end.items)  # read by the witness check
            else:
                held = raw_holding(self.store, seq)
            if held is None:  # the newest event went between the listing and its read
                raise _cut(f"Sự kiện #{seq} ở cuối nhật ký không còn trong nhật ký.")
            first, items = held
            events = [AuditEvent.from_raw(item) for item in items]
            head = first + len(events)
            if head > seq + 1:  # a batch starts at ``seq``: the objects after it start at its end
                while True:
                    try:
                        more = self._read(event_key(head))
                    except NotFound:
                        break
                    events, head = more, head + len(more)
        except (FormatInvalid, TypeError):
            raise _unreadable_end(seq) from None
        refuse_unsealed_writer(self.sealer, events[-1].seal)
        return head, events[-1].hash

    def _checked_witness(self) -> WitnessedEnd | None:
        """:func:`checked_witness`, remembering that this process has seen the witness."""
        end = checked_witness(self.store)
        if end is not None:
            self._witness_seen = True
        return end

    def _witness_findings(self, witness: dict[str, Any], expected_seq: int) -> list[Finding]:
        """What :meth:`verify` says of the witness: it points past the chain (events cut from the
        end), or it does not name an event that is there with its hash (:func:`_check_witness`,
        the rule an append refuses by: the end was cut and the witness replaced)."""
        seq = witness.get("seq")
        if isinstance(seq, int) and seq >= expected_seq:
            return [
                Finding(
                    expected_seq,
                    "truncated",
                    f"Các sự kiện từ #{expected_seq} đến #{seq} ở cuối chuỗi đã bị xóa.",
                )
            ]
        try:
            _check_witness(self.store, witness)
        except AuditChainBroken:
            at = seq if isinstance(seq, int) else expected_seq
            return [
                Finding(
                    at,
                    "truncated",
                    f"Bản ghi chứng (witness) không khớp với sự kiện #{seq} mà nó trỏ tới: phần cuối"
                    " nhật ký có thể đã bị cắt và bản ghi chứng bị thay.",
                )
            ]
        return []

    # -- reading ---------------------------------------------------------------------------
    def _remember(self, key: str, events: list[AuditEvent]) -> None:
        if len(self._parsed) >= PARSED_LIMIT:
            self._parsed.clear()
        self._parsed[key] = events

    def _read(self, key: str) -> list[AuditEvent]:
        """The events of the object at ``key`` (one, or a batch's)."""
        events = self._parsed.get(key)
        if events is None:
            events = parse_object(self.store.get(key))
            self.reads += 1
            self._remember(key, events)
        return events

    def events(self, start_seq: int = 0) -> Iterator[AuditEvent]:
        """Every event from position ``start_seq`` on (batches expanded)."""
        low = start_seq - MAX_BATCH if start_seq > 0 else -1
        start_after = event_key(low) if low >= 0 else None
        for info in self.store.list(EVENTS_PREFIX, start_after=start_after):
            first = listed_seq(info.key)
            if first is None:  # not an event key: ``verify`` names it
                continue
            for offset, event in enumerate(self._read(info.key)):
                if first + offset >= start_seq:
                    yield event

    def _first_hash(self) -> str | None:
        try:
            return self._read(event_key(0))[0].hash
        except (NotFound, FormatInvalid):
            return None

    def _check_anchor(self) -> None:
        """Once per process: the index must have been built from this log (the hash of its first
        event); otherwise it is emptied, to be rebuilt. Called with the index lock held."""
        if self._anchor_checked:
            return
        first = self._first_hash()
        if self.record_index.anchor() != first:
            self.record_index.reset(first, keep_named=True)
            self._forget_caught_up()
        self._anchor_checked = True

    def _forget_caught_up(self) -> None:
        """The index was emptied: the next catch-up reads the log, also inside
        :func:`one_catch_up_begin`'s scope."""
        caught_up = _CAUGHT_UP.get()
        if caught_up is not None:
            caught_up.discard(id(self))

    def _witnessed_head(self) -> tuple[int, str | None]:
        """The position and hash the witness names (−1, None: no readable witness)."""
        try:
            witness = read_witness(self.store)
            digest = witness.get("hash")
            return int(witness["seq"]), digest if isinstance(digest, str) else None
        except (NotFound, FormatInvalid, KeyError, ValueError, TypeError, AttributeError):
            return -1, None

    def _index_follows(self, newest: int, digest: str | None) -> bool:
        """Whether the by-record index was built from this timeline of the log (review rv23): the
        event it indexed last (:meth:`RecordIndex.head`) is the one the witness names (same
        position: same hash), or the event after it chains to it. No request more than the
        catch-up makes: the witness is read for it, the object after the head is the first it
        reads. True when it cannot tell (the head not known, the next event removed: ``verify``
        names that)."""
        head = self.record_index.head()
        if head is None:
            return True
        seq, indexed = head
        if newest == seq:
            return digest is None or digest == indexed
        if newest < seq:
            return True  # the witness behind what was indexed: see _catch_up
        try:
            following = self._read(event_key(seq + 1))
        except (NotFound, FormatInvalid):
            return True
        return following[0].seq != seq + 1 or following[0].prev == indexed

    def _note(
        self,
        key: str,
        events: Sequence[AuditEvent],
        entries: list[tuple[str, int, int]],
        versions: list[tuple[str, int]],
        holds: list[tuple[str, int, int]],
        named: list[tuple[str, int]],
    ) -> None:
        """The index entries (record, seq, home) of one stored object's events, the record
        versions they name (:meth:`RecordIndex.expect_versions`), the entries of its hold
        events (:data:`HOLD_EVENT_ACTIONS`) and the account versions they name (:func:`object_named`).
        A version is taken only from an event a reader may act on (:meth:`trusted`, review rv44):
        the account check refuses an account the log names a higher version of, so an unsealed
        event a writer of the store appended after sealed ones must not name one (one forged
        event locked the quản trị out). This process's own appends are indexed as written."""
        home = key_seq(key)
        for event in events:
            if (pair := object_named(event)) is not None and self.trusted(event):
                named.append(pair)
            if event.record_id:
                entries.append((event.record_id, event.seq, home))
                if event.version:
                    versions.append((event.record_id, event.version))
                if event.action in HOLD_EVENT_ACTIONS:
                    holds.append((event.record_id, event.seq, home))

    def _catch_up(self) -> None:
        """Bring the by-record index up to the newest event: a listing of the log when far
        behind (an empty index: one scan), else the few objects after ``next_seq``, up to the
        witness (stepping over a removed event) and past it while events exist (written by a
        process that has not moved the witness yet). Once per log inside
        :func:`one_catch_up_begin`'s scope."""
        caught_up = _CAUGHT_UP.get()
        if caught_up is not None and id(self) in caught_up:
            return
        self._catch_up_now()
        if caught_up is not None:
            caught_up.add(id(self))

    def _catch_up_now(self) -> None:
        with self._index_lock:
            index = self.record_index
            self._check_anchor()
            start = index.next_seq()
            newest, digest = self._witnessed_head()
            # The log is shorter than what was indexed, or another timeline of it (a store put
            # back to an older copy and written on): not this log.
            if 0 <= newest < start - 1 or not self._index_follows(newest, digest):
                index.reset(self._first_hash(), keep_named=True)  # (names kept: review rv44)
                start = 0
            if newest - start > CATCH_UP_BY_LISTING:
                self._catch_up_by_listing(start)
                start = index.next_seq()
                # The listing saw every stored event: numbers between its last one and the
                # witness hold none (a witness forged far above the log) and are not probed
                # one by one; events written since are still followed below.
                newest = start - 1
            pairs: list[tuple[str, int, int]] = []
            versions: list[tuple[str, int]] = []
            holds: list[tuple[str, int, int]] = []
            named: list[tuple[str, int]] = []
            last: tuple[int, str] | None = None
            seq = start
            while seq <= newest or self.store.exists(event_key(seq)):
                try:
                    events = self._read(event_key(seq))
                except (NotFound, FormatInvalid):
                    seq += 1  # removed or unreadable: ``verify`` names it
                    continue
                self._note(event_key(seq), events, pairs, versions, holds, named)
                last = (events[-1].seq, events[-1].hash)
                seq += len(events)
            if seq > start:
                index.add(pairs, start, seq, versions, holds, last, named)

    def _catch_up_by_listing(self, start: int) -> None:
        pairs: list[tuple[str, int, int]] = []
        versions: list[tuple[str, int]] = []
        holds: list[tuple[str, int, int]] = []
        named: list[tuple[str, int]] = []
        first = end = start
        last: tuple[int, str] | None = None
        low = start - MAX_BATCH
        after = event_key(low) if low >= 0 else None
        for info in self.store.list(EVENTS_PREFIX, start_after=after):
            if listed_seq(info.key) is None:
                continue  # not an event key: ``verify`` names it
            try:
                events = [e for e in self._read(info.key) if e.seq >= start]
            except (NotFound, FormatInvalid):
                continue  # unreadable: ``verify`` names it
            if not events:
                continue
            self._note(info.key, events, pairs, versions, holds, named)
            end = events[-1].seq + 1
            last = (events[-1].seq, events[-1].hash)
            if end - first >= INDEX_CHUNK:
                self.record_index.add(pairs, first, end, versions, holds, last, named)
                pairs, versions, holds, named, first = [], [], [], [], end
        if end > first:
            self.record_index.add(pairs, first, end, versions, holds, last, named)

    def close(self) -> None:
        """Close the by-record index's file (:meth:`RecordIndex.close`), under the index's lock
        so that no catch-up is between its reads; a later read or append opens it again."""
        with self._index_lock:
            self.record_index.close()

    def rebuild_index(self) -> int:
        """Empty the by-record index and rebuild it from the log by one scan (``kho reindex``);
        the number of stored objects read. The one reset that also forgets the account versions
        named (review rv44): the operator's step after putting the store back to an older copy."""
        before = self.reads
        with self._index_lock:
            self.record_index.reset(self._first_hash())
            self._anchor_checked = True
        self._catch_up_now()  # (the index was emptied: never skipped by a request's one catch-up)
        return self.reads - before

    def newest_named(self, obj: str, *, catch_up: bool) -> int | None:
        """The highest version number of ``obj`` (``accounts/<name>``) an event of the log names
        (:func:`object_named`), from the by-record index; ``catch_up``: after catching it up with
        the log (one GET of the witness when it is up to date: events this installation's
        processes append are indexed as they are written). None when no event names one, or the
        index cannot answer (logged): the check it serves is then not made, as the index is
        derived data (``kho fsck`` still reports a deleted version as ``object-missing``). A
        chain that does not verify does not stop the answer: the index keeps what it had."""
        if catch_up:
            try:
                self._catch_up()
            except (KhoError, sqlite3.Error, OSError) as exc:
                _warn("audit index not caught up for %s: %s", obj, exc)
        try:
            return self.record_index.newest_named(obj)
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index unusable for %s: %s", obj, exc)
            return None

    def named_under(self, prefix: str) -> dict[str, int] | None:
        """The highest version number the log names of every object under ``prefix``
        (``units/``: ``{"units/<id>": n}``), from the by-record index as it is (not caught up:
        this installation's appends are in it as they are written; the token and login paths
        catch it up first, :meth:`newest_named`). One local query, no store read. None when the
        index cannot answer (logged): the check it serves is then not made (review s20)."""
        try:
            return self.record_index.named_under(prefix)
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index unusable for %s: %s", prefix, exc)
            return None

    def known_secrecy(self, record_ids: Iterable[str]) -> dict[str, int]:
        """The secrecy levels the index's secrecy map holds as settled for ``record_ids``, after
        catching up with the log (:mod:`repository.audit_index`); the others must be read from
        the store. Should the index fail, nothing is known (every record is read)."""
        try:
            self._catch_up()
            return self.record_index.secrecy(record_ids)
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index unusable, reading every record: %s", exc)
            return {}

    def note_secrecy(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """``(record id, version, secrecy)`` read from the store, for the secrecy map."""
        try:
            self.record_index.note_secrecy(rows)
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index: secrecy not noted: %s", exc)

    def expect_version(self, record_id: str, version: int) -> None:
        """A version of a record is about to be stored: the secrecy map reads the record again
        until that version is noted. A failure here is only logged, as for the by-record index:
        the version's event, when caught up, does the same."""
        try:
            self.record_index.expect_versions([(record_id, version)])
        except (sqlite3.Error, OSError) as exc:
            _warn("audit index: version not announced: %s", exc)

    def _holding(self, seq: int, home: int) -> list[AuditEvent]:
        """The events of the stored object holding event ``seq``: the object at ``home`` (the
        index's word, checked), a batch this process has found, or its own key, or the nearest
        key below it (one listing of at most :data:`MAX_BATCH` keys). :class:`NotFound` when no
        object holds it."""
        for key in (event_key(home), self._home.get(seq), event_key(seq)):
            if key is None:
                continue
            try:
                events = self._read(key)
            except NotFound:
                continue
            if any(e.seq == seq for e in events):
                return events
        found = None
        low = seq - MAX_BATCH
        for info in self.store.list(EVENTS_PREFIX, start_after=event_key(low) if low >= 0 else None):
            if info.key > event_key(seq):
                break
            if listed_seq(info.key) is not None:
                found = info.key
        if found is None:
            raise NotFound(f"Không có sự kiện số {seq} trong nhật ký.")
        self._home[seq] = found
        return self._read(found)

    # -- checking events' seals (readers that act on events) ----------------------------------
    def trusted(self, event: AuditEvent) -> bool:
        """May a reader act on ``event`` (a hold's release, a withheld step, a creation)? With a
        seal key: its seal checks, or it has none and no sealed event comes before it (a legacy
        event). A forged event a writer of the store appended after sealed ones is not trusted
        (review rv19, open item 0). Without a seal key: every event, as before."""
        if not self.sealer.active:
            return True
        verdict = event_check(self.sealer, event, after_sealed=False)
        if verdict is Verdict.SEALED:
            if self._sealed_at is None or event.seq < self._sealed_at:
                self._sealed_at = event.seq
            return True
        return verdict is Verdict.LEGACY and not self._sealed_before(event.seq)

    def seal_checks(self, event: AuditEvent) -> bool:
        """Whether ``event`` carries a seal that checks (:attr:`Verdict.SEALED`): written by a
        Kho holding the seal key, which a writer of the store cannot forge. Narrower than
        :meth:`trusted`, which also takes a legacy event (unsealed, before the first sealed one)
        and, without a seal key, every event: for a reader that must not let a writer of the
        store choose what it acts on (m59: the unit an unreadable record's notice goes to)."""
        if not self.sealer.active:
            return False
        return event_check(self.sealer, event, after_sealed=False) is Verdict.SEALED

    def sealed_floor(self) -> int | None:
        """The first sealed position the newest signed checkpoints vouch for (``sealed_since``,
        review rv22), read once per process (again after :data:`FLOOR_RECHECK_S` while none is
        found); None without a seal key, without checkpoints that
        say it, or when they cannot be read (then: the store's own events decide, as before).
        An unsealed event there or later is not legacy even when no sealed event is left in the
        store (a writer of the store rewrote the whole log without seals)."""
        if not self.sealer.active or self._sealed_since is None:
            return None
        now = time.monotonic()
        if self._floor is None or (self._floor[0] is None and now - self._floor[1] > FLOOR_RECHECK_S):
            try:
                self._floor = (self._sealed_since(), now)
            except (KhoError, OSError) as exc:
                _warn("audit: signed checkpoints unreadable for sealed_since: %s", exc)
                return None
        return self._floor[0]

    def _sealed_before(self, seq: int) -> bool:
        """Whether an event whose seal checks is stored at or below position ``seq`` (or a signed
        checkpoint says the log is sealed from ``seq`` or earlier: :meth:`sealed_floor`): read from
        the lowest position not yet known to be unsealed, once per process (a log sealed from its
        start: one read). At ``seq`` too (review rv22): an unsealed event is legacy only if it is
        the one stored at the position its body claims; a writer of the store's event that claims
        the position of a sealed one (``"seq": 0`` in a log sealed from its start, appended at the
        next key, where the by-record index files it under its claim) is not."""
        if self._sealed_at is not None and self._sealed_at <= seq:
            return True
        floor = self.sealed_floor()
        if floor is not None and floor <= seq:
            return True
        if self._unsealed_until > seq:  # every event up to it was read unsealed (review rv21: no
            return False  # listing of the log per hold check of a record with a legacy event)
        for event in self.events(self._unsealed_until):
            if event.seq > seq:
                return False
            if event_check(self.sealer, event, after_sealed=False) is Verdict.SEALED:
                self._sealed_at = event.seq
                return True
            self._unsealed_until = event.seq + 1
        return False

    def record_events(
        self, record_id: str, *, missing: list[int] | None = None, trusted_only: bool = False
    ) -> list[AuditEvent]:
        """A record's events in order, read through the by-record index (not a scan). Should
        the index fail (a damaged file), the log itself is scanned. ``missing``: gets the
        positions the index names for the record whose event the store no longer holds (deleted
        by a hand in the store: Kho never deletes an event), for a reader that must not take a
        history with a hole for a whole one (review r22: a deleted ``hold:place``).
        ``trusted_only``: only the events a reader may act on (:meth:`trusted`)."""
        try:
            self._catch_up()
            located = self.record_index.seqs(record_id)
        except sqlite3.Error as exc:
            _warn("audit index unusable, scanning the log: %s", exc)
            scanned = [e for e in self.events() if e.record_id == record_id]
            return [e for e in scanned if self.trusted(e)] if trusted_only else scanned
        out = self._located(record_id, located, missing)
        return [e for e in out if self.trusted(e)] if trusted_only else out

    def hold_events(
        self, record_ids: Iterable[str], *, missing: list[int] | None = None
    ) -> dict[str, list[AuditEvent]]:
        """For each of ``record_ids``, its hold events (:data:`HOLD_EVENT_ACTIONS`) in order,
        read through the by-record index's hold entries: a handful of reads where the record's
        whole history may be thousands of views. ``missing`` as in :meth:`record_events`. Should
        the index fail, the log itself is scanned. These decide whether a record is held, so the
        rule fails closed (review rv22): a release counts only when a reader may act on it
        (:meth:`trusted`), a placement counts even when it may not — unsealed after a sealed
        event or after the checkpoint's ``sealed_since`` (a genuine one written by a process
        without the key, or stripped of its seal by a writer of the store who rewrote the log):
        a hold wrongly kept is lifted by a release Kho writes (``kho hold``); a hold wrongly
        dropped lets a held document be changed."""
        ids = list(dict.fromkeys(record_ids))
        try:
            self._catch_up()
            located = {record_id: self.record_index.hold_seqs(record_id) for record_id in ids}
        except sqlite3.Error as exc:
            _warn("audit index unusable, scanning the log: %s", exc)
            out: dict[str, list[AuditEvent]] = {record_id: [] for record_id in ids}
            for event in self.events():
                if event.record_id in out and event.action in HOLD_EVENT_ACTIONS and self._holds_on(event):
                    out[event.record_id].append(event)
            return out
        return {
            record_id: [e for e in self._located(record_id, seqs, missing) if self._holds_on(e)]
            for record_id, seqs in located.items()
        }

    def _holds_on(self, event: AuditEvent) -> bool:
        """Whether a hold event counts for :meth:`hold_events`: a release when trusted, a
        placement always (fail closed)."""
        return event.action != HOLD_RELEASE or self.trusted(event)

    def hold_placed_on(self, hold_id: str) -> dict[str, list[AuditEvent]]:
        """The hold events (:meth:`hold_events`) of every record whose history has ``hold_id``
        placed: the targets of a hold order, read from the log alone (its order and hold objects
        may be gone from the store). A few reads through the index's hold entries; should the
        index fail, the log itself is scanned."""
        try:
            self._catch_up()
            record_ids = self.record_index.hold_records()
        except sqlite3.Error as exc:
            _warn("audit index unusable, scanning the log: %s", exc)
            record_ids = [e.record_id for e in self.events()
                          if e.action in HOLD_EVENT_ACTIONS and e.record_id]
        return {
            record_id: events
            for record_id, events in self.hold_events(record_ids).items()
            if any((e.details or {}).get("hold_id") == hold_id and e.action != "hold:release"
                   for e in events)
        }

    def _located(
        self, record_id: str, located: list[tuple[int, int]], missing: list[int] | None
    ) -> list[AuditEvent]:
        """The events of ``record_id`` at the indexed ``(seq, home)`` positions; ``missing`` gets
        the positions whose event the store no longer holds."""
        out = []
        for seq, home in located:
            try:
                held = self._holding(seq, home)
            except (NotFound, FormatInvalid):
                held = []
            event = next((e for e in held if e.seq == seq), None)
            if event is not None and event.record_id == record_id:
                out.append(event)
            elif missing is not None:
                missing.append(seq)
        return out

    def query(
        self,
        *,
        record_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[AuditEvent]:
        source = self.record_events(record_id) if record_id else self.events()
        for event in source:
            if record_id and event.record_id != record_id:
                continue
            if actor and event.actor != actor:
                continue
            if action and not event.action.startswith(action):
                continue
            if since and event.at < since:
                continue
            if until and event.at > until:
                continue
            yield event

    def _positions(self, foreign: list[tuple[str, str, int]]) -> Iterator[tuple[int, AuditEvent | None]]:
        """Every stored event with the position its object's key gives it (a batch's events
        follow its key), None for an object that does not parse. ``foreign`` gets each object
        whose key is not an event key (:func:`listed_seq`), with the SHA-256 of its bytes and
        position 0: a place that stays put as the log grows, so an acknowledgement (always after
        it) can cover it. Not the number its name claims: a name past the head (``999999999999.x``)
        put the finding after every acknowledgement there can be."""
        for info in self.store.list(EVENTS_PREFIX):
            first = listed_seq(info.key)
            if first is None:
                try:
                    digest = hashlib.sha256(self.store.get(info.key)).hexdigest()
                except NotFound:
                    continue
                foreign.append((info.key, digest, 0))
                continue
            try:
                events = parse_object(self.store.get(info.key))
            except Exception:
                yield first, None
                continue
            for offset, event in enumerate(events):
                yield first + offset, event

    def verify(self) -> VerifyReport:
        chain, witness, _ = self.verify_parts()
        return VerifyReport(chain.events, chain.findings + tuple(witness), chain.last_seq, chain.last_hash)

    def verify_parts(self) -> tuple[VerifyReport, list[Finding], list[tuple[int, dict[str, Any]]]]:
        """:meth:`verify` in parts: the chain's own findings (each about the events at or
        before its position); what is said of the witness (about the log's end, whatever it is
        at the time: never covered by an earlier acknowledgement); and every stored event named
        ``audit:acknowledge``, by position, as stored (:mod:`repository.acknowledge` judges
        them)."""
        acknowledgements: list[tuple[int, dict[str, Any]]] = []
        findings: list[Finding] = []
        expected_seq = 0
        prev_hash = GENESIS
        prev_prev_hash: str | None = None
        count = 0
        last: AuditEvent | None = None
        foreign: list[tuple[str, str, int]] = []
        sealed = False  # an event whose seal checks came before
        floor = self.sealed_floor()  # sealed from there on, a signed checkpoint says
        for key_seq, event in self._positions(foreign):
            count += 1
            if event is None:
                findings.append(Finding(key_seq, "unreadable", f"Sự kiện #{key_seq} không đọc được (hỏng)."))
                expected_seq, prev_prev_hash, prev_hash = key_seq + 1, prev_hash, ""
                continue
            if key_seq > expected_seq:
                gap = f"#{expected_seq}" + (f"–#{key_seq - 1}" if key_seq - 1 > expected_seq else "")
                findings.append(Finding(expected_seq, "removed", f"Sự kiện {gap} đã bị xóa."))
            removed_here = key_seq > expected_seq
            if event.seq != key_seq:
                findings.append(
                    Finding(
                        key_seq,
                        "moved",
                        f"Sự kiện ở vị trí #{key_seq} mang số #{event.seq}: thứ tự đã bị đảo.",
                        seen=fingerprint(event.stored()),
                    )
                )
            if event.compute_hash() != event.hash:
                findings.append(
                    Finding(
                        key_seq,
                        "changed",
                        f"Nội dung sự kiện #{key_seq} đã bị sửa.",
                        seen=fingerprint(event.stored()),
                    )
                )
            if event.prev != prev_hash and not removed_here and prev_hash:
                if prev_prev_hash is not None and event.prev == prev_prev_hash:
                    message = f"Sự kiện #{key_seq - 1} đã bị chèn vào chuỗi."
                else:
                    message = (
                        f"Chuỗi bị đứt trước sự kiện #{key_seq}: sự kiện #{key_seq - 1} đã bị thay"
                        " thế hoặc chèn."
                    )
                replaced = fingerprint(last.stored()) if last is not None else None  # the one at #key_seq-1
                findings.append(Finding(key_seq - 1, "inserted", message, seen=replaced))
            prev_prev_hash, prev_hash = prev_hash, event.hash
            expected_seq = key_seq + 1
            by_floor = not sealed and floor is not None and key_seq >= floor
            verdict = event_check(self.sealer, event, after_sealed=sealed or by_floor)
            sealed = sealed or verdict is Verdict.SEALED
            if verdict is Verdict.BROKEN:
                findings.append(seal_finding(key_seq, event, floor=floor if by_floor else None))
            elif event.action == ACKNOWLEDGE_ACTION:  # (a forged one acknowledges nothing)
                acknowledgements.append((key_seq, event.stored()))
            last = event
        for key, digest, claimed in foreign:
            shown = key.encode("unicode_escape").decode("ascii")[:200]
            findings.append(
                Finding(
                    claimed,
                    "inserted",
                    f"Nhật ký kiểm toán chứa đối tượng “{shown}” không mang khóa của sự kiện nào (bị"
                    " thêm vào hoặc bị đổi tên trong kho); Kho không đọc nó như một sự kiện.",
                    seen=digest,
                )
            )
        about_witness: list[Finding] = []
        try:
            witness = read_witness(self.store)
        except NotFound:
            if count:
                about_witness.append(
                    Finding(0, "truncated", "Thiếu bản ghi chứng (witness) của nhật ký kiểm toán.")
                )
        except (FormatInvalid, FormatUnsupported) as exc:  # named, so an auditor can acknowledge it
            about_witness.append(
                Finding(
                    expected_seq,
                    "truncated",
                    "Bản ghi chứng (witness) của nhật ký kiểm toán không đọc được"
                    f" ({clause(exc.message)}): phần cuối nhật ký có thể đã bị cắt và bản ghi chứng"
                    " bị thay.",
                )
            )
        else:
            about_witness.extend(self._witness_findings(witness, expected_seq))
        chain = VerifyReport(
            events=count,
            findings=tuple(findings),
            last_seq=last.seq if last else None,
            last_hash=last.hash if last else None,
        )
        return chain, about_witness, acknowledgements
