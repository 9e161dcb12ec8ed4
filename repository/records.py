"""Records (văn bản đến/đi) and hồ sơ: create, register, read, correct, file.

Store layout::

    catalog/records/<id>               marker, written with the key and the original: the record may exist
    keys/<id>                          (key store) the record's data key
    records/<id>/content/<sha256>      the original, sealed; never rewritten
    records/<id>/v<000001>             versions of the metadata, sealed; never rewritten
    records/<id>/derived/<name>        text, OCR, signature verdicts (beside the original)
    registers/<organ>/<year>/<series>/<n>.json   register entries (carry the first version)
    claims/<kind>/<digest>             duplicate guards (số/ký hiệu/cơ quan/năm; SHA-256; mã hồ sơ)
    claims/takeover/<digest>           held while one re-run removes a stale guard (that digest)
    claims/recovered/<id>              the one restorer of a record's lost creation event
    claims/destroying/<id>             held by a destruction from its hold check until the key is gone
    links/<document id>/<hồ sơ id>     reverse index: which hồ sơ a document sits in
    holds/<id>/<hold id>               a legal hold (or a recall freeze) on a record or hồ sơ

A write is committed by one create-if-absent: the register entry for registered documents,
``v000001`` otherwise. Anything written before the commit and left by a crash is garbage that
``kho fsck`` removes; a committed first version not yet materialised is rolled forward.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kho import logs
from kho.digits import ascii_int
from kho.errors import (
    AlreadyExists,
    AuditChainBroken,
    ClaimNotAFile,
    Conflict,
    Duplicate,
    FieldError,
    FormatInvalid,
    IdentifierInvalid,
    IntegrityError,
    KeyDestroyed,
    KeyUnwrapFailed,
    KhoError,
    LegalHold,
    MetadataMismatch,
    NotFound,
    PermissionDenied,
    SignatureRejected,
    ValidationFailed,
)
from kho.head import is_head, stop_if_head
from kho.process import (
    CLAIM_RUNNING,
    LIVE_WRITER_HOLD_SECONDS,
    claim_age,
    claim_state,
    process_alive,
    this_host,
    writer_alive,
    writer_gone,
)
from kho.sentences import sentences
from kho.textkey import canonical_text, text_key
from kho.timeutil import parse_iso, to_iso_utc, utcnow, vn_date
from repository import formats
from repository.audit import AuditEvent, AuditLog, EventDraft
from repository.audit_index import SqliteRecordIndex
from repository.keys import KeyRing
from repository.metadata import (
    DocumentMetadata,
    FileMetadata,
    document_from_dict,
    file_from_dict,
    parse_document,
    parse_file,
)
from repository.originals import DEFAULT_MAX_BYTES, PDF_MEDIA_TYPE, OriginalInfo, check_original
from repository.policy import (
    ALLOW,
    MAX_SECRECY,
    RECEIVED_STATES,
    UNKNOWN_RECORD,
    Action,
    Decision,
    Principal,
    RecordFacts,
    Role,
    decide,
    decide_correction,
    decide_for_agency,
    decide_grant,
    decide_granter,
    decide_new,
    decide_take_out,
    declassifies,
    finds,
    hold_blocks,
    hold_placer_units,
    knows_of,
    may_destroy,
    may_release_hold,
    may_withhold_events,
    reads_events_at,
    reads_events_of,
    reads_register_note,
    reads_search_event,
    receives_submission,
    search_scope,
    sees,
    unknown_record_message,
)
from repository.registers import (
    ASSIGN_ACTION,
    RegisterEntry,
    RegisterFloor,
    Registers,
    assign_details,
    entry_key_in,
    floor_shown,
    frozen_field_errors,
    register_prefix,
    resolve_series,
)
from repository.registration import (
    SIGNATURES_UNREAD,
    GateDecision,
    PdfIdentity,
    RegistrationPlan,
    may_name_a_sender,
    metadata_gate,
    plan_registration,
    signature_gate,
    signer_gate,
)
from repository.rollback import HistoryGuard
from repository.seals import Sealer
from repository.storage.base import ObjectInfo, ObjectStore
from repository.storage.group import (
    NewObject,
    Outcome,
    Settling,
    read_beside,
    read_each,
    write_group,
    written,
)
from repository.vocabulary import (
    Direction,
    TextKind,
    blank,
    document_identifier,
    format_number,
    is_organ_id,
    nfc,
    parse_so_ky_hieu,
    typed_text,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from repository.anchor import Anchor
    from repository.ledger import DestructionLedger

KIND_FILE = "hoso"
ARCHIVE_STATES = frozenset({"submitted", "archived"})
"""States of a hồ sơ handed over to the archive (nộp lưu): it and its documents are the lưu trữ's."""
# A duplicate guard whose record has not committed after this long was left by a writer that
# died (guards are taken just before the commit, after the original is stored).
CLAIM_GRACE_SECONDS = 30
CREATION_EVENTS = ("record:create", "file:create", "record:recovered")
"""Audit events that record a record's creation (one of them for every committed record)."""


RECORD_UNIT = "record_unit"
"""In the details of every event that writes a version of a record (its creation and each later
version: :meth:`Repository._announce`, :meth:`Repository._write_version`): the unit that version
belongs to (the agency's id for a record of no unit). The record's unit kept outside its sealed
versions, in sealed events, for when no version can be opened (:func:`unit_in_events`, m59)."""


def unit_in_events(
    events: Sequence[AuditEvent], sealed: Callable[[AuditEvent], bool]
) -> tuple[int, str] | None:
    """The newest version of a record that its audit events name and the unit that version
    belongs to (:data:`RECORD_UNIT`), or None when the events do not say it for sure: no event
    names a version; the newest version named (by any event: its writing, a view) has no writing
    event whose seal checks (``sealed``) stating its unit (written before m59, a forged event, one
    of a log without a seal key); or those events disagree. ``events``: the record's events a
    reader may act on (:meth:`~repository.audit.AuditLog.record_events` ``trusted_only``). Pure."""
    newest = max((e.version for e in events if e.version is not None), default=None)
    if newest is None:
        return None
    told = {
        e.details.get(RECORD_UNIT)
        for e in events
        if e.version == newest and RECORD_UNIT in (e.details or {}) and sealed(e)
    }
    if len(told) != 1:
        return None
    unit = told.pop()
    return (newest, unit) if isinstance(unit, str) and unit else None


def append_recovered_event(audit: AuditLog, actor: Actor, record_id: str, reason: str) -> None:
    """The creation event of a record committed by a writer that stopped before writing its
    own (``record:recovered``: written by a re-run that adopts the record and by ``kho fsck
    --repair``, in one shape)."""
    audit.append(
        actor.user,
        "record:recovered",
        record_id=record_id,
        version=1,
        source=actor.source,
        details={"reason": reason},
    )


RECOVERED_PREFIX = "claims/recovered/"
"""``claims/recovered/<record id>``: the guard (format ``claim``) of the one restorer of a
record's creation event; kept, it names who restored it."""


def restore_creation_event(
    store: ObjectStore, audit: AuditLog, actor: Actor, record_id: str, reason: str, *, now: datetime
) -> bool:
    """Write the ``record:recovered`` event of a committed record that has no creation event,
    exactly once however many re-runs and ``kho fsck --repair`` runs (threads, processes,
    machines) adopt it at once; whether this call wrote it.

    The check of the record's history and the append are not one step, so the restorer first
    takes the record's restoration guard with ``put_if_absent`` and checks again. A guard whose
    restorer died before its event is stale like a duplicate guard and taken over.
    """
    key = RECOVERED_PREFIX + record_id
    body = claim_body(record_id, now)
    for _ in range(2):
        if _has_creation_event(audit, record_id):
            return False
        try:
            store.put_if_absent(key, body)
        except AlreadyExists:
            try:
                raw = store.get_after_conflict(key)
            except NotFound:
                return False  # another restorer's guard is on its way
            holder = formats.loads(formats.CLAIM.name, raw)
            if not claim_is_stale(holder, now=now, host=this_host(), alive=process_alive):
                return False  # another restorer is writing it
            if not take_over_guard(store, key, raw, body, now=now):
                continue
        if _has_creation_event(audit, record_id):
            return False  # written between the check and the guard (by the record's writer)
        append_recovered_event(audit, actor, record_id, reason)
        return True
    return False


def _has_creation_event(audit: AuditLog, record_id: str) -> bool:
    return any(e.action in CREATION_EVENTS for e in audit.record_events(record_id, trusted_only=True))


def claim_is_stale(
    holder: Mapping[str, Any], *, now: datetime, host: str, alive: Callable[[int], bool]
) -> bool:
    """May the guard ``holder`` (whose record has not committed) be taken over? Pure, given
    ``alive``.

    Yes when its writer ran on this machine in this boot and its process is gone (a killed
    import re-run at once), or when it is older than :data:`CLAIM_GRACE_SECONDS` (a writer
    elsewhere: its process cannot be asked). Without a boot id and pid namespace (``host``
    ending in ``/``) nothing is known of the host. A writer of this machine that still runs is
    asked, not timed: its guard is held up to :data:`~kho.process.LIVE_WRITER_HOLD_SECONDS`, as
    fsck holds its creation (review rv51: a writer paused past the grace between its guards and
    its commit had them taken over, was resumed, and committed a second record of the same
    file and số/ký hiệu).
    """
    pid, writer_host = holder.get("pid"), holder.get("host")
    if writer_gone(pid, writer_host, here=host, alive=alive):
        return True
    age = (now - parse_iso(holder["at"])).total_seconds()
    if writer_alive(pid, writer_host, here=host, alive=alive):
        return age >= LIVE_WRITER_HOLD_SECONDS
    return age >= CLAIM_GRACE_SECONDS


def claim_body(record_id: str, at: datetime, *, decision: str | None = None) -> bytes:
    """A guard's stored bytes (format ``claim``): the record it is taken for, when, and the
    writer process (this one), so that a re-run can tell a killed writer's guard. A destruction
    claim (:func:`destroying_key`) also names its ``decision`` (the destruction it belongs to,
    which ``kho fsck`` reports for a claim left behind; format 3, None on other guards and on
    claims read from before it)."""
    body: dict[str, Any] = {"record_id": record_id, "at": to_iso_utc(at)}
    body.update(host=this_host(), pid=os.getpid(), decision=decision)
    return formats.dumps(formats.CLAIM.name, body)


TAKEOVER_PREFIX = "claims/takeover/"
"""``claims/takeover/<SHA-256 of a stale guard's bytes>``: held (format ``claim``, naming the
taker) while one taker removes that guard."""


def take_over_guard(
    store: ObjectStore,
    key: str,
    seen: bytes,
    taker: bytes,
    *,
    now: datetime,
    replace: bool = True,
    _depth: int = 0,
) -> bool:
    """Take over the guard ``key`` judged stale from its bytes ``seen``: remove it and (with
    ``replace``) create ``taker`` in its place. True when done; False when another taker of the
    same holder came first (waited for, so that its guard is there to be read) or the guard
    changed since.

    Two re-runs that read the same stale holder must not both remove a guard: the second would
    delete the first's fresh guard and both would commit the same content. The store offers no
    conditional delete, so the takeover is done under a token of that holder, created with
    ``put_if_absent`` (exactly one creator on every backend), and only while the guard still
    holds ``seen`` (a holder's bytes never come back: they name its record and time). The token
    is removed at once; one left by a taker killed in between is itself stale and taken over
    the same way (once; ``kho fsck`` removes what is left deeper).
    """
    token = TAKEOVER_PREFIX + hashlib.sha256(seen).hexdigest()
    try:
        store.put_if_absent(token, taker)
    except AlreadyExists:
        if _depth:
            return False
        try:
            held = store.get_after_conflict(token)
        except NotFound:
            return False  # that taker is done (or its token never arrived)
        holder = formats.loads(formats.CLAIM.name, held)
        if not claim_is_stale(holder, now=now, host=this_host(), alive=process_alive):
            _wait_gone(store, token)
            return False
        if not take_over_guard(store, token, held, taker, now=now, replace=False, _depth=1):
            return False
        try:
            store.put_if_absent(token, taker)
        except AlreadyExists:
            return False
    try:
        try:
            if store.get(key) != seen:
                return False
        except NotFound:
            return False  # released by its holder meanwhile
        store.delete(key)
        if not replace:
            return True
        try:
            store.put_if_absent(key, taker)
        except AlreadyExists:
            return False  # (a writer that found the key free in between)
        return True
    finally:
        store.delete(token)


def _wait_gone(store: ObjectStore, key: str, timeout_s: float = 10.0) -> None:
    """Until ``key`` is gone (another taker's token: a few store calls), at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while store.exists(key) and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (recorded in every audit event).

    ``principal`` is the authenticated account as the access policy sees it; an actor without
    one holds no rights at all. ``system`` marks Kho's own processes (ingest steps, indexing,
    fsck, the demo loader): they are trusted code, never built from a caller's input.
    """

    user: str
    source: str | None = None
    principal: Principal | None = None
    system: bool = False

    @property
    def as_principal(self) -> Principal:
        return self.principal if self.principal is not None else Principal(user=self.user)


SYSTEM = Actor(user="system", source="kho", system=True)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    original_name: str
    stored_name: str
    media_type: str

    @classmethod
    def from_info(cls, info: OriginalInfo) -> StoredFile:
        return cls(info.sha256, info.size, info.original_name, info.stored_name, info.media_type)


@dataclass(frozen=True)
class Registration:
    organ_id: str
    year: int
    series: str
    number: int
    registered_at: str

    @property
    def display_number(self) -> str:
        return format_number(self.number)


@dataclass(frozen=True)
class Record:
    """One version of a văn bản or hồ sơ."""

    record_id: str
    version: int
    kind: str
    """``den``, ``di`` or ``hoso``."""
    created_at: str
    actor: str
    metadata: DocumentMetadata | FileMetadata | None
    """None while an arrived document waits for its metadata (``state == "intake"``)."""
    files: tuple[StoredFile, ...] = ()
    registration: Registration | None = None
    documents: tuple[str, ...] = ()
    """For a hồ sơ: its documents, in order (số thứ tự văn bản trong hồ sơ = position + 1)."""
    state: str = "active"
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    grant_users: tuple[str, ...] = ()
    """Accounts granted access to this record (Phụ lục VI III.3.b), beyond its unit."""
    grant_units: tuple[str, ...] = ()
    """Units granted access to this record (distribution, per-record grants)."""
    created_by: str = ""
    """The account that created the record (its first version)."""

    @property
    def unit(self) -> str | None:
        """The unit that owns the record (None: the agency itself)."""
        md = self.metadata
        return md.unit if md is not None else None

    @property
    def secrecy(self) -> int:
        md = self.metadata
        return int(md.secrecy) if isinstance(md, DocumentMetadata) else 0

    @property
    def so_ky_hieu(self) -> str | None:
        md = self.metadata
        return md.so_ky_hieu if isinstance(md, DocumentMetadata) else None

    @property
    def document_id(self) -> str | None:
        """Mã định danh văn bản (edXML DocumentId): ``<OrganId>,<yyyy/MM/dd>,<số>/<ký hiệu>``."""
        md = self.metadata
        if not isinstance(md, DocumentMetadata) or not md.code_number or not md.issued_date:
            return None
        organ = md.organ_id or (
            self.registration.organ_id if self.registration and md.direction is Direction.DI else None
        )
        skh = parse_so_ky_hieu(md.so_ky_hieu or "")
        if organ is None or skh is None:
            return None
        return document_identifier(organ, md.issued_date.isoformat(), skh)

    def to_dict(self) -> dict[str, Any]:
        """The stored form of this version (stamped with its format version)."""
        return formats.stamp(
            formats.RECORD.name,
            {
                "record_id": self.record_id,
                "document_id": self.document_id,
                "version": self.version,
                "kind": self.kind,
                "created_at": self.created_at,
                "actor": self.actor,
                "metadata": self.metadata.to_dict() if self.metadata is not None else None,
                "files": [f.__dict__ for f in self.files],
                "registration": self.registration.__dict__ if self.registration else None,
                "documents": list(self.documents),
                "state": self.state,
                "note": self.note,
                "extra": self.extra,
                "grant_users": list(self.grant_users),
                "grant_units": list(self.grant_units),
                "created_by": self.created_by,
            },
        )

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Record:
        """A version from its stored form, of any known format version (upcast first)."""
        data = formats.upcast(formats.RECORD.name, stored)
        kind = data["kind"]
        metadata: DocumentMetadata | FileMetadata | None = None
        if data.get("metadata") is not None:
            metadata = (
                file_from_dict(data["metadata"])
                if kind == KIND_FILE
                else document_from_dict(data["metadata"])
            )
        reg = data.get("registration")
        return cls(
            record_id=data["record_id"],
            version=data["version"],
            kind=kind,
            created_at=data["created_at"],
            actor=data["actor"],
            metadata=metadata,
            files=tuple(StoredFile(**f) for f in data.get("files", ())),
            registration=Registration(**reg) if reg else None,
            documents=tuple(data.get("documents", ())),
            state=data.get("state", "active"),
            note=data.get("note"),
            extra=dict(data["extra"]),
            grant_users=tuple(data["grant_users"]),
            grant_units=tuple(data["grant_units"]),
            created_by=data.get("created_by") or (data["actor"] if data["version"] == 1 else ""),
        )


_RECORD_PERMISSIONS = frozenset(
    {
        Action.FILE_EDIT,
        Action.RECORD_VIEW,
        Action.RECORD_UPDATE,
        Action.RECORD_GRANT,
        Action.FILE_KEEP_APPROVE,  # a role act, decided in the hồ sơ's own unit (policy.HOLDER_STEPS)
    }
)
"""Actions :meth:`Repository.transition_file` checks on the hồ sơ itself (the others need a role)."""


UNOPENABLE = (NotFound, KeyDestroyed, KeyUnwrapFailed, IntegrityError, IdentifierInvalid)
"""What reading a record raises when it is gone, its key destroyed or garbled, or its sealed
bytes changed: listed in another answer, such a record is one the reader may not see
(:meth:`Repository.may_see_listed`)."""

RECALL_KEY = "recall"
"""In a văn bản đi's ``extra``: the recall order it is under (``retention.recall``), which takes
its recipients' sight of it (:func:`repository.policy.sees`)."""

FILE_TOTALS = frozenset({"doc_total", "page_total"})
"""A hồ sơ's totals in ``extra``, counted at closing over every document it held: shown only to a
reader who sees every document it names (:meth:`Repository.as_seen_by`)."""

SEARCH_REACH = "reach"
"""In a search event's details (``search``, ``search:export``): the highest secrecy the
searcher's results and counts covered (:func:`repository.policy.reads_search_event`). An event
written before it was recorded reached, for all anyone knows, the highest level."""
SEARCH_EVENTS = frozenset({"search", "search:export"})
COUNTED_EVENTS = SEARCH_EVENTS | {
    "register:list",
    "register:export",
    "submission:export",
    "handling:report-totals:export",
}
"""Events whose details count what the person could see (rows of a register, results, hồ sơ
received, documents in the totals), a count that covers every level up to their clearance. Each
carries the person's reach (:data:`SEARCH_REACH`) and is withheld from a reader cleared lower
(:func:`repository.policy.reads_search_event`, review a15): a kiểm toán viên cleared Thường read
“register:list den-mat 2026: 7” of a Tuyệt mật văn thư. One written before the reach was
recorded reached, for all anyone knows, the highest level. Counts over what everyone reading the
log sees alike (an audit export's events, the statistics) are not such counts."""

WITHHELD_CODE = "AUDIT_EVENT_WITHHELD"
"""Marks an audit event whose record, version, details and hashes are withheld (:func:`withheld`)."""

WITHHELD_MESSAGE = "Nội dung sự kiện được ẩn: văn bản vượt quá mức tiếp cận thông tin mật của tài khoản."


def withheld(event: AuditEvent, *, keep_record: bool = False) -> AuditEvent:
    """``event`` as shown to someone who may not read its record's history
    (:func:`repository.policy.reads_events_of`): its position, time, actor, action and source,
    marked as withheld; not its record id, version, details, nor its hash and link (a hash of
    the withheld fields would let a record id, whose random part is 48 bits, be found by trial).
    ``keep_record``: the event's own record is readable, only a record its details name is not
    (a document added to a hồ sơ): the record id and version stay."""
    return replace(
        event,
        record_id=event.record_id if keep_record else None,
        version=event.version if keep_record else None,
        details={"withheld": True, "code": WITHHELD_CODE, "message": WITHHELD_MESSAGE},
        prev="",
        hash="",
    )


def is_withheld(event: AuditEvent) -> bool:
    """Whether ``event`` is one :func:`withheld` made."""
    return event.details.get("code") == WITHHELD_CODE and event.details.get("withheld") is True


def _unlinked_from_withheld(events: list[AuditEvent]) -> list[AuditEvent]:
    """``events`` (some :func:`withheld`) without the ``prev`` of any event whose predecessor
    in the log is not among them whole: that ``prev`` is the predecessor's hash, which would let
    a guessed record id and details of a withheld event be confirmed by trial. The links between
    events shown whole stay, so a listing can still be checked by hand."""
    whole = {event.seq for event in events if event.hash}
    return [
        event if not event.prev or event.seq - 1 in whole else replace(event, prev="") for event in events
    ]


def _record_ids_in(value: Any) -> set[str]:
    """Every string of the form of a record id in an event's details, at any depth."""
    if isinstance(value, str):
        return {value} if is_record_id(value) else set()
    if isinstance(value, Mapping):
        return set().union(*(_record_ids_in(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_record_ids_in(v) for v in value)) if value else set()
    return set()


def new_record_id() -> str:
    """Time-ordered, unique: 12 hex digits of milliseconds + 12 random."""
    return f"{int(time.time() * 1000):012x}{os.urandom(6).hex()}"


_RECORD_ID = re.compile(r"[0-9a-f]{24}")


def is_record_id(text: str) -> bool:
    """Whether ``text`` has the form :func:`new_record_id` gives (for ids a caller sends)."""
    return _RECORD_ID.fullmatch(text) is not None


def refusal(decision: Decision, record_id: str | None) -> KhoError:
    """The error for a refusal of the policy: :class:`NotFound` for a record the person may not
    know of (:func:`~repository.policy.knows_of`), with the details of an id that names nothing
    (:meth:`Repository._load`); otherwise :class:`PermissionDenied` with the refusal's code."""
    if decision.code == UNKNOWN_RECORD and record_id is not None:
        return NotFound(decision.message, record_id=record_id)
    return PermissionDenied(decision.message, code=decision.code)


def _check_record_id(record_id: str) -> None:
    """Every read of a record by id starts here: an id of another form names nothing stored and
    is refused as such (:class:`IdentifierInvalid`, a 404), instead of reaching the store as a key
    (``catalog/records/../x``, an empty or CR/LF id typed in a form: the store's ValueError was a
    500 on the hold, destruction and transfer pages)."""
    if not isinstance(record_id, str) or not is_record_id(record_id):
        raise IdentifierInvalid(
            "Mã văn bản/hồ sơ không hợp lệ (24 chữ số thập lục phân).", code="RECORD_ID_INVALID"
        )


def marker_writer() -> dict[str, Any]:
    """The process that writes a catalog marker (``writer``, an optional field of version 1,
    review rv50): ``kho fsck --repair`` asks whether it still runs before it removes an
    uncommitted record past the in-flight grace (:func:`repository.fsck.creation_in_flight`)."""
    return {"host": this_host(), "pid": os.getpid()}


def _marker_body(kind: str, register: str | None, from_number: int | None = None) -> bytes:
    """The stored bytes of a record's catalog marker (``catalog/records/<id>``), stamped with its
    format version: the one writer of every marker (m9: ``complete_intake`` wrote it unstamped).
    ``from_number``: no entry of the record in ``register`` is numbered below it (optional, see
    :data:`repository.formats.CATALOG_MARKER`)."""
    body: dict[str, Any] = {"kind": kind, "register": register, "writer": marker_writer()}
    if from_number is not None:
        body["from_number"] = from_number
    return formats.dumps(formats.CATALOG_MARKER.name, body)


DESTROYED_PREFIX = "catalog/destroyed/"
"""``catalog/destroyed/<id>``: the "đã hủy" row of a record whose key was destroyed."""


def destroyed_key(record_id: str) -> str:
    return f"{DESTROYED_PREFIX}{record_id}"


DESTROYING_PREFIX = "claims/destroying/"
"""``claims/destroying/<id>`` (format ``claim``): taken by :meth:`Repository.destroy` before it
checks the record's holds and withdrawn once its key is destroyed (or the destruction refused).
A hold looks for it after writing its marker (:meth:`Repository.place_hold`): of a hold and a
destruction that overlap, one sees the other, so never both succeed (review a6: a hold placed
between the check and the shredding was reported placed on a record then destroyed)."""


def destroying_key(record_id: str) -> str:
    return f"{DESTROYING_PREFIX}{record_id}"


SUBMITTING_PREFIX = "claims/submitting/"
"""``claims/submitting/<hồ sơ>`` (format ``claim``): taken by a hồ sơ's hand-over to the archive
(:meth:`Repository.transition_file` into :data:`ARCHIVE_STATES`) before it looks for the
destruction claims of its documents, withdrawn once its version is written. A destruction that
must keep what the archive holds (a recall's) looks for it after taking its own claim, then at
the hồ sơ's state: of a recall and a nộp lưu that overlap, one sees the other (review a11: the
recall shredded a document of a hồ sơ submitted between its check and its destruction)."""


def submitting_key(file_id: str) -> str:
    return f"{SUBMITTING_PREFIX}{file_id}"


SUBMISSION_GRACE_SECONDS = 300
"""How long a :func:`submitting_key` claim of another machine (whose writer cannot be asked)
refuses recalls and the next nộp lưu of its hồ sơ. A hand-over holds it for a few store requests
(claim, a stat and a LIST, its version); one older than this was left by a writer that died
there (review r32: it refused them for ever)."""


def _writer_of_gone(holder: Mapping[str, Any]) -> bool:
    """Is the writer a claim names a process that died on this machine?"""
    return writer_gone(holder.get("pid"), holder.get("host"), here=this_host(), alive=process_alive)


def submission_running(holder: Mapping[str, Any], now: datetime) -> bool:
    """May the nộp lưu that holds the :func:`submitting_key` claim ``holder`` still be running
    (:func:`kho.process.claim_state`, the rule ``kho fsck`` reports left claims by): its writer
    alive on this machine, or another machine's younger than :data:`SUBMISSION_GRACE_SECONDS`.
    Only such a claim refuses a recall or takes the next nộp lưu's place."""
    state = claim_state(
        holder,
        done=False,
        age_seconds=claim_age(holder, now),
        here=this_host(),
        alive=process_alive,
        grace_seconds=SUBMISSION_GRACE_SECONDS,
    )
    return state == CLAIM_RUNNING


def hold_reach(record_id: str, documents: Iterable[str], holders: Iterable[str]) -> frozenset[str]:
    """The records whose destruction a hold on ``record_id`` refuses (pure): itself, the
    documents of a hồ sơ, and the hồ sơ holding a document (a hồ sơ is not destroyed while a
    document in it is held) — the other side of :meth:`Repository.refuse_if_held`."""
    return frozenset({record_id, *documents, *holders})


DESTROYED_KEEPS = frozenset(
    {
        "direction",
        "type_name",
        "code_number",
        "code_notation",
        "organ_name",
        "organ_id",
        "issued_date",
        "arrival_date",
        "secrecy",
        "urgency",
        "unit",
        "file_notation",
        "file_catalog",
        "maintenance",
        "start_date",
        "end_date",
    }
)
"""Metadata a destroyed record keeps in its "đã hủy" row: its register columns and what the
access policy reads, nothing of its content (no trích yếu, signer, description or files)."""
DESTROYED_PLACEHOLDER = "[Đã hủy]"


def destroyed_row(record: Record, *, by: str, at: str, decision: str) -> dict[str, Any]:
    """The "đã hủy" row of ``record`` (pure): who destroyed it, when, under which decision, and
    the minimal record registers, reindex and fsck keep working with."""
    data = record.to_dict()
    metadata = {k: v for k, v in (data.get("metadata") or {}).items() if k in DESTROYED_KEEPS}
    if record.kind != KIND_FILE and data.get("metadata") is not None:
        metadata.update(subject=DESTROYED_PLACEHOLDER, signer_position="", signer_full_name="")
    elif data.get("metadata") is not None:
        metadata.update(title=DESTROYED_PLACEHOLDER, creator=data["metadata"].get("creator", ""))
    reduced = {
        **data,
        "metadata": metadata if data.get("metadata") is not None else None,
        "files": [],
        "documents": [],
        "extra": {},
        "note": None,
        "state": "destroyed",
    }
    return {
        "record_id": record.record_id,
        "destroyed_by": by,
        "destroyed_at": at,
        "decision": decision,
        "record": reduced,
    }


HOLD_PREFIX = "holds/"


def hold_key(record_id: str, hold_id: str) -> str:
    return f"{HOLD_PREFIX}{record_id}/{hold_id}"


HOLD_PLACED = ("hold:place", "recall:place")
"""The events of :meth:`Repository.place_hold` (a hold, a recall freeze); ``hold:release`` lifts
a hold (a recall freeze is never lifted). With it, the audit index's
:data:`repository.audit_index.HOLD_EVENT_ACTIONS`."""


def holds_open_in(events: Iterable[AuditEvent]) -> set[str]:
    """The hold ids that ``events`` (one record's history, in order) placed and did not release:
    the holds the record is under by its history, whatever the store still holds (review z3: a
    hold object deleted from the store is not a release)."""
    open_holds: set[str] = set()
    for event in events:
        hold_id = (event.details or {}).get("hold_id")
        if not isinstance(hold_id, str):
            continue
        if event.action in HOLD_PLACED:
            open_holds.add(hold_id)
        elif event.action == "hold:release":
            open_holds.discard(hold_id)
    return open_holds


EXTRACTED_METADATA = "metadata.json"
"""The derived object of the metadata ingest extracted from a document's text (with a confidence
per field): the metadata gate reads it (``ingest.pipeline`` writes it under this name)."""


def version_key(record_id: str, version: int) -> str:
    return f"records/{record_id}/v{version:06d}"


def _version_of(info: ObjectInfo) -> int:
    """The version number of a listed version object (``records/<id>/v000003`` → 3)."""
    return int(info.key.rsplit("/v", 1)[1])


def created_files_prefix(user: str) -> str:
    """Where the derived list of the hồ sơ a person created lives (one empty object each)."""
    return f"derived/files-by-creator/{hashlib.sha256(user.encode()).hexdigest()[:32]}/"


def content_key(record_id: str, sha256: str) -> str:
    return f"records/{record_id}/content/{sha256}"


def _require_version(current: Record, expected_version: int, label: str, *, editing: bool = False) -> None:
    """Optimistic concurrency: :class:`Conflict` unless ``current`` is the version the person
    worked from (``label`` names the record in the message)."""
    if current.version == expected_version:
        return
    if editing:
        message = (
            f"{label} đã được cập nhật lên phiên bản {current.version} trong khi bạn sửa phiên bản"
            f" {expected_version}. Hãy tải lại và sửa lại."
        )
    else:
        message = f"{label} đã được cập nhật lên phiên bản {current.version}. Hãy tải lại."
    raise Conflict(message, record_id=current.record_id, current_version=current.version)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _check_reasons(override_reason: str | None, duplicate_reason: str | None) -> None:
    """The reasons a person types to register despite a failed signature or a duplicate
    follow the rule of every typed text (:func:`typed_text`), before anything is checked."""
    if override_reason:
        typed_text(override_reason, "override_reason", "Lý do vẫn vào sổ khi chữ ký số không hợp lệ")
    if duplicate_reason:
        typed_text(duplicate_reason, "duplicate_reason", "Lý do vào sổ văn bản trùng")


def _signer_decision(
    extra: Mapping[str, Any], md: DocumentMetadata, override_reason: str | None
) -> GateDecision:
    """The signer gate on the signers and the signature count ingest kept in ``extra``."""
    signers = extra.get("signature_signers")
    count = extra.get("signature_count")
    return signer_gate(
        md.direction,
        md.signer_full_name,
        [str(s) for s in signers] if isinstance(signers, list) else None,
        override_reason,
        signature_count=count if isinstance(count, int) else 0,
    )


def _reasons(
    gate: GateDecision,
    extra: Mapping[str, Any],
    override_reason: str | None,
    duplicate_reason: str | None,
    md: DocumentMetadata,
) -> dict[str, Any]:
    """What the audit event of a registration says about a person's overrides."""
    out: dict[str, Any] = {}
    if gate.override:
        out["signature_override"] = nfc((override_reason or "").strip())
        out["signature_verdict"] = extra.get("signature_verdict")
    if gate.code == "SIGNER_MISMATCH":
        out["signer_mismatch"] = {
            "named": md.signer_full_name,
            "certificates": list(extra.get("signature_signers") or ()),
        }
    if gate.mismatches:
        out["metadata_mismatch"] = [m.to_dict() for m in gate.mismatches]
    if not blank(duplicate_reason):
        out["duplicate_reason"] = nfc((duplicate_reason or "").strip())
    return out


def _mismatch_events(gate: GateDecision, override_reason: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The event of its own a registration past a METADATA_MISMATCH adds: the fields, what was
    typed, what the PDF says, and the reason."""
    if not gate.mismatches:
        return []
    return [
        (
            "record:metadata-override",
            {
                "fields": [m.field for m in gate.mismatches],
                "mismatches": [m.to_dict() for m in gate.mismatches],
                "reason": nfc((override_reason or "").strip()),
            },
        )
    ]


def _with_mismatch(
    extra: Mapping[str, Any], gate: GateDecision, override_reason: str | None
) -> dict[str, Any]:
    """The record's ``extra`` with the registered mismatch and its reason kept (the record page
    shows them to whoever may see the record)."""
    out = dict(extra)
    if gate.mismatches:
        out["metadata_mismatch"] = [m.to_dict() for m in gate.mismatches]
        out["metadata_override"] = nfc((override_reason or "").strip())
    return out


def duplicate_key(metadata: DocumentMetadata, year: int) -> str | None:
    """Claim for (số, ký hiệu, cơ quan ban hành, năm) — NĐ 30 Phụ lục VI III.1.h. The texts
    are compared by :func:`~kho.textkey.text_key`: a sender or a ký hiệu spelt with a
    Cyrillic letter, a zero-width character, NFD or the other tone-mark placement is the same
    document. For a text with none of these the key is the one an earlier Kho claimed
    (:func:`legacy_duplicate_key`), so the guards already in the store keep guarding."""
    if not metadata.code_number:
        return None
    number = canonical_text(metadata.code_number)
    return "claims/skh/" + _digest(
        metadata.direction.value,
        metadata.organ_id or text_key(metadata.organ_name),
        str(year),
        _number_key(number),
        canonical_text(metadata.code_notation).upper(),
    )


@dataclass(frozen=True)
class GuardMigration:
    """What :meth:`Repository.reclaim_duplicate_guards` did."""

    checked: int
    """Registered văn bản đến with a số (each has a guard of the current key afterwards)."""
    taken: int
    """Guards of the current key taken now (the record held only the earlier one)."""
    shared: tuple[tuple[str, str], ...]
    """(record, holder of its key): two registered documents the current key finds the same (a
    look-alike pair registered before a8, or one registered again with a reason): nothing is
    changed for them; a person looks."""
    moved: int = 0
    """Guards of the layout before m43 (an S3 store's data bucket) moved into their claims
    (:meth:`~repository.storage.s3.S3Store.move_earlier_guards`, review rv53)."""
    kept: tuple[str, ...] = ()
    """Guards of that layout left where they are for a person (the claim names another record)."""


def _number_key(number: str) -> str:
    """The số as :func:`duplicate_key` compares it: ASCII digits as a number ("05" is "5"),
    anything else (a số stored before the ASCII rule, "٣") as written without leading zeros —
    never read as the ASCII number it looks like (kho.digits)."""
    value = ascii_int(number, max_digits=4000)  # (int() refuses more than 4,300 digits)
    return str(value) if value is not None else number.lstrip("0")


def legacy_duplicate_key(metadata: DocumentMetadata, year: int) -> str | None:
    """The guard Kho claimed before a8 (NFC, case and spacing only): a document registered then
    with a look-alike spelling holds this key, not :func:`duplicate_key`'s."""
    if not metadata.code_number:
        return None
    organ = metadata.organ_id or " ".join(nfc(metadata.organ_name).casefold().split())
    return "claims/skh/" + _digest(
        metadata.direction.value,
        organ,
        str(year),
        metadata.code_number.lstrip("0"),
        metadata.code_notation.upper(),
    )


def _added(granted: tuple[str, ...], more: Iterable[str]) -> tuple[str, ...]:
    """Grants after adding ``more``: the ones held first, in their order, then each new one once."""
    return tuple(dict.fromkeys((*granted, *more)))


_ADDING_TO_A_SHARED_FILE = (
    "Hồ sơ này được chia sẻ cho người hoặc đơn vị chưa được xem văn bản: đưa văn bản vào hồ sơ là"
    " cấp quyền xem văn bản cho họ."
)
_GRANTING_A_FILE = (
    "Hồ sơ có văn bản mà người hoặc đơn vị được cấp quyền chưa được xem: cấp quyền xem hồ sơ là cấp"
    " quyền xem cả các văn bản trong hồ sơ."
)


NOTE_MAX = TextKind.NOTE
"""Characters of a metadata correction's căn cứ at most (:func:`_note`; the record page's form
takes its ``maxlength`` from here)."""


def _note(text: str | None) -> str | None:
    """The căn cứ of a metadata correction as stored (pure): :func:`typed_text` (NFC, trimmed,
    hidden characters and over-long text refused with their codes), and None when it shows
    nothing (:func:`blank`), so that a required căn cứ of only spaces is refused as a missing
    one (``decide_correction``) at both doors."""
    if text is None:
        return None
    typed = typed_text(text, "note", "Căn cứ", kind=NOTE_MAX)
    return None if blank(typed) else typed


class InFlightAhead:
    """A new record's in-flight step (catalog marker, key) written beside its register entry's
    claim (:meth:`Repository._in_flight_ahead`, m50). :meth:`wait` before the entry's data is
    sent (its error raised there); :meth:`end` after the allocation, whatever happened: the
    step has ended before the act goes on or fails."""

    def __init__(self, future: Future[None]) -> None:
        self._future = future
        self._waited = False

    def wait(self) -> None:
        self._waited = True
        self._future.result()

    def then(self, after: Callable[[], None]) -> Callable[[], None]:
        """The ``claimed`` callback: wait for the step, then ``after`` (the audit event's claim
        ahead, m36)."""

        def claimed() -> None:
            self.wait()
            after()

        return claimed

    def end(self, *, failing: bool = False) -> None:
        """Let the step finish. ``failing``: the allocation raised (its error goes on; the
        step's own, if any, is left to ``kho fsck`` as a failed in-flight write is). Else an
        error of a step never waited for is raised (the entry was not written after it: in
        claims mode every won claim waits, so this is a guard, not a path)."""
        try:
            self._future.result()
        except Exception:
            if failing or self._waited:
                return  # reported by the allocation, or by wait() already
            raise


class Repository:
    """The system of record. All reads and writes of records go through here."""

    def __init__(
        self,
        store: ObjectStore,
        keystore: ObjectStore,
        *,
        agency_id: str,
        agency_name: str = "",
        master_key: bytes | None = None,
        max_file_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], datetime] = utcnow,
        audit_retention_days: int | None = None,
        audit_group_commit: bool = True,
        on_change: Callable[[Record], None] | None = None,
        audit_index: Path | None = None,
    ) -> None:
        self.store = store
        self.keys = KeyRing(keystore, master_key)
        sealer = Sealer.from_master_key(master_key)  # events sealed with a master key only
        self.history_guard = HistoryGuard(store, self._current_anchor, sealer=sealer)
        """Refuses the first write of a process to a store behind its anchored history."""
        # The audit log's by-record index: a SQLite file when given (kept across processes,
        # derived: ``kho reindex`` rebuilds it), else in memory.
        self.audit = AuditLog(
            store,
            retention_days=audit_retention_days,
            group_commit=audit_group_commit,
            index=SqliteRecordIndex(audit_index) if audit_index is not None else None,
            sealer=sealer,
            before_write=self.history_guard.check,
            sealed_since=self._sealed_since,
            after_write=self.history_guard.noted,
        )
        self.registers = Registers(
            store, floor=self._register_floor, before_write=self.history_guard.check, sealer=sealer
        )
        self.agency_id = agency_id
        self.agency_name = agency_name
        self.max_file_bytes = max_file_bytes
        self.clock = clock
        self.on_change = on_change
        self.on_reach: Callable[[Record, list[Record]], None] | None = None
        """Called with a hồ sơ and its documents when only the archive's reach of them changed
        (submitted, returned: :attr:`~repository.policy.RecordFacts.received_from`); the index
        then writes that field alone (u24). Unset: each document goes to :attr:`on_change`."""
        self._known_organs: set[str] = set()
        self.anchor: Anchor | None = None
        """Where audit checkpoints are signed and kept outside the store (set by the service)."""
        self.ledger: DestructionLedger | None = None
        """The destruction ledgers at the backup destinations (set by the service when backups
        are configured): a tombstone is appended there before a key is destroyed."""

    def close(self) -> None:
        """What this process has written is noted outside the store now (the history guard's
        pending written head, :meth:`repository.rollback.HistoryGuard.close`), not by a timer
        that dies with the process. Every factory that opens a repository for a process that
        writes calls it when that process (a command, a web worker, a Celery worker, a scheduled
        run) ends; the repository stays usable (a later act is noted again).

        It also closes the audit log's by-record index (its SQLite connection, m65): left to the
        garbage collector, its close checkpointed the WAL into the data folder at some later
        time, while the folder was being copied or removed (tests/support/kho_people.py's
        template, ci55). Idempotent; a later read or act opens the index again (the pipeline
        closes its repository and goes on with it)."""
        self.history_guard.close()
        self.audit.close()

    # -- agencies --------------------------------------------------------------------------
    def add_agency(self, organ_id: str, name: str, actor: Actor) -> None:
        self.authorize_for_agency(actor, Action.AGENCY_MANAGE)  # the agency's directory
        if not is_organ_id(organ_id):
            raise ValidationFailed(
                [
                    FieldError(
                        "organ_id",
                        "ORGAN_ID_INVALID",
                        f"Mã định danh “{organ_id}” sai định dạng (QĐ 20/2020/QĐ-TTg).",
                    )
                ]
            )
        name = typed_text(name, "name", "Tên cơ quan, tổ chức", line_breaks=False)
        body = formats.dumps(formats.AGENCY.name, {"organ_id": organ_id, "name": name}, ensure_ascii=False)
        try:
            self.store.put_if_absent(f"catalog/agencies/{organ_id}.json", body)
        except AlreadyExists:
            return
        self._known_organs.add(organ_id)
        self.audit.append(actor.user, "agency:add", source=actor.source, details={"organ_id": organ_id})

    def is_known_organ(self, organ_id: str) -> bool:
        if organ_id in self._known_organs or organ_id == self.agency_id:
            return True
        if self.store.exists(f"catalog/agencies/{organ_id}.json"):
            self._known_organs.add(organ_id)
            return True
        return False

    def agencies(self) -> list[dict[str, str]]:
        return [
            formats.unstamped(formats.AGENCY.name, formats.loads(formats.AGENCY.name, self.store.get(i.key)))
            for i in self.store.list("catalog/agencies/")
        ]

    # -- low level -------------------------------------------------------------------------
    def _seal_version(self, record: Record) -> bytes:
        """The stored bytes of a version about to be written. Every version is stored through
        here, so the audit index's secrecy map learns first that the record has a new version
        (:meth:`AuditLog.expect_version`: it reads the record again until it notes that one)."""
        self.history_guard.check()  # not on a store behind its anchored history (repository.rollback)
        self.audit.expect_version(record.record_id, record.version)
        plain = json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True).encode()
        return self.keys.seal(record.record_id, plain, version_key(record.record_id, record.version))

    def _open_version(self, record_id: str, version: int, sealed: bytes) -> Record:
        plain = self.keys.open(record_id, sealed, version_key(record_id, version))
        return Record.from_dict(json.loads(plain))

    def _versions(self, record_id: str) -> list[int]:
        return [_version_of(info) for info in self._version_infos(record_id)]

    def _version_infos(self, record_id: str) -> list[ObjectInfo]:
        """The record's version objects as the store lists them now, oldest first (their keys
        sort by version: :func:`version_key`)."""
        _check_record_id(record_id)
        return list(self.store.list(f"records/{record_id}/v"))

    def _write_marker(
        self, record_id: str, kind: str, register: str | None = None, *, fresh: bool = False
    ) -> None:
        """``fresh``: ``record_id`` was made by this call's caller just now (no race on it)."""
        self.history_guard.check()  # a record's first object: not on a store behind its history
        self.registers.refuse_while_restoring()  # nor while a restore replaces the store (m69)
        put = self.store.put_new if fresh else self.store.put_if_absent
        put(f"catalog/records/{record_id}", _marker_body(kind, register))

    def _marker_object(self, record_id: str, kind: str, register: str | None) -> NewObject:
        """The catalog marker of a record made just now, to write with the record's other
        objects in flight (see :meth:`_write_in_flight`)."""
        self.history_guard.check()  # a record's first object: not on a store behind its history
        self.registers.refuse_while_restoring()  # nor while a restore replaces the store (m69)
        return NewObject(self.store, f"catalog/records/{record_id}", _marker_body(kind, register), fresh=True)

    def _write_in_flight(
        self,
        objects: list[NewObject],
        guards: list[tuple[str, str]],
        record_id: str,
        claims: list[str],
        *,
        settling: Settling | None = None,
    ) -> None:
        """Write the objects of a record in flight (marker, key, original) in one step, then take
        its duplicate guards (key, message) in a second one.

        The first step makes its objects durable at once, none of them first (m24, issue 14: the
        marker no longer goes ahead of the others, one request round less a creation on S3, one
        directory sync less on its way on the local folder): a crash or a failure may leave any
        subset of the three, each of which ``kho fsck`` finds (a marker or a ``records/<id>/``
        folder: step 3; a key alone: step 3c) and cleans past the in-flight grace period. The
        commit point stays after all three are durable: the next step links nothing before
        their syncs succeeded, and a failure of any of them raises here. The guards are stamped
        only once the original is stored (as one after another): a guard, and so a guard that
        ``claim_is_stale`` judges, always has its record's marker, key and original behind it
        (taken only after all three are durable); it is then held only for the moment between it
        and the commit, and ``claim_is_stale`` cannot hand it to another writer while a slow
        original is still on its way. Every guard taken goes into ``claims`` as soon as it is
        known to be taken, also when the step is interrupted (the caller gives them back if the
        record is not committed). A guard another writer holds is settled as :meth:`_claim`
        settles it (taken over if stale, else :class:`Duplicate`), after the others.

        The first step's directory syncs run while the guards are staged (temp files, not
        visible: a guard is stamped once the original is linked, one directory sync before its
        name is durable); no guard is linked before those syncs succeeded (``after``).
        ``settling``: the last step's directory syncs are left running in it (the caller's next
        step waits for them before its links: ``storage.group.write_group``; the caller owns it
        with ``with``); without it they are done when this returns or raises."""
        if settling is None:
            with Settling() as own:  # every sync ended before this returns or raises
                self._write_in_flight(objects, guards, record_id, claims, settling=own)
            return
        for outcome in write_group(objects, settling=settling):
            if isinstance(outcome, BaseException):
                settling.fail(outcome)  # what was linked is durable before the failure is reported
        if not guards:
            return
        body = claim_body(record_id, utcnow())
        group = [NewObject(self.store, key, body) for key, _ in guards]

        def taken(i: int, outcome: Outcome) -> None:
            if written(outcome) and group[i].key not in claims:
                claims.append(group[i].key)

        # lead: on S3 too, a guard taken by another writer holds back the ones after it (as one
        # after another): two writers of the same file and number cannot each take one guard and
        # both be refused.
        outcomes = write_group(group, lead=True, report=taken, after=settling, settling=settling)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, AlreadyExists):
                raise outcome
        for (key, what), outcome in zip(guards, outcomes, strict=True):
            if not written(outcome):
                self._claim(key, record_id, what, taken=isinstance(outcome, AlreadyExists))
                claims.append(key)

    def _in_flight_ahead(
        self,
        objects: list[NewObject],
        guards: list[tuple[str, str]],
        record_id: str,
        claims: list[str],
        year: int,
        series: str | None,
    ) -> InFlightAhead | None:
        """Start the in-flight step of a registered record that takes no duplicate guard (a văn
        bản đi numbered without a file: a register number) beside its register entry's claim,
        where a create is a claim and then the data (S3 claims mode:
        :meth:`~repository.storage.base.ObjectStore.taken_before_written`); None elsewhere (the
        caller writes the step in place, as before).

        Issue 14, m50: the marker and key PUTs were a request round of their own before the
        entry's claim. What a promise needs is that they are durable before the commit point,
        the entry's *data* PUT: the entry's claim (companion bucket, nothing in the data bucket)
        does not depend on them. The returned :class:`InFlightAhead` is waited for once the
        entry's number is claimed, before its data is sent (``Registers.allocate``'s
        ``claimed``); a failure of the step is raised there and the number's claim given back
        (``S3Store.put_if_absent``): nothing committed, no number used. A step with guards stays
        in place: a guard refused (``Duplicate``) must come before a number is claimed. Nor
        when this process's last allocation in the register met another writer
        (``Registers.met_no_other``): with two processes in one series the claim that waits for
        the step cost +0.8 requests a number (polls of a claim with no data yet, lost claims)."""
        if guards or series is None or not self.store.taken_before_written():
            return None
        if not self.registers.met_no_other(register_prefix(self.agency_id, year, series)):
            return None  # writers racing here: the order of before (a claim that waits less)
        # (on the reader pool, not a write pool: a write pool's thread sends its own group one
        # object after another; None from a reader thread: the step is then written in place)
        future = read_beside(self._write_in_flight, objects, [], record_id, claims)
        return None if future is None else InFlightAhead(future)

    def _claim(self, key: str, record_id: str, what: str, *, taken: bool = False) -> None:
        """Take a duplicate guard; a guard left by a crashed write (no committed record behind
        it, and its writer's process gone or a grace period past) is taken over. ``taken``: a
        create of the guard has just found it held (start from settling that)."""
        body = claim_body(record_id, utcnow())
        for attempt in range(2):
            try:
                if not (taken and attempt == 0):
                    self.store.put_if_absent(key, body)
                    return
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
            except AlreadyExists:
                try:
                    raw = self.store.get_after_conflict(key)
                except NotFound as exc:
                    # The store's own claim on the guard is held by a writer whose guard never
                    # arrived (still writing, or dead elsewhere; or, on any store, a guard given
                    # back meanwhile): a later attempt gets through — a dead claim is taken over
                    # once stale (``claim_timeout_s``), as the register and the log do.
                    raise Conflict(
                        "Nội dung này đang bị giữ bởi một lượt ghi khác chưa hoàn tất (có thể lượt"
                        " ghi đó đã dừng ở máy khác). Hãy thử lại sau ít phút.",
                        code="CLAIM_PENDING",
                        key=key,
                    ) from exc
                holder = formats.loads(formats.CLAIM.name, raw)
                if holder["record_id"] == record_id:
                    return
                if self._exists(holder["record_id"]):
                    raise Duplicate(what, existing_record_id=holder["record_id"]) from None
                if not claim_is_stale(holder, now=utcnow(), host=this_host(), alive=process_alive):
                    raise Duplicate(what, existing_record_id=holder["record_id"]) from None
                # Another re-run may have judged the same holder stale: only one of them
                # takes it over; the others find the winner's guard on the next attempt.
                if take_over_guard(self.store, key, raw, body, now=utcnow()):
                    return
        raise Duplicate(what)

    def remove_uncommitted(self, record_id: str) -> None:
        """Remove what a write of ``record_id`` left before its commit point: its objects under
        ``records/<id>/``, its key, then its catalog marker (last: while anything of it is left,
        the marker points ``kho fsck`` at it). The one way both a refused write and fsck do it."""
        for info in self.store.list(f"records/{record_id}/"):
            self.store.delete(info.key)
        self.keys.destroy(record_id)
        self.store.delete(f"catalog/records/{record_id}")

    @contextmanager
    def _withdrawn_if_refused(self, record_id: str) -> Iterator[None]:
        """Around the step before a new record's commit point: when it is refused (a duplicate
        guard held, a guard still pending), the marker, key and original it wrote are removed at
        once. They were left for ``kho fsck`` before: a refused upload of a duplicate kept a
        sealed copy of the whole file each time. A crash still leaves them to fsck; so does a
        removal that fails (the refusal is what is reported)."""
        try:
            yield
        except (Duplicate, Conflict, ClaimNotAFile, FormatInvalid):
            # refused (a guard held, pending, or not a guard Kho can read: rv55); a failed write
            # (STORE_FULL …) is left to fsck
            try:
                self.remove_uncommitted(record_id)
            except KhoError:
                pass  # left to fsck, as after a crash
            raise

    def _release(self, key: str | None, record_id: str) -> None:
        if key is None:
            return
        try:
            if formats.loads(formats.CLAIM.name, self.store.get(key))["record_id"] == record_id:
                self.store.delete(key)
        except NotFound:
            pass

    def _release_unless_committed(
        self, claims: Iterable[str | None], record_id: str, version: int, *, registered: bool
    ) -> None:
        """Give back the duplicate guards of a write that failed at or after its commit point
        (``version`` of ``record_id`` written, or, ``registered``, its register entry): only when
        the write is known not to have committed. An interruption (Celery's soft time limit, a
        ``KeyboardInterrupt``) can arrive just after the commit point's object became visible:
        the record is committed and its guards must stay, or the same file or số/ký hiệu goes in
        a second time (review rv13: a duplicate record with the next number). Read only (the
        version, then the entry the catalog marker's register holds); a read that fails keeps
        the guards (a guard with no committed record behind it is taken over once stale)."""
        try:
            committed = self.store.exists(version_key(record_id, version)) or (
                registered and self._register_entry(record_id) is not None
            )
        except Exception:
            committed = True
        if not committed:
            for claim in claims:
                self._release(claim, record_id)

    def _exists(self, record_id: str) -> bool:
        return self.store.exists(version_key(record_id, 1)) or self._roll_forward(record_id) is not None

    # -- legal holds (phong tỏa): enforced here, for every caller ------------------------------
    def holds_on(self, record_id: str) -> list[dict[str, Any]]:
        """The holds placed on this record or hồ sơ itself (not those of the hồ sơ holding it)."""
        out = []
        for info in self.store.list(f"{HOLD_PREFIX}{record_id}/"):
            try:
                out.append(formats.loads(formats.LEGAL_HOLD.name, self.store.get(info.key)))
            except NotFound:
                continue  # released meanwhile
        return out

    def holds_covering(
        self, record: Record, *, holders: Iterable[Record] | None = None
    ) -> list[dict[str, Any]]:
        """Every hold that reaches ``record``: its own and those of each hồ sơ it sits in."""
        found = self.holds_on(record.record_id)
        for holder in self.holders_of(record) if holders is None else holders:
            found.extend(self.holds_on(holder.record_id))
        return found

    def refuse_if_held(self, record: Record, action: Action | str) -> None:
        """Raise :class:`LegalHold` when a hold on the record (or on a hồ sơ holding it) blocks
        ``action`` (``"destroy"``: destruction; :func:`hold_blocks`). No role lifts it, quản trị
        and Kho's own processes included: only releasing the hold does. A hồ sơ under hold also
        refuses the destruction of any of its documents, and a hồ sơ is not destroyed while a
        document in it is held. A hold is the store's object *or* the record's history: one the
        log placed and never released is not lifted by deleting its object
        (:meth:`_refuse_if_hold_missing`, ``HOLD_MISSING``), whatever the change."""
        if not hold_blocks(action):
            return
        holders = self.holders_of(record)
        holds = self.holds_covering(record, holders=holders)
        documents = record.documents if action == "destroy" and record.kind == KIND_FILE else ()
        for document_id in documents:
            holds.extend(self.holds_on(document_id))
        covered = [record.record_id, *(h.record_id for h in holders), *documents]
        self._refuse_if_hold_missing(covered, holds, action)
        if not holds:
            return
        first = holds[0]
        what = "thu hồi (đóng băng)" if first.get("kind") == "recall" else "phong tỏa"
        raise LegalHold(
            f"Tài liệu đang bị {what} ({first.get('reason', '')}): không được sửa, thêm/bớt, phân"
            " quyền hay hủy cho đến khi được gỡ.",
            record_id=record.record_id,
            holds=sorted({h["hold_id"] for h in holds}),
            action=str(action),
        )

    def _refuse_if_hold_missing(
        self, record_ids: list[str], stored: list[dict[str, Any]], action: Action | str
    ) -> None:
        """Before a change a hold blocks (``action``): refuse (:class:`LegalHold`
        ``HOLD_MISSING``) when the audit log placed a hold on one of ``record_ids`` that it never
        released and whose object the store no longer holds (``stored``: the holds found there).
        A release is an act with its event; an object gone without one was deleted by a hand in
        the store. Reads the records' hold events through the by-record index
        (:meth:`AuditLog.hold_events`: a few reads, not the record's whole history), for every
        change a hold blocks: editing, moving, closing, reopening, keeping, granting, adding to
        or taking from a hồ sơ, destroying (review z3: only destruction asked before)."""
        held = {(str(h.get("record_id")), str(h.get("hold_id"))) for h in stored}
        gone: list[int] = []  # hold events the index names that the store no longer holds
        histories = self.audit.hold_events(record_ids, missing=gone)
        missing = sorted(
            (record_id, hold_id)
            for record_id, events in histories.items()
            for hold_id in holds_open_in(events)
            if (record_id, hold_id) not in held
        )
        refused = "hủy" if action == "destroy" else "sửa, thêm/bớt, phân quyền, kết thúc hay mở lại"
        if gone:  # a history with a hole cannot show that no hold is open (review r22)
            logs.warn(
                __name__, "hold events %s of %s gone from the store, %s refused", gone, record_ids, action
            )
            raise LegalHold(
                "Lịch sử trong nhật ký kiểm toán của tài liệu này thiếu sự kiện phong tỏa (số"
                f" {', '.join(map(str, sorted(gone)))}) mà kho lưu trữ không còn: có thể đã bị xóa"
                f" thẳng trong kho, kể cả lệnh phong tỏa. Không {refused} được cho đến khi người"
                " vận hành kiểm tra (kho audit verify, kho fsck).",
                code="HOLD_MISSING",
                record_id=record_ids[0],
                holds=[],
                action=str(action),
            )
        if not missing:
            return
        logs.warn(__name__, "holds in the log but not in the store, %s refused: %s", action, missing)
        raise LegalHold(
            "Nhật ký kiểm toán ghi lệnh phong tỏa/thu hồi chưa được gỡ mà kho lưu trữ không còn"
            f" ({', '.join(f'{r}/{h}' for r, h in missing)}): có thể đã bị xóa thẳng trong kho lưu"
            f" trữ. Không {refused} được cho đến khi người vận hành kiểm tra (kho fsck).",
            code="HOLD_MISSING",
            record_id=record_ids[0],
            holds=[h for _, h in missing],
            action=str(action),
        )

    def _original_keys(self, record: Record) -> list[str]:
        return [content_key(record.record_id, f.sha256) for f in record.files]

    def place_hold(
        self,
        record_id: str,
        hold_id: str,
        reason: str,
        *,
        actor: Actor,
        kind: str = "hold",
        authorize: Action = Action.HOLD_PLACE,
    ) -> dict[str, Any]:
        """Put a record or hồ sơ under hold (idempotent per ``hold_id``); on a store with object
        lock the originals get the backend's legal hold too. Audited ``hold:place``."""
        record = self._load(record_id)
        self.authorize(actor, authorize, record)
        body = {
            "hold_id": hold_id,
            "record_id": record_id,
            "kind": kind,
            "reason": typed_text(reason, "reason", "Lý do phong tỏa"),
            "by": actor.user,
            "by_units": sorted(hold_placer_units(actor.as_principal)),
            "at": to_iso_utc(self.clock()),
        }
        key = hold_key(record_id, hold_id)
        try:
            self.store.put_if_absent(
                key, formats.dumps(formats.LEGAL_HOLD.name, body, ensure_ascii=False, sort_keys=True)
            )
        except AlreadyExists:
            # (a claim whose writer died before the hold landed, S3 claims mode: CLAIM_PENDING
            # until it is stale and the next put takes it over; review s19, was a NotFound)
            raw = self.store.get_landed(
                key,
                "Lệnh phong tỏa này đang bị giữ bởi một lượt ghi chưa hoàn tất (có thể lượt ghi đó đã"
                " dừng ở máy khác); bản ghi chưa được phong tỏa. Hãy thử lại sau ít phút.",
            )
            return formats.loads(formats.LEGAL_HOLD.name, raw)
        try:  # after the marker is written: a destruction that checks later sees the marker
            self._refuse_if_destroyed(
                record_id,
                lambda: hold_reach(record_id, record.documents, self.files_of(record_id)),
                "không phong tỏa được",
            )
        except BaseException:
            self.store.delete(key)
            raise
        if self.store.supports_retention:
            for key in self._original_keys(record):
                self.store.set_legal_hold(key, True)
        self._event(actor, f"{kind}:place", record, {"hold_id": hold_id, "reason": body["reason"]})
        return body

    def authorize_hold_release_of(self, record_id: str, hold_id: str, *, actor: Actor) -> bool:
        """Refuse, writing nothing, unless ``actor`` may release hold ``hold_id`` of
        ``record_id`` now (:meth:`release_hold`'s checks: the hold object's placer, or the log's
        when the object is gone; a recall freeze never). False: no such hold is there, in the
        store or open in the log. For a release that must be all or nothing over many records."""
        record = self._load(record_id)
        self.authorize(actor, Action.HOLD_PLACE, record)
        key = hold_key(record_id, hold_id)
        if self.store.exists(key):
            held = formats.loads(formats.LEGAL_HOLD.name, self.store.get(key))
            if held.get("kind") == "recall":
                raise self._recall_frozen(record_id, hold_id)
            self.authorize_hold_release(
                actor, record, placed_by=str(held.get("by") or ""), placer_units=held.get("by_units")
            )
            return True
        placed = self._open_hold_placed(record_id, hold_id)
        if placed is None:
            return False
        if placed.action == "recall:place":
            raise self._recall_frozen(record_id, hold_id)
        self.authorize_hold_release(actor, record, placed_by=placed.actor, placer_units=None)
        return True

    def _refuse_if_destroyed(self, record_id: str, reach: Callable[[], Iterable[str]], refused: str) -> None:
        """Refuse (:class:`Conflict`, 409) an act on ``record_id`` once it is destroyed
        (``RECORD_DESTROYED``: its "đã hủy" row is written) or while a destruction of a record of
        ``reach()`` runs (``RECORD_BEING_DESTROYED``: its :data:`DESTROYING_PREFIX` claim).
        Called after the act's own object is written, which the destruction looks for after
        taking its claim: of the two, one sees the other. ``refused``: what is not done (“không
        phong tỏa được”). One stat and one LIST; ``reach`` only while a destruction runs."""
        if self.store.exists(destroyed_key(record_id)):
            raise Conflict(f"Tài liệu đã bị hủy: {refused}.", code="RECORD_DESTROYED", record_id=record_id)
        running = {info.key[len(DESTROYING_PREFIX) :] for info in self.store.list(DESTROYING_PREFIX)}
        reached = {r for r in (running & set(reach()) if running else ()) if not self._destroyer_gone(r)}
        if reached:
            first = sorted(reached)[0]
            raise Conflict(
                f"Tài liệu “{first}” đang được hủy theo quyết định hủy đã ban hành: {refused}. Hãy"
                " tải lại để xem kết quả hủy.",
                code="RECORD_BEING_DESTROYED",
                record_id=first,
            )

    def _destroyer_gone(self, record_id: str) -> bool:
        """Is the destruction claim of ``record_id`` left by a process that died on this machine
        (kill -9 between the claim and the shredding)? Such a claim no longer refuses holds or
        additions (review r28: it refused them for ever, and a hold could no longer stop the
        resumed execution, which checks the holds again). One from another machine, or one
        withdrawn meanwhile, still counts: that destruction may be running."""
        holder = self._claim_holder(destroying_key(record_id))
        return holder is not None and _writer_of_gone(holder)

    def _claim_holder(self, key: str) -> dict[str, Any] | None:
        """The writer a claim names (format ``claim``), None once it is withdrawn."""
        try:
            return formats.loads(formats.CLAIM.name, self.store.get(key))
        except NotFound:
            return None

    def release_hold(
        self, record_id: str, hold_id: str, *, actor: Actor, reason: str, order_missing: bool = False
    ) -> bool:
        """Release one hold (False: it was not there). The backend's legal hold on the originals
        is lifted when no other hold remains. Audited ``hold:release`` (with ``order_missing``
        when its hold order is gone from the store: :meth:`retention.holds.Holds.release`)."""
        record = self._load(record_id)
        self.authorize(actor, Action.HOLD_PLACE, record)
        key = hold_key(record_id, hold_id)
        if not self.store.exists(key):
            return self._release_missing_hold(
                record, hold_id, actor=actor, reason=reason, order_missing=order_missing
            )
        held = formats.loads(formats.LEGAL_HOLD.name, self.store.get(key))
        if held.get("kind") == "recall":
            raise self._recall_frozen(record_id, hold_id)
        self.authorize_hold_release(
            actor, record, placed_by=str(held.get("by") or ""), placer_units=held.get("by_units")
        )
        self.store.delete(key)
        if self.store.supports_retention and not self.holds_on(record_id):
            for original in self._original_keys(record):
                self.store.set_legal_hold(original, False)
            # A hold placed meanwhile set the gateway's hold before this lift came: look again
            # after lifting, and put it back (review a6). A hold placed later sets it itself.
            if self.holds_on(record_id):
                for original in self._original_keys(record):
                    self.store.set_legal_hold(original, True)
        why = typed_text(reason, "reason", "Lý do gỡ phong tỏa")
        details: dict[str, Any] = {"hold_id": hold_id, "reason": why}
        if order_missing:
            details["order_missing"] = True
        self._event(actor, "hold:release", record, details)
        return True

    @staticmethod
    def _recall_frozen(record_id: str, hold_id: str) -> LegalHold:
        return LegalHold(
            "Văn bản bị thu hồi được đóng băng vĩnh viễn cùng lệnh thu hồi; không gỡ được.",
            record_id=record_id,
            hold_id=hold_id,
        )

    def _open_hold_placed(self, record_id: str, hold_id: str) -> AuditEvent | None:
        """The log's event that placed ``hold_id`` on ``record_id`` if the log has it open."""
        events = self.audit.hold_events([record_id])[record_id]
        if hold_id not in holds_open_in(events):
            return None
        return next(
            e
            for e in reversed(events)
            if e.action in HOLD_PLACED and (e.details or {}).get("hold_id") == hold_id
        )

    def _release_missing_hold(
        self, record: Record, hold_id: str, *, actor: Actor, reason: str, order_missing: bool = False
    ) -> bool:
        """Release a hold the log placed and never released whose object is gone from the store
        (deleted by a hand in the store; every change refuses it, :meth:`_refuse_if_hold_missing`):
        by the same authority as any hold, the placer being the log's ``hold:place`` actor and
        the units, which were in the lost object, the agency's (fail closed: the placer or a
        lãnh đạo of the agency). Audited ``hold:release`` with ``object_missing``. A recall freeze
        is never lifted. False when the log has no such hold open."""
        placed = self._open_hold_placed(record.record_id, hold_id)
        if placed is None:
            return False
        if placed.action == "recall:place":
            raise self._recall_frozen(record.record_id, hold_id)
        self.authorize_hold_release(actor, record, placed_by=placed.actor, placer_units=None)
        why = typed_text(reason, "reason", "Lý do gỡ phong tỏa")
        details: dict[str, Any] = {"hold_id": hold_id, "reason": why, "object_missing": True}
        if order_missing:
            details["order_missing"] = True
        self._event(actor, "hold:release", record, details)
        return True

    def refuse_if_in_archive(self, record: Record, what: str) -> None:
        """Refuse (:class:`Conflict` ``DOCUMENT_IN_ARCHIVE``) a change to a document that sits in
        a hồ sơ handed over to the archive (nộp lưu: submitted or archived). From then on the
        hồ sơ and its documents are the lưu trữ's (ND30 Điều 30 k3): what the archive received
        is what it keeps, and it leaves only by the archive's own destruction procedure."""
        for holder in self.holders_of(record):
            if holder.state in ARCHIVE_STATES:
                raise Conflict(
                    f"Văn bản thuộc hồ sơ “{holder.record_id}” đã nộp lưu, do lưu trữ quản lý:"
                    f" không {what} được.",
                    code="DOCUMENT_IN_ARCHIVE",
                    record_id=record.record_id,
                    file_id=holder.record_id,
                    state=holder.state,
                )

    def _refuse_if_handed_over(self, record: Record, what: str) -> None:
        """Under a destruction's claim: refuse (:class:`Conflict`) when a hồ sơ of ``record`` is
        being handed over to the archive (``FILE_BEING_SUBMITTED``: its live
        :func:`submitting_key` claim) or already is (:meth:`refuse_if_in_archive`). The claim is
        looked at before the state: a hand-over that saw no destruction claim has its own
        claim up until its version is written, so one of the two reads sees it."""
        for file_id in self.files_of(record.record_id):
            holder = self._claim_holder(submitting_key(file_id))
            if holder is not None and submission_running(holder, self.clock()):
                raise Conflict(
                    f"Hồ sơ “{file_id}” chứa văn bản này đang được nộp lưu: không {what} được. Hãy"
                    " tải lại để xem.",
                    code="FILE_BEING_SUBMITTED",
                    record_id=record.record_id,
                    file_id=file_id,
                )
        self.refuse_if_in_archive(record, what)

    @contextmanager
    def _handing_over(self, file: Record) -> Iterator[None]:
        """Held while hồ sơ ``file`` is handed over to the archive (its version into
        :data:`ARCHIVE_STATES` written): :func:`submitting_key` taken (create-if-absent; one a
        dead writer left is taken over), then the destruction claims of the hồ sơ and its
        documents looked for (:meth:`_refuse_if_destroyed`, ``RECORD_BEING_DESTROYED``), the
        claim withdrawn once the version is written or refused. The other side of
        :meth:`_refuse_if_handed_over` (review a11)."""
        key = submitting_key(file.record_id)
        mine = claim_body(file.record_id, self.clock())
        try:
            self.store.put_if_absent(key, mine)
        except AlreadyExists:
            if not self._took_over_left_submission(key, mine):
                raise Conflict(
                    f"Hồ sơ “{file.record_id}” đang được nộp lưu ở một lượt khác: hãy tải lại để xem.",
                    code="FILE_BEING_SUBMITTED",
                    record_id=file.record_id,
                    file_id=file.record_id,
                ) from None
        try:
            self._refuse_if_destroyed(
                file.record_id, lambda: [file.record_id, *file.documents], "không nộp lưu được"
            )
            yield
        finally:
            self.store.delete(key)

    def _took_over_left_submission(self, key: str, mine: bytes) -> bool:
        """Take over the :func:`submitting_key` claim ``key`` another nộp lưu holds, if that one
        is no longer running (:func:`submission_running`); whether it was. The bytes judged are the
        bytes taken over: read once (a11 read them twice, and could remove a fresh claim written
        in between)."""
        try:
            seen = self.store.get_after_conflict(key)
        except NotFound:
            return False  # withdrawn meanwhile: that hand-over is done; this one reloads
        if submission_running(formats.loads(formats.CLAIM.name, seen), self.clock()):
            return False
        return take_over_guard(self.store, key, seen, mine, now=self.clock())

    def authorize_destruction(
        self, actor: Actor, action: Action, file: Record, document_ids: Iterable[str] = ()
    ) -> None:
        """Refuse (:class:`PermissionDenied`, audited on the hồ sơ) unless ``actor`` may take the
        destruction step ``action`` on ``file`` and on each of its documents (those it holds
        now and ``document_ids``, the danh mục's): :func:`~repository.policy.may_destroy`."""
        if actor.system:
            return
        documents = self._document_facts(file, document_ids)
        decision = may_destroy(actor.as_principal, action, self.facts(file), documents)
        self._enforce(actor, action, file, decision)

    def _document_facts(self, file: Record, document_ids: Iterable[str] = ()) -> list[RecordFacts]:
        """The policy's facts of the documents a hồ sơ holds (and of ``document_ids``), those
        destroyed or never there left out (nothing of them is left to see or shred)."""
        out = []
        for document_id in dict.fromkeys((*file.documents, *document_ids)):
            try:
                document = self._load(document_id)
            except NotFound:
                continue
            if document.state != "destroyed":
                out.append(self.facts(document, holders=[file]))
        return out

    def receives_submission(self, actor: Actor, file: Record) -> Decision:
        """:func:`~repository.policy.receives_submission` for ``file`` and its documents."""
        if actor.system:
            return ALLOW
        return receives_submission(actor.as_principal, self.facts(file), self._document_facts(file))

    def authorize_submission(self, actor: Actor, file: Record) -> None:
        """Refuse (:class:`PermissionDenied`, audited on the hồ sơ) unless ``actor`` receives
        ``file`` as Lưu trữ cơ quan (:meth:`receives_submission`)."""
        self._enforce(actor, Action.SUBMISSION_REVIEW, file, self.receives_submission(actor, file))

    def authorize_hold_release(
        self, actor: Actor, record: Record, *, placed_by: str, placer_units: Iterable[str] | None
    ) -> None:
        """Refuse (:class:`PermissionDenied`, audited) unless ``actor`` may lift a hold that
        ``placed_by`` placed from ``placer_units`` on ``record``
        (:func:`~repository.policy.may_release_hold`). A hold stored before the placer's units
        were kept (``None``) counts as placed from the agency itself: besides the placer, only a
        lãnh đạo of the agency lifts it (fail closed, and never stranded)."""
        if not actor.system:
            units = frozenset({self.agency_id}) if placer_units is None else frozenset(placer_units)
            decision = may_release_hold(actor.as_principal, self.facts(record), placed_by, units)
            self._enforce(actor, Action.HOLD_PLACE, record, decision)

    # -- access ------------------------------------------------------------------------------
    def holders_of(self, record: Record, *, readable_only: bool = False) -> list[Record]:
        """The hồ sơ a document sits in (latest versions); none for a hồ sơ itself.

        A hồ sơ that cannot be opened (its key garbled, its bytes changed: a fixity finding)
        raises, so that a hold or a hand-over it carries is never passed over; ``readable_only``
        leaves it out instead, for the access rule (:meth:`facts`): its grants then let nobody
        in (fail closed), and the documents in it stay readable to everyone else who may see
        them, instead of one damaged hồ sơ refusing every list its documents are in."""
        if record.kind == KIND_FILE:
            return []
        out = []
        for file_id in self.files_of(record.record_id):
            try:
                holder = self._load(file_id)
            except NotFound:
                continue
            except UNOPENABLE:
                if not readable_only:
                    raise
                continue
            if record.record_id in holder.documents:  # a link left by an interrupted removal
                out.append(holder)
        return out

    def facts(self, record: Record, *, holders: Iterable[Record] | None = None) -> RecordFacts:
        """What the access policy knows of a record: its own grants and those of every hồ sơ
        it sits in (``holders``, when the caller has them already), and which of those hồ sơ
        are at the Lưu trữ cơ quan (:attr:`~repository.policy.RecordFacts.received_from`)."""
        users, units = set(record.grant_users), set(record.grant_units)
        received: set[str] = set()
        for holder in self.holders_of(record, readable_only=True) if holders is None else holders:
            users.update(holder.grant_users)
            units.update(holder.grant_units)
            if holder.state in RECEIVED_STATES:
                received.add(holder.unit or self.agency_id)
        return RecordFacts(
            record_id=record.record_id,
            kind=record.kind,
            unit=record.unit or self.agency_id,
            secrecy=record.secrecy,
            created_by=record.created_by,
            grant_users=frozenset(users),
            grant_units=frozenset(units),
            state=record.state,
            recalled=bool(record.extra.get(RECALL_KEY)) if record.kind == "di" else False,
            received_from=frozenset(received),
        )

    def facts_if_latest(self, record: Record) -> RecordFacts | None:
        """:meth:`facts` of ``record`` if it is still the record's latest version (its versions
        listed: one request on S3), else None: someone changed it since (registered it, granted
        it, made it Mật) and facts of the version in hand would decide on what it was (review
        rv60: a bulk import's worker holds the version it wrote until its whole chunk is
        indexed). The caller then reads the record as it is."""
        versions = self._versions(record.record_id)
        if not versions or versions[-1] != record.version:
            return None
        return self.facts(record)

    def authorize(
        self, actor: Actor, action: Action, record: Record | None = None, *, facts: RecordFacts | None = None
    ) -> None:
        """Raise :class:`PermissionDenied` (audited) unless the policy allows the act.
        ``facts``: :meth:`facts` of this very ``record`` (the same loaded version), when the
        caller read them for another question in the same request (:meth:`opened`); the decision
        is then made on them instead of listing the record's hồ sơ again."""
        if actor.system:
            return
        if facts is None and record is not None:
            facts = self.facts(record)
        self._enforce(actor, action, record, decide(actor.as_principal, action, facts))

    def authorize_for_agency(self, actor: Actor, action: Action) -> None:
        """Raise :class:`PermissionDenied` (audited) unless ``actor`` may do ``action`` for the
        whole agency (:func:`~repository.policy.decide_for_agency`: an act of
        :data:`~repository.policy.AGENCY_ACTIONS` needs its role at the agency's own unit)."""
        if actor.system:
            return
        self._enforce(actor, action, None, self.decides_for_agency(actor, action))

    def authorize_decision(self, actor: Actor, action: Action, decision: Decision) -> None:
        """Raise :class:`PermissionDenied` (audited, as :meth:`authorize`) unless ``decision`` (a
        policy answer about no one record, e.g. :func:`~repository.policy.may_hand_over`) allows."""
        if not actor.system:
            self._enforce(actor, action, None, decision)

    def decides_for_agency(self, actor: Actor, action: Action) -> Decision:
        """:func:`~repository.policy.decide_for_agency` for this installation's agency, asked
        without acting (a page deciding whether to offer the step)."""
        return ALLOW if actor.system else decide_for_agency(actor.as_principal, action, self.agency_id)

    def _enforce(self, actor: Actor, action: Action, record: Record | None, decision: Decision) -> None:
        """Audit and refuse what the policy refused (:func:`refusal`: a record the person may not
        know of is refused as an id that names nothing). The audit event keeps the refusal's
        own code, and says when it was answered as not found."""
        if decision.allowed:
            return
        details = {"action": action.value, "code": decision.cause or decision.code}
        if decision.code == UNKNOWN_RECORD:
            details["answered"] = UNKNOWN_RECORD
        self.audit_denied(
            actor,
            record.record_id if record is not None else None,
            details,
            as_absent=decision.code == UNKNOWN_RECORD,
        )
        raise refusal(decision, record.record_id if record is not None else None)

    def audit_denied(
        self, actor: Actor, record_id: str | None, details: dict[str, Any], *, as_absent: bool
    ) -> None:
        """Append the ``access:denied`` event of a refusal. ``as_absent``: the refusal is answered
        as an id that names nothing (a record this person may not know of), which appends no
        event; a log that refuses events (``AUDIT_CHAIN_BROKEN``, a cut tail) must not answer it
        otherwise: 503 there against 404 for an absent id told them the record exists (rv8
        "found"; u10). Nothing was read or done; the lost event is logged as a warning. Any
        other refusal still raises ``AUDIT_CHAIN_BROKEN``."""
        try:
            self.audit.append(
                actor.user, "access:denied", record_id=record_id, source=actor.source, details=details
            )
        except AuditChainBroken as broken:
            if not as_absent or record_id is None:
                raise
            logs.warn(
                __name__,
                "access:denied of %s by %s not audited (%s): answered as absent",
                record_id,
                actor.user,
                broken.code,
            )

    def _authorize_correction(
        self,
        actor: Actor,
        action: Action,
        current: Record,
        corrected: Record,
        *,
        fields: Iterable[str],
        reason: str | None,
    ) -> None:
        """A correction of ``current`` into ``corrected`` is the person's to make (audited
        refusals): the editor's ``action`` on the record, except a declassification, which the
        unit's lãnh đạo makes without being its văn thư; and what it changes of the record's unit
        or độ mật (:func:`~repository.policy.decide_correction`)."""
        if actor.system:
            return
        before, after = self.facts(current), self.facts(replace(corrected, created_by=""))
        if not declassifies(before, after):
            self.authorize(actor, action, current)
        decision = decide_correction(actor.as_principal, action, before, after, fields=fields, reason=reason)
        self._enforce(actor, action, current, decision)

    def _authorize_new(self, actor: Actor, action: Action, draft: Record) -> None:
        """The person must hold ``action``'s role for the unit and secrecy of what they are
        about to write (a văn thư registers for their own unit, at their clearance). Told the
        refusal itself (:func:`~repository.policy.decide_new`): what they write exists for nobody else."""
        if actor.system:
            return
        draft = replace(draft, created_by="")
        self._enforce(actor, action, draft, decide_new(actor.as_principal, action, self.facts(draft)))

    def may_see(self, actor: Actor, record: Record) -> bool:
        return actor.system or sees(actor.as_principal, self.facts(record))

    def may_see_listed(self, actor: Actor, record_id: str) -> bool:
        """Whether ``actor`` may see ``record_id`` where another answer lists it (a hồ sơ's
        documents, a worklist, a destruction case, a notification): :meth:`may_see`, and a record
        that is gone or cannot be opened (:data:`UNOPENABLE`) is one they may not see. One such
        record answered the whole hồ sơ or list with its own refusal (``RECORD_UNREADABLE``,
        naming it: a Mật document's id to a Thường reader of its hồ sơ); it is refused where it
        is itself read, and reported there."""
        try:
            return self.may_see(actor, self._load(record_id))
        except UNOPENABLE:
            return False

    def notice_facts(self, record_id: str) -> RecordFacts:
        """The policy's facts of a record a notice names (a fixity finding), for
        :func:`~repository.policy.knows_of`: who may be told its id. A record gone or that cannot
        be opened (:data:`UNOPENABLE`, what such notices are about) is taken as a record of the
        unit its sealed audit events say (:meth:`unopenable_unit`: a phòng's archivists are told
        of their phòng's record, m59), else as the agency's own (as a record of no unit is,
        :meth:`facts`): the quản trị and the agency's own archivists are told of it (review rv59)."""
        try:
            return self.facts(self._load(record_id))
        except UNOPENABLE:
            unit = self.unopenable_unit(record_id) or self.agency_id
            return RecordFacts(record_id=record_id, kind="", unit=unit)

    def unopenable_unit(self, record_id: str) -> str | None:
        """The unit of a record none of whose versions may be openable (its key lost, its newest
        version damaged), from what a writer of the store cannot forge: the record's audit
        events whose seal checks, each version's writing event stating its unit
        (:func:`unit_in_events`). None (unknown: the caller takes the agency's own) when they do
        not say it, when the log has lost any event of the record, or when the store holds a
        newer version than the log names (written and not audited, or put there by hand: the
        sources disagree). Not trusted, so never asked: the catalog marker and register entries
        (unsealed; an entry's sealed version needs the same key), the search index (derived,
        written outside the store's seals), unsealed events (a writer of the store appends
        them). A damaged or forged source so narrows who is told to the agency's people, never
        widens it to a unit of the writer's choosing."""
        try:
            missing: list[int] = []
            events = self.audit.record_events(record_id, missing=missing, trusted_only=True)
            told = None if missing else unit_in_events(events, self.audit.seal_checks)
            if told is None:
                return None
            version, unit = told
            stored = self._versions(record_id)
            return None if stored and stored[-1] > version else unit
        except KhoError as exc:  # the log or the store unreadable: the notice still goes out
            logs.warn(__name__, "unit of unreadable record %s not read: %s", record_id, exc.code)
            return None

    def _emit(self, record: Record) -> None:
        if self.on_change is not None:
            self.on_change(record)

    def _event(self, actor: Actor, action: str, record: Record, details: dict[str, Any]) -> None:
        self.audit.append(
            actor.user,
            action,
            record_id=record.record_id,
            version=record.version,
            source=actor.source,
            details=details,
        )

    def _announce(
        self,
        actor: Actor,
        record: Record,
        action: str,
        details: dict[str, Any],
        *,
        alongside: Sequence[NewObject] = (),
        after: Settling | None = None,
        also: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> Record:
        """Audit a committed write (and its registration, if it carries one: two events, one
        witness write); tell the index. ``alongside``: objects the commit point already
        carries (a registered record's first version), written in one step with the events.
        ``after``: the commit point's directory sync, waited for before they are linked."""

        def draft(what: str, data: dict[str, Any]) -> EventDraft:
            return EventDraft(
                actor.user,
                what,
                record_id=record.record_id,
                version=record.version,
                source=actor.source,
                details=data,
            )

        first = draft(action, self._with_unit(record, details))
        drafts = [first, *(draft(what, data) for what, data in also)]
        if record.registration is not None:
            reg = record.registration
            number = assign_details(reg.organ_id, reg.year, reg.series, reg.number)
            drafts.append(draft(ASSIGN_ACTION, number))
        self.audit.append_many(drafts, alongside=alongside, after=after)
        self._emit(record)
        return record

    def _commit_first(self, record: Record, claims: list[str]) -> None:
        """Create the first version of a record made just now (only its maker writes it); on
        failure give back the duplicate guards taken for it."""
        try:
            self.store.put_new(version_key(record.record_id, 1), self._seal_version(record))
        except BaseException:
            self._release_unless_committed(claims, record.record_id, 1, registered=False)
            raise

    # -- documents -------------------------------------------------------------------------
    def create_document(
        self,
        direction: Direction | str,
        metadata: Mapping[str, Any],
        content: bytes | None,
        filename: str | None,
        actor: Actor,
        *,
        register: bool = True,
        advisory_body: str | None = None,
        allow_duplicate_content: bool = False,
        duplicate_reason: str | None = None,
        override_reason: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Record:
        """Create a văn bản đến/đi from its metadata (and, for Kho's own processes, a file);
        register it (số đến / số đi).

        The CLI, API and web never pass a person's file here: it arrives through the receive
        service (``ingest.receive``), which checks its signatures before it can be registered.
        ``duplicate_reason`` registers a document that matches an existing one (số, ký hiệu,
        cơ quan, năm — a re-sent document) as a new registration, with the reason audited.
        Validation happens before anything is written. The commit point is the register entry
        (or the first version when not registered).
        """
        direction = Direction(direction)
        self.authorize(actor, Action.RECORD_CREATE)
        _check_reasons(override_reason, duplicate_reason)
        numbered = register and direction is Direction.DI
        md = parse_document(
            metadata, direction, known_organ=self.is_known_organ, numbered_by_register=numbered
        )
        md = self._default_unit(md, actor)
        drafted = self._draft(direction.value, md)
        self._authorize_new(actor, Action.RECORD_UPDATE, drafted)
        info = None
        if content is not None or filename is not None:
            info = check_original(content or b"", filename or "", max_bytes=self.max_file_bytes)
        gate = self._gate(actor, extra or {}, override_reason, drafted, md)
        now = self.clock()
        plan = self._plan(md, now, register, advisory_body)
        md, year, series = plan.metadata, plan.year, plan.series

        record_id = new_record_id()
        register_name = register_prefix(self.agency_id, year, series) if series else None
        # Everything before the commit point in two steps (``_write_in_flight``): the marker,
        # the key and the original are durable together (none of them first), then the
        # duplicate guards. The original precedes the guards: they are held only for the moment
        # between them and the commit, so a writer that dies leaves a guard that is stale
        # within seconds. With no guard, on S3 in claims mode, the first step goes beside the
        # register entry's claim and the entry's data waits for it (m50, ``_in_flight_ahead``).
        in_flight = [
            self._marker_object(record_id, direction.value, register_name),
            self.keys.new_object(record_id),
        ]
        guards: list[tuple[str, str]] = []
        claims: list[str] = []
        # The directory syncs of each step run while the next step writes its temp files; the
        # next step links nothing before they succeeded (``storage.group.write_group``). Every
        # sync has ended before this returns or raises: the events wait for the commit point's
        # before their links, the end of the block for whatever is left (``Settling``).
        committing = False
        # On S3 the audit log's witness read for this act's events is started just before the
        # register entry is written, and its round trip hides behind the entry's (m31); every
        # check of it is still made before the events are written (``AuditLog.reading_ahead``).
        # Once the entry's number is claimed and that read names this process's end of the log,
        # the number of the act's first event object is claimed beside the entry's data PUT
        # (m36, ``AuditLog.claim_slot_ahead``): the event's create then sends its data only.
        ahead: InFlightAhead | None = None  # the first step beside the entry's claim (m50)
        with Settling() as settling, self.audit.reading_ahead() as read_witness_ahead:
            try:
                files: tuple[StoredFile, ...] = ()
                if info is not None:
                    assert content is not None
                    key = content_key(record_id, info.sha256)
                    sealed = self.keys.seal(record_id, content, key)
                    in_flight.append(NewObject(self.store, key, sealed, fresh=True, same_bytes=True))
                    files = (StoredFile.from_info(info),)
                    if not allow_duplicate_content:
                        guards.append(
                            (
                                f"claims/sha256/{info.sha256}",
                                f"Tệp “{info.original_name}” đã có trong kho (trùng SHA-256).",
                            )
                        )
                with self._duplicates_told_to(actor):
                    dup = self._document_guard(md, plan.duplicate_year, numbered, duplicate_reason)
                    if dup is not None:
                        guards.append(dup)
                    ahead = self._in_flight_ahead(in_flight, guards, record_id, claims, year, series)
                    if ahead is None:
                        with self._withdrawn_if_refused(record_id):
                            self._write_in_flight(in_flight, guards, record_id, claims, settling=settling)
                base = Record(
                    record_id=record_id,
                    version=1,
                    kind=direction.value,
                    created_at=to_iso_utc(now),
                    actor=actor.user,
                    metadata=md,
                    files=files,
                    created_by=actor.user,
                    extra=_with_mismatch(extra or {}, gate, override_reason),
                )
                first: list[NewObject] = []
                committing = True  # from here a failure may come after the commit point
                if series is None:
                    settling.wait()
                    self.store.put_new(version_key(record_id, 1), self._seal_version(base))
                    record = base
                else:
                    # The entry is the commit point; the first version it carries and the audit
                    # events of the act depend on it, not on each other: one step after it.
                    claimed = self.audit.claim_slot_ahead
                    if ahead is not None:  # the marker and key land before the entry's data (m50)
                        claimed = ahead.then(claimed)
                    read_witness_ahead()
                    _, record, sealed_first = self._allocate(
                        base, year, series, now, after=settling, settling=settling, claimed=claimed,
                    )
                    if ahead is not None:
                        ahead.end()
                    first_key = version_key(record_id, 1)
                    first.append(NewObject(self.store, first_key, sealed_first, fresh=True, same_bytes=True))
            except BaseException:
                if ahead is not None:
                    ahead.end(failing=True)  # the step has ended; the act's error goes on
                if committing:
                    self._release_unless_committed(claims, record_id, 1, registered=series is not None)
                else:
                    for claim in claims:
                        self._release(claim, record_id)
                raise
            details: dict[str, Any] = {"kind": record.kind, "files": [f.sha256 for f in record.files]}
            details.update(_reasons(gate, record.extra, override_reason, duplicate_reason, md))
            return self._announce(
                actor,
                record,
                "record:create",
                details,
                alongside=first,
                after=settling,
                also=_mismatch_events(gate, override_reason),
            )

    def _gate(
        self,
        actor: Actor,
        extra: Mapping[str, Any],
        override_reason: str | None,
        record: Record,
        md: DocumentMetadata,
    ) -> GateDecision:
        """The signature gate on the verdict ingest recorded, then the signer gate (the signer
        named is who signed the văn bản đi); an override needs its right."""
        gate = signature_gate(
            extra.get("signature_verdict"),
            override_reason,
            str(extra.get("signature_return_reason") or ""),
            checkable=any(f.media_type == PDF_MEDIA_TYPE for f in record.files),
        )
        if not gate.allowed:
            raise SignatureRejected(gate.message, code=gate.code, record_id=record.record_id or None)
        named = _signer_decision(extra, md, override_reason)
        if not named.allowed:
            raise SignatureRejected(named.message, code=named.code, record_id=record.record_id or None)
        if named.override:
            gate = replace(gate, allowed=True, override=True, code=named.code)
        said = metadata_gate(md, self._pdf_identity(extra, record, md), override_reason)
        if not said.allowed:
            raise MetadataMismatch(
                said.message,
                code=said.code,
                record_id=record.record_id or None,
                mismatches=[m.to_dict() for m in said.mismatches],
            )
        if said.override:
            gate = replace(gate, allowed=True, override=True, mismatches=said.mismatches)
        if gate.override:
            self.authorize(actor, Action.RECORD_OVERRIDE, record)
        return gate

    def _pdf_identity(self, extra: Mapping[str, Any], record: Record, md: DocumentMetadata) -> PdfIdentity:
        """What the PDF of a văn bản đến says about its sender, from what ingest kept: the
        signatures' organisations in ``extra`` and ``metadata.json`` (one GET, only for a
        văn bản đến with a PDF; a re-sent document reads its first registration's). A record
        verified before a10 has no ``signature_agencies`` (a9 kept a flat list, which lost which
        certificate field a name came from): they are worked out from its stored
        ``signatures.json`` (one more GET, those records only), never taken from the list."""
        if md.direction is not Direction.DEN:
            return PdfIdentity()
        source = extra.get("registered_again_from") or record.record_id
        extracted: Mapping[str, Any] | None = {}
        if (
            isinstance(source, str)
            and source
            and (
                "registered_again_from" in extra or any(f.media_type == PDF_MEDIA_TYPE for f in record.files)
            )
        ):
            extracted = self._first_reading(source, EXTRACTED_METADATA)
            if extra.get("signature_verdict") and extra.get("signature_agencies") is None:
                agencies = self._signing_agencies(source)
                if agencies is None and may_name_a_sender(extra):
                    # r31: the report is gone or does not open (deleted, rewritten without the
                    # record's key): who sealed it is unknown, not "nobody" (a10 read it as
                    # nobody and took any typed sender).
                    return replace(PdfIdentity.read(extra, extracted), unreadable=SIGNATURES_UNREAD)
                extra = {**extra, "signature_agencies": agencies}
        return PdfIdentity.read(extra, extracted)

    def _signing_agencies(self, record_id: str) -> dict[str, Any] | None:
        """The agencies of a stored verification report, as ingest now keeps them in ``extra``
        (``ingest.pipeline.signing_agencies``: the one rule): for a record verified before a10,
        whose flat ``signature_organisations`` lost which certificate field a name came from."""
        from ingest.pipeline import SIGNATURES_DERIVED, signing_agencies
        from ingest.signatures import PdfVerification

        report = self._first_reading(record_id, SIGNATURES_DERIVED)
        if not report:
            return None
        try:
            return signing_agencies(PdfVerification.from_dict(dict(report)).signatures)
        except (KhoError, ValueError, KeyError, TypeError):
            return None

    def _first_reading(self, record_id: str, name: str) -> Mapping[str, Any] | None:
        """The derived object ``name`` of the registration that was read, or None when it was not
        written yet. A copy registered again from a copy has none of its own: its first
        registration's is read (a copy stored before r30 names the copy it was made from, one
        GET per hop)."""
        seen: set[str] = set()
        while record_id not in seen:
            seen.add(record_id)
            try:
                return formats.load_derived(self.get_derived(record_id, name), name)
            except NotFound:
                try:
                    earlier = self._load(record_id).extra.get("registered_again_from")
                except KhoError:
                    return None
                if not isinstance(earlier, str) or not earlier:
                    return None
                record_id = earlier
            except (KhoError, ValueError):
                return {}
        return None

    def check_registration(
        self, md: DocumentMetadata, *, register: bool = True, advisory_body: str | None = None
    ) -> None:
        """Refuse (:class:`ValidationFailed`) what the registration rules would refuse today,
        before anything is received or written (the plan is made again when it is written)."""
        self._plan(md, self.clock(), register, advisory_body)

    def _plan(
        self, md: DocumentMetadata, now: datetime, register: bool, advisory_body: str | None
    ) -> RegistrationPlan:
        return plan_registration(
            md,
            today=vn_date(now),
            agency_id=self.agency_id,
            agency_name=self.agency_name,
            register=register,
            advisory_body=advisory_body,
        )

    def _document_guard(
        self, md: DocumentMetadata, year: int, numbered: bool, duplicate_reason: str | None
    ) -> tuple[str, str] | None:
        """The (số, ký hiệu, cơ quan, năm) guard to take and the message of :class:`Duplicate`;
        none for a numbered document or one registered again with a reason."""
        dup = duplicate_key(md, year) if not numbered else None
        if dup is None or not blank(duplicate_reason):
            return None
        message = (
            f"Văn bản số {md.so_ky_hieu} của {md.organ_name} năm {year} đã được đăng ký (trùng số, ký"
            " hiệu, cơ quan ban hành và năm). Nếu đây là văn bản gửi lại, hãy ghi lý do để vào sổ"
            " lần nữa."
        )
        legacy = legacy_duplicate_key(md, year)
        if legacy is not None and legacy != dup:
            self._refuse_if_guarded(legacy, message)
        return dup, message

    def _refuse_if_guarded(self, key: str, message: str) -> None:
        """:class:`Duplicate` when ``key`` is a guard held by a committed record: a guard of the
        earlier formula (:func:`legacy_duplicate_key`), read, never taken (one GET, only for a
        text whose spelling the new key changes)."""
        try:
            holder = formats.loads(formats.CLAIM.name, self.store.get(key))
        except NotFound:
            return
        if self._exists(holder["record_id"]):
            raise Duplicate(message, existing_record_id=holder["record_id"])

    @contextmanager
    def _duplicates_told_to(self, actor: Actor) -> Iterator[None]:
        """A :class:`Duplicate` as ``actor`` may read it: the existing record's id only when the
        policy lets them see that record. A văn thư of another unit registering the same số, ký
        hiệu, cơ quan and năm was handed the id of a record they may not see (a Tối mật one
        included); they are told of the duplicate, which the number they typed already names,
        and nothing more (as the same bytes received by another unit are: ``ingest.receive``)."""
        try:
            yield
        except Duplicate as dup:
            existing = dup.details.get("existing_record_id")
            if not existing or actor.system:
                raise
            try:
                visible = self.may_see(actor, self._load(existing))
            except NotFound:
                # Still being written by a concurrent writer: nothing to decide on yet, and
                # nothing of it can be read; its id is told as before (the same file stored once).
                visible = True
            if visible:
                raise
            raise Duplicate(dup.message, code=dup.code) from None

    def _claim_document(
        self,
        md: DocumentMetadata,
        year: int,
        record_id: str,
        numbered: bool,
        duplicate_reason: str | None,
    ) -> str | None:
        """Take the (số, ký hiệu, cơ quan, năm) guard; :class:`Duplicate` names the existing
        record. With a reason the document is registered again, without the guard."""
        guard = self._document_guard(md, year, numbered, duplicate_reason)
        if guard is None:
            return None
        self._claim(guard[0], record_id, guard[1])
        return guard[0]

    def _default_unit(self, md: DocumentMetadata, actor: Actor) -> DocumentMetadata:
        """A văn thư of one unit (not the agency's own văn thư) registers for that unit unless
        the document names another."""
        if md.unit is not None or actor.system:
            return md
        units = actor.as_principal.units_with([Role.VAN_THU]) - {self.agency_id}
        if len(units) == 1 and not actor.as_principal.units_with([Role.VAN_THU]) & {self.agency_id}:
            return replace(md, unit=next(iter(units)))
        return md

    def _draft(self, kind: str, md: DocumentMetadata | FileMetadata) -> Record:
        return Record(record_id="", version=0, kind=kind, created_at="", actor="", metadata=md)

    def _register(self, base: Record, year: int, series: str, now: datetime) -> Record:
        """Allocate the number and commit ``base`` (a new version carrying it) in one step."""
        entry, record, sealed = self._allocate(base, year, series, now)
        return self._materialise(entry, record, sealed)

    def _allocate(
        self,
        base: Record,
        year: int,
        series: str,
        now: datetime,
        *,
        after: Settling | None = None,
        settling: Settling | None = None,
        claimed: Callable[[], None] | None = None,
    ) -> tuple[RegisterEntry, Record, bytes]:
        """Allocate the number and write its entry (the commit point): the entry, the version it
        carries (not yet written apart) and that version's sealed bytes (the entry carries them
        in base64: not decoded again). ``after``, ``settling``, ``claimed``: as
        :meth:`Registers.allocate`'s."""
        md = base.metadata
        assert isinstance(md, DocumentMetadata)
        made: dict[int, tuple[Record, bytes]] = {}
        registered_at = to_iso_utc(now)  # (once, however many numbers are tried)

        def make_entry(number: int) -> RegisterEntry:
            numbered_md = (
                replace(md, code_number=format_number(number)) if md.direction is Direction.DI else md
            )
            registration = Registration(
                organ_id=self.agency_id,
                year=year,
                series=series,
                number=number,
                registered_at=registered_at,
            )
            record = replace(base, metadata=numbered_md, registration=registration, state="active")
            sealed = self._seal_version(record)
            made[number] = (record, sealed)
            return RegisterEntry(
                self.agency_id,
                year,
                series,
                number,
                base.record_id,
                base64.b64encode(sealed).decode(),
                version=base.version,
            )

        entry = self.registers.allocate(
            self.agency_id, year, series, make_entry, after=after, settling=settling, claimed=claimed
        )
        record, sealed = made[entry.number]
        return entry, record, sealed

    def _materialise(
        self, entry: RegisterEntry, record: Record | None = None, sealed: bytes | None = None
    ) -> Record:
        """Write the version a register entry carries (idempotent; redone after a crash).
        ``record``, ``sealed``: that version and its sealed bytes when the caller made them
        (:meth:`_allocate`), else read from the entry.

        If another writer took that version number meanwhile, the registration is written as
        the next version on top of theirs, so neither write is lost.
        """
        if sealed is None:
            sealed = base64.b64decode(entry.sealed_version)
        if record is None:
            record = self._open_version(entry.record_id, entry.version, sealed)
        # A first version comes only from its entry (the writer, or a roll-forward after a
        # crash): every writer of it writes these same bytes, so it needs no guard.
        put = self.store.put_new if entry.version == 1 else self.store.put_if_absent
        try:
            put(version_key(entry.record_id, entry.version), sealed)
            return record
        except AlreadyExists:
            pass
        for _ in range(50):
            latest = self._load(entry.record_id)
            if latest.registration == record.registration:
                return latest
            merged = replace(
                latest,
                version=latest.version + 1,
                metadata=record.metadata,
                registration=record.registration,
                state=record.state,
            )
            try:
                self.store.put_if_absent(
                    version_key(entry.record_id, merged.version), self._seal_version(merged)
                )
                return merged
            except AlreadyExists:
                continue
        raise Conflict(f"Không ghi được số đăng ký cho “{entry.record_id}”.", record_id=entry.record_id)

    def _roll_forward(self, record_id: str) -> Record | None:
        """Materialise a committed version from its register entry (after a crash)."""
        entry = self._register_entry(record_id)
        if entry is None or self._versions(record_id):
            return None  # not registered, or materialised already: nothing to roll forward
        return self._materialise(entry)

    def _register_entry(self, record_id: str) -> RegisterEntry | None:
        """The entry of ``record_id`` in the register its catalog marker names (one GET; the
        register is read only when the marker names one, from the marker's ``from_number`` when
        it has one: a confirmation that failed between its marker and its entry no longer costs
        the next one a GET per entry of the whole register)."""
        try:
            raw = self.store.get(f"catalog/records/{record_id}")
        except NotFound:
            return None
        marker = formats.loads(formats.CATALOG_MARKER.name, raw)
        prefix = marker.get("register")
        if not prefix:
            return None
        lowest = marker.get("from_number")
        after = entry_key_in(prefix, lowest - 1) if type(lowest) is int and lowest > 1 else None
        for info in self.store.list(prefix, start_after=after):
            entry = RegisterEntry.from_json(self.store.get(info.key))
            if entry.record_id == record_id:
                return entry
        return None

    def _numbered_before(self, current: Record) -> Record | None:
        """Under the intake claim: the registration of intake record ``current`` that a
        confirmation killed after its register entry (the commit point of the number) and before
        its version left, materialised now; None when there is none. Confirmed again, the
        document took a second number (review a11): it keeps its first."""
        entry = self._register_entry(current.record_id)
        if entry is None or entry.version <= current.version:
            return None
        return self._materialise(entry)

    def _confirmed_before(self, actor: Actor, numbered: Record, typed: DocumentMetadata) -> Record:
        """Answer a confirmation of a document an earlier, interrupted confirmation numbered
        (``numbered``, rolled forward by :meth:`_numbered_before`): audited once, then the record
        when what ``actor`` typed is what it carries (the same form sent again) and they may see
        it; else :class:`Conflict` ``INTAKE_NUMBERED_BEFORE``, naming the number only to whom may
        see it. a11 answered every such confirmation with the earlier record: what the second
        văn thư typed was dropped under a 200, and a Thường văn thư was sent a Mật document's
        metadata (review r32)."""
        md, reg = numbered.metadata, numbered.registration
        assert isinstance(md, DocumentMetadata) and reg is not None
        rolled = {"fields": sorted(md.to_dict()), "from": "intake", "rolled_forward": True}
        self._announce(actor, numbered, "record:update", {**rolled, "confirmed_by": numbered.actor})
        if md.direction is Direction.DI:
            typed = replace(typed, code_number=md.code_number)  # its số is the register's
        seen = self.may_see(actor, numbered)
        if seen and typed == md:
            return numbered
        number = f" số {reg.number:02d} ({reg.series}, {reg.year})" if seen else ""
        raise Conflict(
            f"Văn bản này đã được vào sổ{number} ở một lần xác nhận trước bị gián đoạn, với thông tin"
            " của lần đó; thông tin vừa nhập chưa được ghi. Hãy tải lại để xem, rồi sửa nếu cần.",
            code="INTAKE_NUMBERED_BEFORE",
            record_id=numbered.record_id,
        )

    # -- intake: an arrived file before its metadata is known ---------------------------------
    def create_intake(
        self, direction: Direction | str, content: bytes, filename: str, actor: Actor
    ) -> Record:
        """Store an arrived original (ingest's first step): encrypted, SHA-256 addressed, in a
        record whose metadata is filled later by :meth:`complete_intake`.

        The same bytes twice raise :class:`Duplicate` with the existing record id.
        """
        direction = Direction(direction)
        self.authorize(actor, Action.RECORD_CREATE)
        info = check_original(content, filename, max_bytes=self.max_file_bytes)
        record_id = new_record_id()
        what = f"Tệp “{info.original_name}” đã có trong kho (trùng SHA-256)."
        if (holder := self._sha256_holder(info.sha256)) is not None:
            self._restore_creation_event(holder, actor)
            raise Duplicate(what, existing_record_id=holder["record_id"])
        # Marker, key and original in one step (none of them first), then the guard: the
        # original goes in before the guard, so the guard is held only until the commit.
        key = content_key(record_id, info.sha256)
        in_flight = [self._marker_object(record_id, direction.value, None), self.keys.new_object(record_id)]
        in_flight.append(
            NewObject(self.store, key, self.keys.seal(record_id, content, key), fresh=True, same_bytes=True)
        )
        stored = StoredFile.from_info(info)
        claim = f"claims/sha256/{info.sha256}"
        taken: list[str] = []
        try:
            with self._withdrawn_if_refused(record_id):
                self._write_in_flight(in_flight, [(claim, what)], record_id, taken)
        except Duplicate:
            if (holder := self._sha256_holder(info.sha256)) is not None:
                self._restore_creation_event(holder, actor)
            raise
        except BaseException:
            for held in taken:
                self._release(held, record_id)
            raise
        record = Record(
            record_id=record_id,
            version=1,
            kind=direction.value,
            created_at=to_iso_utc(self.clock()),
            actor=actor.user,
            metadata=None,
            files=(stored,),
            state="intake",
            created_by=actor.user,
        )
        self._commit_first(record, [claim])
        details = {"kind": record.kind, "state": "intake", "files": [stored.sha256]}
        return self._announce(actor, record, "record:create", details)

    def find_by_sha256(self, sha256: str) -> str | None:
        holder = self._sha256_holder(sha256)
        return None if holder is None else holder["record_id"]

    def _sha256_holder(self, sha256: str) -> dict[str, Any] | None:
        """The SHA-256 guard of a committed record (its writer named), None without one."""
        try:
            holder = formats.loads(formats.CLAIM.name, self.store.get(f"claims/sha256/{sha256}"))
        except NotFound:
            return None
        return holder if self._exists(holder["record_id"]) else None

    def _restore_creation_event(self, holder: Mapping[str, Any], actor: Actor) -> None:
        """A record committed by a writer killed before it wrote the creation event: the event
        is restored now (what ``kho fsck --repair`` does), so that a re-run of the import leaves
        the audit log complete. Only when the writer is provably dead; otherwise it is still on
        its way to writing the event itself (and fsck is the backstop)."""
        if not writer_gone(holder.get("pid"), holder.get("host"), here=this_host(), alive=process_alive):
            return
        restore_creation_event(
            self.store,
            self.audit,
            actor,
            holder["record_id"],
            "committed before the writer was killed; event restored on re-run",
            now=utcnow(),
        )

    def complete_intake(
        self,
        record_id: str,
        metadata: Mapping[str, Any],
        *,
        expected_version: int,
        actor: Actor,
        register: bool = True,
        advisory_body: str | None = None,
        override_reason: str | None = None,
        duplicate_reason: str | None = None,
    ) -> Record:
        """Give an intake record its metadata and (by default) its number in the register.

        The signature verdict ingest recorded is checked by :func:`signature_gate`: a FAILED
        document needs ``override_reason`` (and the right to override), audited with it."""
        current = self._load(record_id)
        self.authorize(actor, Action.RECORD_UPDATE, current)
        if current.state != "intake":
            raise Conflict(f"“{record_id}” đã được vào sổ hoặc hoàn tất.", record_id=record_id)
        if current.extra.get("returned"):
            raise Conflict(
                "Văn bản này đã được trả lại cho nơi gửi, không vào sổ được.",
                code="RECORD_RETURNED",
                record_id=record_id,
            )
        _require_version(current, expected_version, f"“{record_id}”")
        _check_reasons(override_reason, duplicate_reason)
        direction = Direction(current.kind)
        numbered = register and direction is Direction.DI
        md = parse_document(
            metadata, direction, known_organ=self.is_known_organ, numbered_by_register=numbered
        )
        md = self._default_unit(md, actor)
        self._authorize_new(actor, Action.RECORD_UPDATE, replace(current, metadata=md))
        gate = self._gate(actor, current.extra, override_reason, current, md)
        now = self.clock()
        plan = self._plan(md, now, register, advisory_body)
        md, reg_date = plan.metadata, plan.registration_date
        with self._completing(current):  # one văn thư at a time: one number per document
            if (before := self._numbered_before(current)) is not None:
                return self._confirmed_before(actor, before, md)
            with self._duplicates_told_to(actor):
                dup = self._claim_document(md, plan.duplicate_year, record_id, numbered, duplicate_reason)
            base = replace(
                current,
                version=current.version + 1,
                created_at=to_iso_utc(now),
                actor=actor.user,
                metadata=md,
                state="active",
                extra=_with_mismatch(current.extra, gate, override_reason),
            )
            try:
                if plan.series is not None:
                    series = plan.series
                    prefix = register_prefix(self.agency_id, reg_date.year, series)
                    # The marker names the register and, from this process's allocations (no
                    # store call), a number its entry cannot be below: the next confirmation's
                    # roll-forward reads the entries from there, not the whole register (m9).
                    marker = _marker_body(direction.value, prefix, self.registers.lowest_next(prefix))
                    self.store.put(f"catalog/records/{record_id}", marker)
                    record = self._register(base, reg_date.year, series, now)
                else:
                    self.store.put_if_absent(version_key(record_id, base.version), self._seal_version(base))
                    record = base
            except AlreadyExists as exc:
                self._release(dup, record_id)
                raise Conflict(f"“{record_id}” vừa được người khác cập nhật.", record_id=record_id) from exc
            except BaseException:
                self._release_unless_committed(
                    [dup], record_id, base.version, registered=plan.series is not None
                )
                raise
        details: dict[str, Any] = {"fields": sorted(md.to_dict()), "from": "intake"}
        details.update(_reasons(gate, current.extra, override_reason, duplicate_reason, md))
        also = _mismatch_events(gate, override_reason)
        return self._announce(actor, record, "record:update", details, also=also)

    @contextmanager
    def _completing(self, current: Record) -> Iterator[None]:
        """Held while the intake record ``current`` is completed: ``claims/intake/<id>``, taken
        (create-if-absent, :meth:`_claim`: one a crashed writer left is taken over) for a fresh
        token, then the record's newest version checked to still be ``current``'s, given back
        once its next version is written or the completion failed. Two văn thư confirming the
        same document at once (two tabs, two people) each passed the state check and took a
        number: one document, two số đến (or số đi), both in the register (review a6). Now the
        second is refused (:class:`Conflict`) before it takes a number or a guard."""
        key = f"claims/intake/{current.record_id}"
        token = new_record_id()
        message = (
            f"“{current.record_id}” đang được người khác vào sổ hoặc vừa được vào sổ: hãy tải lại để"
            " xem số đã cấp."
        )
        try:
            self._claim(key, token, message)
        except (Duplicate, Conflict) as exc:  # held by a live writer, or still on its way
            raise Conflict(message, record_id=current.record_id) from exc
        try:
            if self._versions(current.record_id)[-1:] != [current.version]:
                raise Conflict(message, record_id=current.record_id)
            yield
        finally:
            self._release(key, token)

    # -- reading ---------------------------------------------------------------------------
    def opened(self, record_id: str, *, actor: Actor) -> tuple[Record, RecordFacts, list[Record], list[int]]:
        """:meth:`get` of the latest version for a page that asks several questions of one
        record (the record page): the record, the policy's facts of it, the hồ sơ holding
        it (:meth:`holders_of`, readable ones) and the version numbers listed to find it, each
        read once. The view is decided and audited as :meth:`get` does; the page passes
        ``record``, ``facts`` and the versions down to :meth:`history`, :meth:`audit_events` and
        its own questions, which decide on them (u22: the record page loaded the record 3 times
        and listed its hồ sơ links 5 times; s27: it listed the versions twice)."""
        infos = self._listed_infos(record_id)
        versions = [_version_of(info) for info in infos]
        latest = self._load_listed(record_id, infos[-1])
        holders = self.holders_of(latest, readable_only=True)
        facts = self.facts(latest, holders=holders)
        self.authorize(actor, Action.RECORD_VIEW, latest, facts=facts)
        if not actor.system:
            self._event(actor, "record:view", latest, {})
        return latest, facts, holders, versions

    def get(self, record_id: str, version: int | None = None, *, actor: Actor) -> Record:
        """A version of a record (the latest by default), if the policy lets ``actor`` see it.
        Audited as ``record:view`` (Kho's own processes are not). Whole, for the acts that
        work on it: what is *shown* of it to a person is :meth:`as_seen_by`."""
        latest = self._load(record_id)
        self.authorize(actor, Action.RECORD_VIEW, latest)
        record = latest if version is None or version == latest.version else self._load(record_id, version)
        if not actor.system:
            self._event(actor, "record:view", record, {})
        return record

    def as_seen_by(self, record: Record, actor: Actor, seen: dict[str, bool] | None = None) -> Record:
        """``record`` as it is shown to ``actor`` (API, pages, CLI): a hồ sơ lists only the
        documents they may see (:func:`repository.policy.sees`). A Thường reader of a hồ sơ
        holding a Mật document got its id, and a count including it. Acts on the hồ sơ
        (closing report, nộp lưu, transfer packages) keep working on the whole record: a
        document they may not see refuses them as before, rather than being left out unsaid.
        ``seen``: documents already decided (the versions of one history)."""
        if actor.system or record.kind != KIND_FILE:
            return record
        # The findings of its closing (kept in ``extra``, and kept after a reopening, when the
        # document may since have been taken out) name documents too, by id and số, ký hiệu.
        flags = record.extra.get("closing_flags")
        flags = flags if isinstance(flags, list) else None
        named = [f.get("record_id") for f in flags or () if isinstance(f, dict)]
        seen = {} if seen is None else seen
        for document_id in (*record.documents, *(n for n in named if isinstance(n, str))):
            if document_id not in seen:
                seen[document_id] = self.may_see_listed(actor, document_id)
        shown = tuple(d for d in record.documents if seen[d])
        extra = record.extra
        hidden = not all(seen[d] for d in (*record.documents, *(n for n in named if isinstance(n, str))))
        if hidden and FILE_TOTALS & extra.keys():
            # Written at closing over every document: "2 văn bản" beside the one shown told a
            # Thường reader that a document they may not see is in the hồ sơ.
            extra = {k: v for k, v in extra.items() if k not in FILE_TOTALS}
        if flags is not None:
            kept = [
                f
                for f in flags
                if isinstance(f, dict) and (f.get("record_id") is None or seen.get(f["record_id"], False))
            ]
            if kept != flags:
                extra = {**extra, "closing_flags": kept}
        if shown == record.documents and extra is record.extra:
            return record
        return replace(record, documents=shown, extra=extra)

    def shown_to(self, record: Record, actor: Actor) -> Record:
        """``record`` as the answer to an act ``actor`` did on it (an edit, a grant, a document
        added to or taken out of a hồ sơ), for the API and the CLI: :meth:`as_seen_by` when they
        may see it; otherwise only what they acted on: its kind, state and grants. The acts
        answered the whole record, so a Thường chuyên viên who edited a hồ sơ got the ids of its
        Mật documents, and a quản trị, who grants without reading, got the trích yếu, the file
        names and the documents of a record they may not open. Nor who else acted on it or made
        it (``actor`` is kept only when it is they who wrote this version, ``created_by`` never),
        nor who else may see it: its grants only to who may grant on it (a quản trị, whose
        grant list this is: :meth:`grants_of`)."""
        if not self.may_see(actor, record):
            facts = self.facts(record)
            grants = decide(actor.as_principal, Action.RECORD_GRANT, facts).allowed
            return replace(
                record,
                metadata=None,
                files=(),
                registration=None,
                documents=(),
                note=None,
                extra={},
                actor=record.actor if record.actor == actor.user else "",
                created_by="",
                grant_users=record.grant_users if grants else (),
                grant_units=record.grant_units if grants else (),
            )
        return self.as_seen_by(record, actor)

    def _listed_versions(self, record_id: str) -> list[int]:
        """The record's version numbers as listed now (``[1]`` for a record rolled forward
        from its write-ahead: :meth:`_roll_forward`); :class:`NotFound` when it has none."""
        return [_version_of(info) for info in self._listed_infos(record_id)]

    def _listed_infos(self, record_id: str) -> list[ObjectInfo]:
        """:meth:`_listed_versions` as the listing's objects (s28: the newest is then read with
        :meth:`_load_listed`). A record rolled forward from its write-ahead: its version 1 as
        written now, without an ETag (read with a GET)."""
        infos = self._version_infos(record_id)
        if not infos:
            rolled = self._roll_forward(record_id)
            if rolled is None:
                raise NotFound(unknown_record_message(record_id), record_id=record_id)
            infos = [ObjectInfo(key=version_key(record_id, 1), size=0)]
        return infos

    def _load(self, record_id: str, version: int | None = None) -> Record:
        """A version of a record (the newest listed now by default), opened and checked.

        The newest is read from its listing with :meth:`_load_listed`: a read costs one GET
        less when this process read the same object before (same ETag). Earlier versions asked
        by number are read with a GET (no listing was made for them)."""
        _check_record_id(record_id)
        if version is None:
            return self._load_listed(record_id, self._listed_infos(record_id)[-1])
        return self._load_from(record_id, version, lambda: self.store.get(version_key(record_id, version)))

    def _load_listed(self, record_id: str, info: ObjectInfo) -> Record:
        """The version of ``record_id`` that this request's listing gave (``info``), read with
        :meth:`ObjectStore.get_listed`: on S3 no GET when the listing's ETag is the MD5 of bytes
        this process read of the key before (s26's rule for accounts, units and notifications,
        issue 14 / s28). A version rewritten behind the process (tampered, same size or not,
        rolled back to other bytes), another process's new version (another key) or a deleted
        one (gone from the listing, or :class:`NotFound` on the GET) is seen at this read as with
        a GET: the bytes kept are exactly the bytes the listing names. Destruction (the key
        shredded) is decided by :meth:`KeyRing.open`, not by these bytes."""
        version = _version_of(info)
        if info.key != version_key(record_id, version):  # not the key it names: as before, a GET
            return self._load(record_id, version)
        return self._load_from(record_id, version, lambda: self.store.get_listed(info))

    def _load_from(self, record_id: str, version: int, read: Callable[[], bytes]) -> Record:
        try:
            sealed = read()
        except NotFound:
            if version == 1 and (rolled := self._roll_forward(record_id)) is not None:
                return rolled
            raise NotFound(
                f"Không tìm thấy phiên bản {version} của “{record_id}”.",
                record_id=record_id,
                version=version,
            ) from None
        try:
            return self._open_version(record_id, version, sealed)
        except KeyDestroyed:
            tombstone = self.destroyed(record_id)
            if tombstone is None:
                raise
            return tombstone

    def _current_anchor(self) -> Anchor | None:
        return self.anchor
    def _sealed_since(self) -> int | None:
        """From which event on the audit log is sealed, as the newest signed checkpoints say
        (:func:`repository.anchor.signed_sealed_since`; the log asks once per process)."""
        from repository.anchor import signed_sealed_since

        return signed_sealed_since(self.store, self.anchor, self.audit.sealer)

    def _register_floor(self, prefix: str) -> int:
        """The newest number of a register that any checkpoint vouches for (the store's and,
        when configured, the copies outside it, signatures checked): never handed out again."""
        from repository.anchor import latest_register_heads

        try:
            return latest_register_heads(self.store, self.anchor).get(prefix, 0)
        except KhoError:
            return self.registers._checkpointed(prefix)  # key unreadable: the store's newest

    def destruction_times(self) -> dict[str, str]:
        """When each destroyed record was destroyed (record id → UTC instant)."""
        times: dict[str, str] = {}
        for info in self.store.list(DESTROYED_PREFIX):
            row = formats.loads(formats.DESTROYED.name, self.store.get(info.key))
            times[row["record_id"]] = row["destroyed_at"]
        return times

    def destroyed(self, record_id: str) -> Record | None:
        """The "đã hủy" row of a destroyed record as a record (state ``destroyed``), or None."""
        try:
            row = formats.loads(formats.DESTROYED.name, self.store.get(destroyed_key(record_id)))
        except NotFound:
            return None
        return Record.from_dict(row["record"])

    def destroy(
        self,
        record_id: str,
        *,
        decision: str,
        actor: Actor,
        only_in: Collection[str] | None = None,
        outside_archive: str | None = None,
    ) -> Record:
        """Destroy a record (crypto-shredding): write its "đã hủy" row, then destroy its key, so
        no copy of its content, backups included, can be read again. Audited. The retention
        workflow (approval, the decision itself) is :mod:`retention`'s; this is the last step.

        ``only_in``: the hồ sơ destroyed with a document; one that sits in any other hồ sơ is
        kept (:class:`Conflict` ``DOCUMENT_IN_ANOTHER_FILE``, nothing done), checked under the
        destruction's claim (:meth:`_claim_destruction`), so a hồ sơ it is being added to either
        keeps it or is refused.

        ``outside_archive``: what the destruction is (“hủy theo lệnh thu hồi”) when it must not
        touch a document the archive holds (a recall's, not the archive's own destruction):
        refused (:class:`Conflict`) if a hồ sơ of it is submitted or archived, or being handed
        over, checked under the claim (:meth:`_refuse_if_handed_over`)."""
        self.authorize_for_agency(actor, Action.OPERATE)
        if blank(decision):
            raise KhoError("Cần ghi số, ngày của quyết định hủy tài liệu.", code="DECISION_REQUIRED")
        record = self._load(record_id)
        try:
            row: bytes | None = self.store.get(destroyed_key(record_id))  # a retried destruction
        except NotFound:
            row = None
        claimed = record.state != "destroyed" and row is None
        if claimed:
            claimed = self._claim_destruction(record, only_in, decision.strip(), outside_archive)
            row = formats.dumps(
                formats.DESTROYED.name,
                destroyed_row(record, by=actor.user, at=to_iso_utc(self.clock()), decision=decision.strip()),
                ensure_ascii=False,
                sort_keys=True,
            )
        ledgers: dict[str, str] = {}
        try:
            if self.ledger is not None and row is not None:
                # Outside the store, before anything changes in it: no older backup can bring the
                # record back. No ledger written, nothing done (LedgerUnavailable).
                ledgers = self.ledger.record(row, now=self.clock())
            if row is not None:
                try:
                    self.store.put_if_absent(destroyed_key(record_id), row)
                except AlreadyExists:
                    pass  # destroyed already (a retried destruction): finish shredding
        except BaseException:
            if claimed:  # nothing done: a hold may be placed again
                self.store.delete(destroying_key(record_id))
            raise
        self.keys.destroy(record_id)
        for info in list(self.store.list(f"records/{record_id}/derived/")):
            self.store.delete(info.key)  # text/OCR of the original is its content: gone with it
        self.store.delete(destroying_key(record_id))  # the key is gone: the row refuses holds now
        self.audit.append(
            actor.user,
            "record:destroy",
            record_id=record_id,
            source=actor.source,
            details={"decision": decision.strip(), **({"ledgers": ledgers} if ledgers else {})},
        )
        tombstone = self.destroyed(record_id)
        assert tombstone is not None
        self._emit(tombstone)
        return tombstone

    def _claim_destruction(
        self,
        record: Record,
        only_in: Collection[str] | None,
        decision: str,
        outside_archive: str | None = None,
    ) -> bool:
        """Take :func:`destroying_key` (kept by an interrupted destruction, resumed), then check
        the holds (:meth:`refuse_if_held`) and, for ``only_in``, the hồ sơ the document sits in;
        a refusal withdraws the claim if it is this destruction's (made here, or left by a dead
        writer: the returned flag), never a running one's. A hold placed, or a hồ sơ given the
        document, after the claim sees it and is refused (:meth:`_refuse_if_destroyed`)."""
        key = destroying_key(record.record_id)
        try:
            self.store.put_if_absent(key, claim_body(record.record_id, self.clock(), decision=decision))
            mine = True
        except AlreadyExists:  # an interrupted destruction's (ours now), or a running one's
            mine = self._destroyer_gone(record.record_id) and self._resume_claim(record.record_id, decision)
        try:
            self.refuse_if_held(record, "destroy")
            others = sorted(set(self.files_of(record.record_id)) - set(only_in or ()))
            if only_in is not None and others:
                raise Conflict(
                    "Văn bản còn thuộc hồ sơ khác không có trong quyết định hủy: được giữ lại.",
                    code="DOCUMENT_IN_ANOTHER_FILE",
                    record_id=record.record_id,
                    file_ids=others,
                )
            if outside_archive is not None:
                self._refuse_if_handed_over(record, outside_archive)
        except BaseException:
            if mine:  # a running destruction's claim is not withdrawn by this refusal (review r28)
                self.store.delete(key)
            raise
        return mine

    def _resume_claim(self, record_id: str, decision: str) -> bool:
        """Take over a dead writer's destruction claim in this process's name (False: another
        resumer took it first, or it went). Kept naming the dead writer, a resumed destruction
        looked abandoned while it ran: ``kho fsck --repair`` deleted its claim and a hold placed
        meanwhile was accepted, the document then destroyed (r29)."""
        key = destroying_key(record_id)
        try:
            seen = self.store.get(key)
        except NotFound:
            return False
        mine = claim_body(record_id, self.clock(), decision=decision)
        return take_over_guard(self.store, key, seen, mine, now=self.clock(), replace=True)

    def history_as_seen(self, record_id: str, *, actor: Actor) -> list[Record]:
        """:meth:`history` as shown to ``actor`` (:meth:`as_seen_by`, each version)."""
        seen: dict[str, bool] = {}
        return [self.as_seen_by(v, actor, seen) for v in self.history(record_id, actor=actor)]

    def history(
        self,
        record_id: str,
        *,
        actor: Actor,
        latest: Record | None = None,
        facts: RecordFacts | None = None,
        listed: Sequence[int] | None = None,
    ) -> list[Record]:
        """Every version of a record, oldest first (audited as ``record:history``).
        ``latest``, ``facts``, ``listed``: the record's latest version, its :meth:`facts` and
        the version numbers listed to find it, as the caller read them in this request
        (:meth:`opened`): the versions are not listed again when ``latest`` is the newest of
        ``listed`` (one request's view of the record is one listing)."""
        if listed and latest is not None and latest.record_id == record_id and latest.version == listed[-1]:
            versions = list(listed)
        else:
            versions = self._versions(record_id) or ([1] if self._roll_forward(record_id) else [])
        if not versions:
            raise NotFound(unknown_record_message(record_id), record_id=record_id)
        out = [self._load(record_id, v) for v in versions[:-1]]
        given = latest is not None and latest.record_id == record_id and latest.version == versions[-1]
        out.append(latest if latest is not None and given else self._load(record_id, versions[-1]))
        # Versions carry the metadata: seeing them is seeing the record. Kiểm toán viên read a
        # record's history as audit events (audit_events), not its content.
        self.authorize(actor, Action.RECORD_VIEW, out[-1], facts=facts if given else None)
        if not actor.system:
            self._event(actor, "record:history", out[-1], {"versions": len(out)})
        return out

    def read_content(
        self,
        record_id: str,
        sha256: str | None = None,
        *,
        actor: Actor,
        action: str = "content:read",
        loaded: Record | None = None,
        facts: RecordFacts | None = None,
    ) -> tuple[StoredFile, bytes]:
        """The original, checked against its recorded SHA-256. Audited (read or download). A
        ``HEAD`` stops here, described as :meth:`describe_original` (:mod:`kho.head`).
        ``loaded``, ``facts``: the record's latest version and its :meth:`facts` as the caller
        read them in this request (:meth:`opened`): decided on, not read again."""
        if is_head():
            described = self.describe_original(record_id, sha256, actor=actor)
            length = {"Content-Length": str(described.size), "X-Content-SHA256": described.sha256}
            stop_if_head(length, described)
        record, stored = self._original(record_id, sha256, actor, loaded, facts)
        key = content_key(record_id, stored.sha256)
        data = self.keys.open(record_id, self.store.get(key), key)
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            raise IntegrityError(
                f"Tệp gốc “{stored.original_name}” không khớp mã băm SHA-256 đã ghi nhận: tệp đã bị"
                " thay đổi.",
                record_id=record_id,
                sha256=stored.sha256,
            )
        self._event(actor, action, record, {"sha256": stored.sha256})
        return stored, data

    def _original(
        self,
        record_id: str,
        sha256: str | None,
        actor: Actor,
        loaded: Record | None = None,
        facts: RecordFacts | None = None,
    ) -> tuple[Record, StoredFile]:
        """The record and the description of its original (the first, or the one of ``sha256``),
        if ``actor`` may read the original (:attr:`Action.RECORD_READ`); ``loaded``, ``facts``:
        see :meth:`read_content`."""
        given = loaded is not None and loaded.record_id == record_id
        record = loaded if loaded is not None and given else self._load(record_id)
        self.authorize(actor, Action.RECORD_READ, record, facts=facts if given else None)
        if not record.files:
            raise NotFound("Văn bản này không có tệp đính kèm.", record_id=record_id)
        stored = (
            record.files[0] if sha256 is None else next((f for f in record.files if f.sha256 == sha256), None)
        )
        if stored is None:
            raise NotFound("Không tìm thấy tệp trong văn bản.", record_id=record_id, sha256=sha256)
        return record, stored

    def describe_original(self, record_id: str, sha256: str | None = None, *, actor: Actor) -> StoredFile:
        """What a download of the original would send, without reading it: its name, type, size
        and SHA-256 (a ``HEAD`` on a download). Decided as a download is (the same answer to who
        may not read it), audited as ``record:view``: the person learnt the description of the
        original, not its content. A ``HEAD`` ran the download itself: it was recorded as a
        ``content:download`` the person never received, and it decrypted the original for
        nothing."""
        record, stored = self._original(record_id, sha256, actor)
        if not actor.system:
            self._event(actor, "record:view", record, {"original": stored.sha256, "method": "HEAD"})
        return stored

    def record_ids(self) -> Iterator[str]:
        for info in self.store.list("catalog/records/"):
            yield info.key.rsplit("/", 1)[1]

    def destroyed_ids(self) -> set[str]:
        """Records whose key was destroyed (each keeps its "đã hủy" row)."""
        return {info.key.rsplit("/", 1)[1] for info in self.store.list(DESTROYED_PREFIX)}

    def records(self) -> Iterator[Record]:
        """Every committed record (latest versions), oldest first."""
        for record_id in self.record_ids():
            try:
                yield self._load(record_id)
            except NotFound:
                continue  # never committed (crash before the commit); fsck removes it

    def reclaim_duplicate_guards(self, actor: Actor) -> GuardMigration:
        """Migration of the (số, ký hiệu, cơ quan, năm) guards to :func:`duplicate_key` (a8):
        every registered văn bản đến takes the guard of the current key if it is absent. A
        document registered before a8 with a sender spelt "Hoà" or with a zero-width space held
        only the guard of the earlier formula, so the same document typed "Hòa" was not caught.
        Idempotent (``put_if_absent``), nothing rewritten or removed; the operator's (system)
        act only, audited as one ``migration:duplicate-guards`` event."""
        if not actor.system:
            raise PermissionDenied("Chỉ người vận hành (tài khoản hệ thống) chạy được việc chuyển đổi này.")
        checked = taken = 0
        shared: list[tuple[str, str]] = []
        # First the guards an S3 store keeps in the layout before m43 (its data bucket): moved
        # into their claims, where every create reads them with no further request (rv53).
        moved, kept = self.store.move_earlier_guards()
        for record_id in self.record_ids():
            try:
                record = self._load(record_id)
            except (NotFound, KeyDestroyed):
                continue
            md = record.metadata
            if not isinstance(md, DocumentMetadata) or md.direction is not Direction.DEN:
                continue
            day = md.issued_date or md.arrival_date
            key = duplicate_key(md, day.year) if record.registration is not None and day else None
            if key is None:
                continue
            checked += 1
            try:
                self.store.put_if_absent(key, claim_body(record_id, utcnow()))
                taken += 1
            except AlreadyExists:
                try:
                    holder = formats.loads(formats.CLAIM.name, self.store.get_after_conflict(key))
                except NotFound:  # a registration of the same document is being written now
                    continue
                if holder["record_id"] != record_id:
                    shared.append((record_id, holder["record_id"]))
        result = GuardMigration(checked, taken, tuple(shared), moved, tuple(kept))
        details: dict[str, Any] = {"checked": checked, "taken": taken, "shared": [list(p) for p in shared]}
        if moved or kept:
            details.update(moved=moved, kept=list(kept))
        self.audit.append(actor.user, "migration:duplicate-guards", source=actor.source, details=details)
        return result

    # -- changing --------------------------------------------------------------------------
    def _write_version(
        self, current: Record, new: Record, actor: Actor, action: str, details: dict[str, Any]
    ) -> Record:
        # On S3 the act's witness read starts as the version's create does, and once the
        # version's claim is won the act's event number is claimed beside its data PUT (issue
        # 14, m52, as a registration does: m31, m36); every check of them is still made
        # before the event is written (``AuditLog.reading_ahead``, ``claim_slot_ahead``).
        key = version_key(new.record_id, new.version)
        sealed = self._seal_version(new)
        ahead = self.store.taken_before_written()
        with self.audit.reading_ahead() as read_witness_ahead:
            read_witness_ahead()
            if ahead:
                self.store.when_claimed(key, self.audit.claim_slot_ahead)
            try:
                self.store.put_if_absent(key, sealed)
            except AlreadyExists as exc:
                raise Conflict(
                    f"Văn bản/hồ sơ “{new.record_id}” vừa được người khác cập nhật (phiên bản"
                    f" {new.version} đã tồn tại). Hãy tải lại và sửa lại.",
                    record_id=new.record_id,
                    version=new.version,
                ) from exc
            finally:
                if ahead:
                    self.store.when_claimed(key, None)
            self._event(actor, action, new, self._with_unit(new, details))
        self._emit(new)
        return new

    def _with_unit(self, record: Record, details: dict[str, Any]) -> dict[str, Any]:
        """The details of the event that writes ``record`` (a version), with its unit
        (:data:`RECORD_UNIT`)."""
        return {**details, RECORD_UNIT: record.unit or self.agency_id}

    def update_metadata(
        self,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        actor: Actor,
        note: str | None = None,
    ) -> Record:
        """Correct metadata: a new version; earlier versions stay readable.

        ``expected_version`` is the version the person edited; if another update got there
        first, :class:`Conflict` is raised and nothing is written.
        """
        current = self._load(record_id)
        editing = Action.FILE_EDIT if current.kind == KIND_FILE else Action.RECORD_UPDATE
        # A change of the độ mật may be a declassification, the unit's lãnh đạo's (who is not
        # its văn thư): sight of the record here, the editor's role or the lãnh đạo's decision
        # once the new level is known (_authorize_correction), before anything is written.
        if "secrecy" not in changes or current.kind == KIND_FILE:
            self.authorize(actor, editing, current)
        elif not actor.system:  # refused as the correction it is (the audit's action)
            sight = decide(actor.as_principal, Action.RECORD_VIEW, self.facts(current))
            self._enforce(actor, editing, current, sight)
        self.refuse_if_held(current, editing)
        if current.metadata is None:
            raise Conflict(
                "Văn bản đang chờ vào sổ: hãy hoàn tất tiếp nhận (xác nhận dữ liệu đặc tả và vào sổ)"
                " trước khi sửa.",
                code="RECORD_NOT_REGISTERED",
                record_id=record_id,
                state=current.state,
            )
        _require_version(current, expected_version, f"Văn bản/hồ sơ “{record_id}”", editing=True)
        if current.kind == KIND_FILE and current.state in ARCHIVE_STATES:
            raise Conflict(
                "Hồ sơ đã nộp lưu: dữ liệu của hồ sơ do lưu trữ quản lý, không sửa được.",
                code="FILE_STATE_INVALID",
                record_id=record_id,
                state=current.state,
            )
        if current.kind != KIND_FILE:
            self.refuse_if_in_archive(current, "sửa dữ liệu đặc tả")
        if current.kind == KIND_FILE and current.state != "active":
            # Its end date and thời hạn bảo quản decide when it may be destroyed or transferred:
            # changed only through a reopening (with its reason, audited), then a new closing.
            raise Conflict(
                "Hồ sơ đã kết thúc: muốn sửa dữ liệu của hồ sơ phải mở lại hồ sơ.",
                code="FILE_CLOSED",
                record_id=record_id,
                state=current.state,
            )
        # The căn cứ is stored (version note, audit) as every typed text is: NFC, trimmed, and
        # none when it shows nothing, whichever door gave it (the page trimmed it, the API did not).
        note = _note(note)
        stored = current.metadata.to_dict()
        merged = {**stored, **changes}
        if current.kind == KIND_FILE:
            if "start_date" in changes and "file_catalog" not in changes:
                merged.pop("file_catalog", None)
            md: DocumentMetadata | FileMetadata = parse_file(
                merged, default_organ_id=self.agency_id, known_organ=self.is_known_organ, stored=stored
            )
        else:
            merged.pop("direction", None)
            md = parse_document(
                merged,
                current.kind,
                known_organ=self.is_known_organ,
                numbered_by_register=False,
                stored=stored,
            )
            assert isinstance(current.metadata, DocumentMetadata)
            frozen = frozen_field_errors(current.metadata, md, registered=current.registration is not None)
            if frozen:
                raise ValidationFailed(frozen)
            if current.registration is not None and md.signer_full_name != current.metadata.signer_full_name:
                # The Người ký of a numbered văn bản đi stays one who signed it (no override on a
                # correction: the reason belongs to the registration).
                named = _signer_decision(current.extra, md, None)
                if not named.allowed:
                    raise SignatureRejected(named.message, code=named.code, record_id=record_id)
        changed = sorted(k for k in changes if merged.get(k) != current.metadata.to_dict().get(k))
        self._authorize_correction(
            actor, editing, current, replace(current, metadata=md), fields=changed, reason=note
        )
        details: dict[str, Any] = {"fields": changed}
        new = self._next_version(current, actor, metadata=md, note=note)
        if new.secrecy < current.secrecy:  # hạ độ mật, giải mật: the decision and its căn cứ
            details["secrecy"] = {"from": current.secrecy, "to": new.secrecy, "reason": note}
        with self._duplicates_told_to(actor):
            moved = self._guard_move(current, md)
        if moved is None:
            return self._write_version(current, new, actor, "record:update", details)
        old_keys, new_key, what = moved
        try:
            with self._duplicates_told_to(actor):
                self._claim(new_key, record_id, what)
            written = self._write_version(current, new, actor, "record:update", details)
        except BaseException:
            # An interruption (Celery's soft time limit) may land after the corrected version
            # was committed: then the new guard is the record's and the old ones are free, as
            # on success (review rv13: the new one was given back, the old ones kept).
            if not self._wrote_version(record_id, new):
                self._release(new_key, record_id)
                raise
            for old_key in old_keys:
                self._release(old_key, record_id)
            raise
        for old_key in old_keys:
            self._release(old_key, record_id)
        return written

    def _wrote_version(self, record_id: str, new: Record) -> bool:
        """Whether version ``new.version`` of ``record_id`` is there with ``new``'s metadata
        (a read after a failed write; a read that fails: False, nothing claimed of it)."""
        try:
            stored = self._load(record_id, new.version)
        except Exception:
            return False
        return stored.metadata == new.metadata

    def _guard_move(
        self, current: Record, md: DocumentMetadata | FileMetadata
    ) -> tuple[tuple[str, ...], str, str] | None:
        """The guard a correction must take, when it changes what the guard keys (a ký hiệu or
        sender corrected into those of a document already registered; a hồ sơ's số và ký hiệu
        corrected into another hồ sơ's mã): (the guards it may hold now, the one to take, the
        message of :class:`Duplicate`). A correction went around both rules: the guard is taken
        at registration and at a hồ sơ's creation only. A document registered before a8 holds
        the guard of the earlier formula (:func:`legacy_duplicate_key`): given back too, or the
        corrected-away ký hiệu stays refused as a duplicate of this record."""
        before = current.metadata
        if isinstance(md, FileMetadata) and isinstance(before, FileMetadata):
            if md.file_code == before.file_code:
                return None
            return (
                ("claims/filecode/" + _digest(before.file_code),),
                "claims/filecode/" + _digest(md.file_code),
                f"Mã hồ sơ {md.file_code} đã tồn tại.",
            )
        if not isinstance(md, DocumentMetadata) or not isinstance(before, DocumentMetadata):
            return None
        if md.direction is Direction.DI and current.registration is not None:
            return None  # numbered by the register: no guard
        day = before.issued_date or before.arrival_date
        if day is None:
            return None
        old_key, new_key = duplicate_key(before, day.year), duplicate_key(md, day.year)
        if new_key is None or new_key == old_key:
            return None
        guard = self._document_guard(md, day.year, False, None)
        assert guard is not None
        legacy = legacy_duplicate_key(before, day.year)
        held = tuple(dict.fromkeys(k for k in (old_key, legacy) if k is not None))
        return held, new_key, guard[1]

    def set_extra(
        self,
        record_id: str,
        values: Mapping[str, Any],
        *,
        actor: Actor,
        action: str,
        details: Mapping[str, Any] | None = None,
        known: Record | None = None,
    ) -> Record:
        """A new version with extra (non-Phụ-lục-VI) attributes, e.g. ingest status or the
        signature verdict summary. Retries on a concurrent update (these are system writes).
        ``details``: what the event names besides the keys changed (a recall's id and order).
        ``known``: the latest version as the caller read it just now (m52: ingest's signature
        step), used for the first attempt instead of reading it again; an older one only costs
        a retry (its next version exists: ``Conflict``, the record read again)."""
        for attempt in range(20):
            current = known if attempt == 0 and known is not None else self._load(record_id)
            self.authorize(actor, Action.RECORD_UPDATE, current)
            new = self._next_version(current, actor, extra={**current.extra, **values})
            try:
                told = {**(details or {}), "keys": sorted(values)}
                return self._write_version(current, new, actor, action, told)
            except Conflict:
                continue
        raise Conflict(f"Không cập nhật được “{record_id}” do xung đột liên tục.", record_id=record_id)

    def grant(
        self,
        record_id: str,
        *,
        users: tuple[str, ...] = (),
        units: tuple[str, ...] = (),
        revoke: bool = False,
        actor: Actor,
    ) -> Record:
        """Grant (or revoke) access to a record or hồ sơ for named accounts and units (Phụ lục
        VI III.3.b, IV.1.d). A grant on a hồ sơ reaches every document in it. Audited."""
        for _ in range(20):
            current = self._load(record_id)
            self._authorize_granting(current, users, units, revoke, actor)
            if revoke:
                new_users = tuple(u for u in current.grant_users if u not in users)
                new_units = tuple(u for u in current.grant_units if u not in units)
            else:
                new_users = _added(current.grant_users, users)
                new_units = _added(current.grant_units, units)
            new = self._regranted(current, new_users, new_units, actor)
            if new is None:
                return current
            details = {"users": list(users), "units": list(units), "revoke": revoke}
            try:
                record = self._write_version(current, new, actor, "record:grant", details)
            except Conflict:
                continue
            self._emit_documents(record)
            return record
        raise Conflict(f"Không cập nhật được “{record_id}” do xung đột liên tục.", record_id=record_id)

    def _authorize_granting(
        self, current: Record, users: tuple[str, ...], units: tuple[str, ...], revoke: bool, actor: Actor
    ) -> None:
        """The decision of a grant (or revocation) on ``current`` (:func:`decide_grant`, and for a
        hồ sơ the reach of every document in it; audited refusal), then its holds."""
        if not actor.system:
            wanted = ((), ()) if revoke else (users, units)
            decision = decide_grant(actor.as_principal, self.facts(current), *wanted)
            self._enforce(actor, Action.RECORD_GRANT, current, decision)
            if not revoke:
                for document in self._documents_of(current):
                    self._authorize_reach(actor, document, users, units, _GRANTING_A_FILE)
        self.refuse_if_held(current, Action.RECORD_GRANT)

    def _emit_reach(self, file: Record) -> None:
        """The index of a hồ sơ's documents follows a change of the archive's reach of them
        (:attr:`on_reach`, else each whole through :attr:`on_change`)."""
        if self.on_reach is None:
            self._emit_documents(file)
            return
        documents = []
        for document_id in file.documents:
            try:
                documents.append(self._load(document_id))
            except NotFound:
                continue
        self.on_reach(file, documents)

    def _emit_documents(self, file: Record) -> None:
        """The index of a hồ sơ's documents follows a change of its grants."""
        for document_id in file.documents:
            try:
                self._emit(self._load(document_id))
            except NotFound:
                continue

    def authorize_hand_over(self, file_id: str, to_user: str, *, actor: Actor) -> None:
        """Refuse (audited, nothing written) unless :meth:`hand_over` of hồ sơ ``file_id`` to
        ``to_user`` would be allowed now: a handover of many hồ sơ checks them all first."""
        self._authorize_granting(self._load_file(file_id, actor), (to_user,), (), False, actor)

    def hand_over(
        self,
        file_id: str,
        to_user: str,
        *,
        actor: Actor,
        extra: Mapping[str, Any],
        details: Mapping[str, Any],
    ) -> Record:
        """Hồ sơ ``file_id`` handed over to ``to_user`` in one version: granted to them (decided
        as :meth:`grant` decides it) and carrying ``extra`` (its new keeper). It was a grant,
        then a second version naming the keeper: a process killed between the two left the hồ sơ
        with both people (the new one granted, the old one still its keeper). Audited as
        ``file:handover`` (``users``: the grant)."""
        for _ in range(20):
            current = self._load_file(file_id, actor)
            self._authorize_granting(current, (to_user,), (), False, actor)
            new = self._next_version(
                current,
                actor,
                grant_users=_added(current.grant_users, (to_user,)),
                extra={**current.extra, **extra},
            )
            told = {**details, "users": [to_user], "state": current.state}
            try:
                record = self._write_version(current, new, actor, "file:handover", told)
            except Conflict:
                continue
            self._emit_documents(record)
            return record
        raise Conflict(f"Không cập nhật được “{file_id}” do xung đột liên tục.", record_id=file_id)

    def distribute(
        self, record_id: str, *, users: Iterable[str] = (), units: Iterable[str] = (), actor: Actor
    ) -> Record:
        """Give the people and units a handling step reached sight of the document (Điều 23:
        phân phối, chuyển giao) — a new version with them added to its grants. The caller (the
        handling service) has already had the step itself decided by the policy; here the actor
        must at least see the document. A legal hold refuses it as it refuses :meth:`grant`
        (:data:`~repository.policy.HOLD_BLOCKS`: handing over, for everyone, Kho's own roll-forward
        included; :class:`LegalHold`, nothing written). Audited as ``record:distribute``."""
        users, units = tuple(users), tuple(units)
        for _ in range(20):
            current = self._load(record_id)
            self.authorize(actor, Action.RECORD_VIEW, current)
            self.refuse_if_held(current, Action.RECORD_GRANT)
            new = self._regranted(
                current, _added(current.grant_users, users), _added(current.grant_units, units), actor
            )
            if new is None:
                return current
            try:
                return self._write_version(
                    current, new, actor, "record:distribute", {"users": list(users), "units": list(units)}
                )
            except Conflict:
                continue
        raise Conflict(f"Không cập nhật được “{record_id}” do xung đột liên tục.", record_id=record_id)

    def authorize_grant(self, record_id: str, *, actor: Actor) -> None:
        """Refuse (:class:`PermissionDenied`, audited; :class:`NotFound`) unless ``actor`` may
        grant on the record or hồ sơ at all. Callers decide this *before* they look up the
        names to grant, so that any other person learns nothing of which accounts exist;
        :meth:`grant` then decides the grant with the names (``SELF_GRANT``, holds)."""
        self.authorize(actor, Action.RECORD_GRANT, self._load(record_id))

    def authorize_granter(self, actor: Actor) -> None:
        """Refuse (:class:`PermissionDenied`, audited) unless ``actor`` holds a role that grants
        (:func:`~repository.policy.decide_granter`): for acts that grant many records at
        once (a handover), before the names in them are looked up."""
        if not actor.system:
            self._enforce(actor, Action.RECORD_GRANT, None, decide_granter(actor.as_principal))

    def grants_of(self, record_id: str, *, actor: Actor) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """Who a record or hồ sơ is granted to, for someone who may grant on it (a quản trị
        grants without reading the record): its kind, the accounts and the units."""
        record = self._load(record_id)
        self.authorize(actor, Action.RECORD_GRANT, record)
        return record.kind, record.grant_users, record.grant_units

    def _safe_load(self, record_id: str) -> Record | None:
        try:
            return self._load(record_id)
        except (NotFound, KeyDestroyed):
            return None

    def visible(
        self, record_ids: Iterable[str], *, actor: Actor, found: bool = False
    ) -> list[Record]:
        """The latest versions of ``record_ids`` that ``actor`` may see, in the order given
        (for lists built from an index query: each is checked against the policy again). The
        loads run side by side (:func:`~repository.storage.group.read_each`): a search page's 20
        hits on S3 were 20 round trips of two LISTs and a GET one after another.
        ``found``: search hits, checked by :func:`~repository.policy.finds` (what they see, and
        the documents of a hồ sơ at their archive: review u24)."""
        rule = finds if found else sees

        def seen(record_id: str) -> Record | None:
            try:
                record = self._load(record_id)
            except UNOPENABLE:  # gone, shredded, or damaged (fsck reports it): not listed
                return None
            if actor.system or rule(actor.as_principal, self.facts(record)):
                return record
            return None

        return [record for record in read_each(seen, list(record_ids)) if record is not None]

    def intake_queue(self, *, actor: Actor, candidates: Iterable[str] | None = None) -> list[Record]:
        """Documents received and checked, waiting for a văn thư to confirm and register them.
        ``candidates``: record ids from an index query (``retention_state`` intake) instead of a
        scan of every record."""
        self.authorize(actor, Action.INTAKE_LIST)
        out = []
        source = self.records() if candidates is None else (self._safe_load(c) for c in candidates)
        for record in source:
            if record is None:
                continue
            if record.state == "intake" and not record.extra.get("returned") and self.may_see(actor, record):
                out.append(record)
        return out

    # -- audit log, through the policy -------------------------------------------------------
    def audit_events(
        self,
        *,
        actor: Actor,
        record_id: str | None = None,
        user: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        loaded: Record | None = None,
        facts: RecordFacts | None = None,
    ) -> list[Any]:
        """Audit events matching every given filter. Kiểm toán viên read the whole log; anyone
        may read the events of a record whose history they may see. The read is itself audited.
        ``loaded``, ``facts``: the record of ``record_id`` and its :meth:`facts` as the caller
        read them in this request (:meth:`opened`): decided on, not read again."""
        record = None
        given = loaded is not None and loaded.record_id == record_id
        if given:
            record = loaded
        elif record_id is not None:
            try:
                record = self._load(record_id)
            except NotFound:
                if not actor.as_principal.has(Role.KIEM_TOAN):
                    raise
                # Events of an id that names no record (an act that never completed): the log.
        if record is not None:
            # One record's history: the policy's rule for it (a kiểm toán viên up to their
            # clearance; the others when they see the record).
            self.authorize(actor, Action.RECORD_HISTORY, record, facts=facts if given else None)
        else:
            self.authorize(actor, Action.AUDIT_READ)
        events = list(
            self.audit.query(
                record_id=record_id,
                actor=user,
                action=action,
                since=to_iso_utc(since) if since else None,
                until=to_iso_utc(until) if until else None,
            )
        )
        if not actor.system:
            # One record's history too: its events' details may name another record (a hồ sơ's
            # documents). The record itself was just authorized.
            seen = {record.record_id: True} if record is not None else {}
            events = self._withhold_unreadable(actor.as_principal, events, seen)
        if not actor.system:
            filters = {
                "record_id": record_id,
                "user": user,
                "action": action,
                "since": to_iso_utc(since) if since else None,
                "until": to_iso_utc(until) if until else None,
            }
            self.audit.append(
                actor.user,
                "audit:read",
                source=actor.source,
                details={"filters": {k: v for k, v in filters.items() if v}, "count": len(events)},
            )
        return events

    def _withhold_unreadable(
        self, principal: Principal, events: list[AuditEvent], readable: dict[str, bool] | None = None
    ) -> list[AuditEvent]:
        """``events`` as ``principal`` may have them: the events of a record whose history they
        may not read (:func:`reads_events_of`) are :func:`withheld`, in place, so that counts,
        pages and order stay those of the log; ``readable``: records already decided."""
        if not may_withhold_events(principal):
            return events
        readable = dict(readable or {})
        in_details = [_record_ids_in(event.details) for event in events]
        if principal.has(Role.KIEM_TOAN):
            # Their decision rests on a record's secrecy alone: the audit index's map settles
            # the records it knows; the rest are read once here, and noted for the next query.
            named = {e.record_id for e in events if e.record_id}.union(*in_details)
            unknown = named - readable.keys()
            at_level: dict[int, bool] = {}
            for record_id, secrecy in self.audit.known_secrecy(unknown).items():
                if secrecy not in at_level:
                    at_level[secrecy] = reads_events_at(principal, secrecy)
                readable[record_id] = at_level[secrecy]
            noted: list[tuple[str, int, int]] = []
            for record_id in sorted(unknown - readable.keys()):
                readable[record_id] = self._events_readable(principal, record_id, noted)
            self.audit.note_secrecy(noted)

        def reads(record_id: str) -> bool:
            if record_id not in readable:
                readable[record_id] = self._events_readable(principal, record_id)
            return readable[record_id]

        out = []
        for event, others in zip(events, in_details, strict=True):
            reach = None
            if event.record_id is None and event.action in COUNTED_EVENTS:
                reach = event.details.get(SEARCH_REACH)
                reach = reach if isinstance(reach, int) else MAX_SECRECY
            if (reach is not None and not reads_search_event(principal, reach)) or (
                event.record_id is not None and not reads(event.record_id)
            ):
                out.append(withheld(event))
            elif not all(reads(other) for other in others):
                # The event's own record is readable, another one its details name is not.
                out.append(withheld(event, keep_record=True))
            else:
                out.append(event)
        return _unlinked_from_withheld(out)

    def authorize_audit_export(self, actor: Actor) -> None:
        """The whole log as stored (``kho audit export``, for checking it offline) holds every
        event whole, so it goes only to someone who may check the chain
        (:attr:`Action.AUDIT_VERIFY`) and from whom no event would be withheld
        (:func:`reads_events_of`): ``AUDIT_EXPORT_WITHHELD`` (403, audited) otherwise. Such a
        person checks the chain with ``kho audit verify`` instead."""
        self.authorize(actor, Action.AUDIT_VERIFY)
        if actor.system or not may_withhold_events(actor.as_principal):
            return
        shown = self._withhold_unreadable(actor.as_principal, list(self.audit.events()))
        if any(is_withheld(event) for event in shown):
            self._enforce(
                actor,
                Action.AUDIT_VERIFY,
                None,
                Decision(
                    False,
                    "AUDIT_EXPORT_WITHHELD",
                    "Không xuất được toàn bộ nhật ký: nhật ký có sự kiện của văn bản vượt quá mức"
                    " tiếp cận thông tin mật của tài khoản. Hãy kiểm tra chuỗi bằng “kho audit"
                    " verify”, hoặc đề nghị kiểm toán viên có mức tiếp cận phù hợp xuất.",
                ),
            )

    def _events_readable(
        self, principal: Principal, record_id: str, noted: list[tuple[str, int, int]] | None = None
    ) -> bool:
        """Whether ``principal`` reads in full the events of ``record_id``: yes for an id that
        names no record (an act that never completed); a record that cannot be read here is
        withheld (fails closed). For a kiểm toán viên its secrecy alone decides, so the hồ sơ
        holding it are not loaded; for anyone else (reading one record's history) its grants
        through hồ sơ count too. ``noted``: gets the record's ``(id, version, secrecy)``."""
        try:
            record = self._load(record_id)
        except NotFound:
            return True
        except KhoError:
            return False
        if noted is not None:
            noted.append((record.record_id, record.version, record.secrecy))
        holders = () if principal.has(Role.KIEM_TOAN) else None
        return reads_events_of(principal, self.facts(record, holders=holders))

    def audit_verify(
        self,
        *,
        actor: Actor,
        checkpoints: Sequence[Mapping[str, Any]] = (),
        public_key: Any = None,
        incremental: bool = False,
    ) -> Any:
        """The chain's check against every checkpoint reachable (the store's, the folder outside
        it, ``checkpoints`` an auditor kept); ``incremental``: from the last verified checkpoint."""
        from repository.anchor import verify_anchored

        self.authorize(actor, Action.AUDIT_VERIFY)
        report = verify_anchored(self.audit, self.anchor, checkpoints, public_key, incremental=incremental)
        if not actor.system:
            try:
                self.audit.append(actor.user, "audit:verify", source=actor.source, details={"ok": report.ok})
            except AuditChainBroken:
                if report.ok:
                    raise
                # The refusal sends the auditor here: the findings are the answer, and the check
                # cannot be recorded in a chain that takes no event until they have been dealt with.
        return report

    def audit_acknowledge(
        self,
        *,
        actor: Actor,
        digest: str,
        reason: str,
        login: Mapping[str, Any],
        out: Sequence[Any] = (),
    ) -> tuple[Any, dict[str, Any], Any]:
        """An auditor's signed acknowledgement of the audit log's open findings
        (:func:`repository.acknowledge.acknowledge`): the event, its checkpoint, the report.

        Only a person with role ``kiem_toan`` (never a system actor: the decision is a
        person's). It is asked while the log may refuse every event: a denial is then refused
        with ``PERMISSION_DENIED`` all the same (not the log's refusal), unrecorded."""
        from repository.acknowledge import acknowledge

        self.authorize_acknowledge(actor)
        return acknowledge(
            self.audit,
            self.anchor,
            actor=actor.user,
            source=actor.source,
            digest=digest,
            reason=reason,
            login=login,
            out=out,
        )

    def authorize_acknowledge(self, actor: Actor) -> None:
        """:class:`PermissionDenied` unless ``actor`` is a person with role ``kiem_toan``; a
        denial is refused as such also while the log refuses its event (then unrecorded)."""
        if actor.system:
            raise PermissionDenied(
                "Chỉ kiểm toán viên (vai trò kiem_toan) đăng nhập bằng tài khoản của mình mới chấp nhận"
                " được phát hiện của nhật ký kiểm toán.",
                code="PERMISSION_DENIED",
            )
        try:
            self.authorize(actor, Action.AUDIT_ACKNOWLEDGE)
        except AuditChainBroken:  # the denial's own event was refused: the denial stands
            decision = decide(actor.as_principal, Action.AUDIT_ACKNOWLEDGE, None)
            raise PermissionDenied(decision.message, code=decision.code) from None

    def audit_search(self, actor: Actor, text: str, total: int, filters: Mapping[str, Any]) -> None:
        """Record a search: who, the query, the filters and how many results they got."""
        self.authorize(actor, Action.SEARCH)
        self.audit.append(
            actor.user,
            "search",
            source=actor.source,
            details={
                "query": text,
                "filters": dict(filters),
                "count": total,
                SEARCH_REACH: self._search_reach(actor),
            },
        )

    @staticmethod
    def _search_reach(actor: Actor) -> int:
        return search_scope(actor.as_principal).max_secrecy

    def audit_export(self, actor: Actor, what: str, details: Mapping[str, Any]) -> None:
        """Record an export or print (a register as PDF/XLSX, …): what left Kho, for whom.
        A search export carries the searcher's reach, as a search does. Called once the export
        is decided and before the file is built: a ``HEAD`` stops here (:mod:`kho.head`)."""
        stop_if_head()
        if not actor.system:
            data = dict(details)
            if f"{what}:export" in COUNTED_EVENTS:
                data[SEARCH_REACH] = self._search_reach(actor)
            self.audit.append(actor.user, f"{what}:export", source=actor.source, details=data)

    # -- derived data (text, OCR, signature verdicts): beside the original, never in it ----
    def put_derived(self, record_id: str, name: str, data: bytes) -> None:
        key = f"records/{record_id}/derived/{name}"
        self.store.put(key, self.keys.seal(record_id, data, key))

    def get_derived(self, record_id: str, name: str) -> bytes:
        key = f"records/{record_id}/derived/{name}"
        return self.keys.open(record_id, self.store.get(key), key)

    def read_rendition(
        self,
        record_id: str,
        name: str,
        render: Callable[[bytes], bytes],
        *,
        actor: Actor,
        details: Mapping[str, Any] | None = None,
    ) -> bytes:
        """A rendition of the original (a page as PNG, …) under the same policy check as the
        original (``record:read``), cached as derived data named ``name`` plus the original's
        hash. Audited as ``content:view`` (a cached rendition is read content too). A ``HEAD``
        stops here, described as :meth:`describe_original`; its length is unknown unrendered."""
        if is_head():
            self.describe_original(record_id, actor=actor)
            stop_if_head()
        record = self._load(record_id)
        self.authorize(actor, Action.RECORD_READ, record)
        if not record.files:
            raise NotFound("Văn bản này không có tệp đính kèm.", record_id=record_id)
        stored = record.files[0]
        cached = f"{name}-{stored.sha256[:16]}"
        try:
            data = self.get_derived(record_id, cached)
        except NotFound:
            key = content_key(record_id, stored.sha256)
            original = self.keys.open(record_id, self.store.get(key), key)
            if hashlib.sha256(original).hexdigest() != stored.sha256:
                raise IntegrityError(
                    f"Tệp gốc “{stored.original_name}” không khớp mã băm SHA-256 đã ghi nhận.",
                    record_id=record_id,
                    sha256=stored.sha256,
                ) from None
            data = render(original)
            self.put_derived(record_id, cached, data)
        if not actor.system:
            self._event(actor, "content:view", record, {"rendition": name, **(details or {})})
        return data

    # -- hồ sơ -----------------------------------------------------------------------------
    def create_file(self, metadata: Mapping[str, Any], actor: Actor) -> Record:
        self.authorize(actor, Action.FILE_CREATE)
        md = parse_file(metadata, default_organ_id=self.agency_id, known_organ=self.is_known_organ)
        self._authorize_new(actor, Action.FILE_EDIT, self._draft(KIND_FILE, md))
        record_id = new_record_id()
        claim = "claims/filecode/" + _digest(md.file_code)
        in_flight = [self._marker_object(record_id, KIND_FILE, None), self.keys.new_object(record_id)]
        taken: list[str] = []
        try:
            guard = (claim, f"Mã hồ sơ {md.file_code} đã tồn tại.")
            with self._duplicates_told_to(actor), self._withdrawn_if_refused(record_id):
                self._write_in_flight(in_flight, [guard], record_id, taken)
        except BaseException:
            for held in taken:
                self._release(held, record_id)
            raise
        record = Record(
            record_id=record_id,
            version=1,
            kind=KIND_FILE,
            created_at=to_iso_utc(self.clock()),
            actor=actor.user,
            metadata=md,
            created_by=actor.user,
        )
        self._commit_first(record, [claim])
        # A derived list beside the catalog: the hồ sơ each person created (their home page
        # lists them without scanning the store; rebuilt from ``created_by`` if lost).
        self.store.put(created_files_prefix(actor.user) + record_id, b"")
        return self._announce(actor, record, "file:create", {"file_code": md.file_code})

    def files_created_by(self, *, actor: Actor) -> list[Record]:
        """The hồ sơ ``actor`` created that they may still see, newest first."""
        ids = [info.key.rsplit("/", 1)[1] for info in self.store.list(created_files_prefix(actor.user))]
        records = self.visible(reversed(ids), actor=actor)
        return [r for r in records if r.kind == KIND_FILE and r.created_by == actor.user]

    def add_to_file(self, file_id: str, document_id: str, *, expected_version: int, actor: Actor) -> Record:
        """Put a document in a hồ sơ (a reference, not a copy; one document, many hồ sơ)."""
        current = self._load_file(file_id, actor)
        self.authorize(actor, Action.FILE_EDIT, current)
        self.refuse_if_held(current, Action.FILE_EDIT)
        document = self._load(document_id)
        self.authorize(actor, Action.RECORD_VIEW, document)
        if document.kind == KIND_FILE:
            raise NotFound(f"“{document_id}” không phải là văn bản.", record_id=document_id)
        self._authorize_reach(
            actor, document, current.grant_users, current.grant_units, _ADDING_TO_A_SHARED_FILE
        )
        _require_version(current, expected_version, f"Hồ sơ “{file_id}”")
        if document_id in current.documents:
            return current
        if current.state != "active":
            raise Conflict(
                "Hồ sơ đã kết thúc: muốn thêm văn bản phải mở lại hồ sơ.",
                code="FILE_CLOSED",
                record_id=file_id,
                state=current.state,
            )
        new = self._next_version(current, actor, documents=(*current.documents, document_id))
        # The reverse link first, then the destruction's claim: a destruction of the document
        # that claims it later finds the link and keeps the document (_claim_destruction).
        link = f"links/{document_id}/{file_id}"
        try:
            self.store.put_if_absent(link, b"{}")
            made = True
        except AlreadyExists:
            made = False  # left by a removal that stopped (or has not yet come to) deleting it
        try:
            self._refuse_if_destroyed(document_id, lambda: (document_id,), "không đưa vào hồ sơ được")
            record = self._write_version(
                current,
                new,
                actor,
                "file:add-document",
                {"document_id": document_id, "ordinal": len(new.documents)},
            )
        except BaseException:
            if made:  # another tab may have won the version on this very link: settle it
                self._unlink(file_id, document_id)
            raise
        if not made:  # a removal running meanwhile may delete the link it found: put it back
            self._link(file_id, document_id)
        self._emit(document)
        return record

    def _link(self, file_id: str, document_id: str) -> None:
        """Write the reverse link of ``document_id`` in ``file_id`` (there already: nothing)."""
        try:
            self.store.put_if_absent(f"links/{document_id}/{file_id}", b"{}")
        except AlreadyExists:
            pass

    def _unlink(self, file_id: str, document_id: str) -> None:
        """Delete the reverse link of ``document_id`` in ``file_id``, then look at the hồ sơ's
        newest version and put the link back if it lists the document: an add written by
        another tab meanwhile relied on that link (review r28: the refused tab, or a removal
        racing a re-add, deleted it, and a destruction of another hồ sơ holding the document
        then shredded it, since :meth:`_claim_destruction` finds the hồ sơ by their links). An
        add that writes its version after this look puts the link back itself (:meth:`_link`)."""
        self.store.delete(f"links/{document_id}/{file_id}")
        if document_id in self._load_file(file_id).documents:
            self._link(file_id, document_id)

    def _documents_of(self, file: Record) -> list[Record]:
        """The documents a hồ sơ holds (none for a document; ids that name nothing are skipped)."""
        out = []
        for document_id in file.documents:
            try:
                out.append(self._load(document_id))
            except NotFound:
                continue
        return out

    def _authorize_reach(
        self, actor: Actor, document: Record, users: Iterable[str], units: Iterable[str], why: str
    ) -> None:
        """A grant on a hồ sơ reaches every document in it: granting a hồ sơ, or putting a
        document in a hồ sơ already granted, gives the document to those grantees who do not see
        it yet, and needs the right to grant on the document
        (:func:`~repository.policy.decide_grant`). ``why`` opens the refusal's message."""
        if actor.system:
            return
        facts = self.facts(document)
        known = facts.grant_users | {facts.created_by}
        if sees(actor.as_principal, facts):
            known |= {actor.user}
        new_users = set(users) - known
        new_units = set(units) - facts.grant_units - {facts.unit}
        if not new_users and not new_units:
            return
        decision = decide_grant(actor.as_principal, facts, new_users, new_units)
        if not decision:
            # Refused on the document itself, never as an unknown id: that answer would name the
            # id of a document the hồ sơ does not show them (the refusal stays the hồ sơ's).
            behind = decision.behind if decision.behind is not None else decision
            decision = Decision(False, behind.code, sentences(why, behind.message))
        self._enforce(actor, Action.RECORD_GRANT, document, decision)

    def remove_from_file(
        self, file_id: str, document_id: str, *, expected_version: int, actor: Actor, reason: str = ""
    ) -> Record:
        """Take a document out of a hồ sơ: a new version of the hồ sơ without it (the document
        itself is untouched; earlier versions of the hồ sơ still list it). Same permission as
        adding (:attr:`Action.FILE_EDIT`); refused under legal hold and once the hồ sơ is no
        longer being built (closed, submitted, archived)."""
        current = self._load_file(file_id, actor)
        self.authorize(actor, Action.FILE_EDIT, current)
        self.refuse_if_held(current, Action.FILE_EDIT)
        _require_version(current, expected_version, f"Hồ sơ “{file_id}”")
        if current.state != "active":
            raise Conflict(
                "Hồ sơ đã kết thúc hoặc đã nộp lưu: muốn bỏ văn bản ra phải mở lại hồ sơ.",
                code="FILE_CLOSED",
                record_id=file_id,
                state=current.state,
            )
        if document_id not in current.documents:
            raise NotFound(
                "Văn bản này không có trong hồ sơ.",
                code="FILE_DOCUMENT_ABSENT",
                record_id=file_id,
                document_id=document_id,
            )
        try:  # what one may not see one may not take out either (a destroyed one may go), but a
            # recipient may take out a văn bản đi recalled from them (policy.decide_take_out)
            document = self._load(document_id)
        except NotFound:
            document = None
        if document is not None and not actor.system:
            decision = decide_take_out(actor.as_principal, self.facts(document))
            self._enforce(actor, Action.RECORD_VIEW, document, decision)
        ordinal = current.documents.index(document_id) + 1
        new = self._next_version(
            current,
            actor,
            documents=tuple(d for d in current.documents if d != document_id),
        )
        details: dict[str, Any] = {"document_id": document_id, "ordinal": ordinal}
        if reason.strip():
            details["reason"] = typed_text(reason, "reason", "Lý do bỏ văn bản ra khỏi hồ sơ")
        record = self._write_version(current, new, actor, "file:remove-document", details)
        # The reverse link is derived from the hồ sơ's versions; holders_of also checks the
        # hồ sơ still lists the document, so a crash before this delete changes nothing.
        self._unlink(file_id, document_id)
        try:
            self._emit(self._load(document_id))
        except NotFound:
            pass
        return record

    def transition_file(
        self,
        file_id: str,
        *,
        expected_version: int,
        actor: Actor,
        permission: Action,
        action: str,
        state: str | None = None,
        changes: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Record:
        """A new version of a hồ sơ for a step of its lifecycle (close, reopen, submit, accept):
        its state, metadata ``changes`` (validated as when created) and ``extra`` attributes,
        after ``permission`` is checked (on the hồ sơ for record actions). Audited as ``action``.
        The lifecycle rules themselves are :mod:`retention`'s."""
        current = self._load_file(file_id, actor)
        self.authorize(actor, permission, current if permission in _RECORD_PERMISSIONS else None)
        self.refuse_if_held(current, permission)  # closing, reopening, keeping, handing over
        _require_version(current, expected_version, f"Hồ sơ “{file_id}”")
        assert isinstance(current.metadata, FileMetadata)
        md = current.metadata
        if changes:
            md = parse_file(
                {**current.metadata.to_dict(), **changes},
                default_organ_id=self.agency_id,
                known_organ=self.is_known_organ,
                stored=current.metadata.to_dict(),
            )
        new = self._next_version(
            current,
            actor,
            metadata=md,
            state=state or current.state,
            extra={**current.extra, **(extra or {})},
        )
        info = {"state": new.state, "from": current.state, **(details or {})}
        if new.state in ARCHIVE_STATES and current.state not in ARCHIVE_STATES:
            with self._handing_over(current):  # no document of it shredded by a recall meanwhile
                written = self._write_version(current, new, actor, action, info)
        else:
            written = self._write_version(current, new, actor, action, info)
        if (new.state in RECEIVED_STATES) != (current.state in RECEIVED_STATES):
            # Submitted, or returned (trả lại): the archive's reach of its documents changed
            # (RecordFacts.received_from), and the index of each follows (review u24).
            self._emit_reach(written)
        return written

    def _load_file(self, file_id: str, actor: Actor | None = None) -> Record:
        """The newest version of hồ sơ ``file_id`` (NotFound when it is a document: for an
        ``actor`` who may not know of that document, the answer of an id that names nothing,
        since “… is not a hồ sơ” told them it exists)."""
        current = self._load(file_id)
        if current.kind != KIND_FILE:
            hidden = actor is not None and not actor.system
            if hidden and not knows_of(actor.as_principal, self.facts(current)):  # type: ignore[union-attr]
                raise NotFound(unknown_record_message(file_id), record_id=file_id)
            raise NotFound(f"“{file_id}” không phải là hồ sơ.", record_id=file_id)
        return current

    def _regranted(
        self, current: Record, users: tuple[str, ...], units: tuple[str, ...], actor: Actor
    ) -> Record | None:
        """``current``'s successor granted to exactly ``users`` and ``units`` (:meth:`grant`,
        :meth:`distribute`); None when those are its grants already (no new version)."""
        if (users, units) == (current.grant_users, current.grant_units):
            return None
        return self._next_version(current, actor, grant_users=users, grant_units=units)

    def _next_version(self, current: Record, actor: Actor, **changes: Any) -> Record:
        """``current``'s successor written by ``actor`` now, with ``changes`` (not yet stored:
        :meth:`_write_version` does that)."""
        return Record(
            **{
                **current.__dict__,
                "version": current.version + 1,
                "created_at": to_iso_utc(self.clock()),
                "actor": actor.user,
                **changes,
            }
        )

    def files_of(self, document_id: str) -> list[str]:
        """The hồ sơ a document sits in."""
        return [info.key.rsplit("/", 1)[1] for info in self.store.list(f"links/{document_id}/")]

    def file_totals(self, file: Record) -> tuple[int, int]:
        """(DocTotal, PageTotal) of a hồ sơ, computed from its documents."""
        pages = 0
        for doc_id in file.documents:
            md = self._load(doc_id).metadata
            if isinstance(md, DocumentMetadata) and md.page_amount:
                pages += md.page_amount
        return len(file.documents), pages

    # -- registers -------------------------------------------------------------------------
    def register(
        self,
        series: str,
        year: int,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        actor: Actor,
    ) -> list[Record]:
        """A register (sổ) for a year, optionally a period, in number order; latest metadata.
        Only rows the person may see are returned (nothing of the others leaks)."""
        self.authorize(actor, Action.REGISTER_LIST)
        series = resolve_series(series, self.registers.series_of(self.agency_id, year), year=year)
        out: list[Record] = []
        for entry in self.registers.entries(self.agency_id, year, series):
            try:
                record = self._load(entry.record_id)
            except NotFound:
                sealed = base64.b64decode(entry.sealed_version)
                record = self._open_version(entry.record_id, entry.version, sealed)
            md = record.metadata
            assert isinstance(md, DocumentMetadata)
            day = md.arrival_date if md.direction is Direction.DEN else md.issued_date
            if date_from and day and day < date_from:
                continue
            if date_to and day and day > date_to:
                continue
            if not self.may_see(actor, record):
                continue
            out.append(record)
        if not actor.system:
            self.audit.append(
                actor.user,
                "register:list",
                source=actor.source,
                details={
                    "series": series,
                    "year": year,
                    "count": len(out),
                    SEARCH_REACH: self._search_reach(actor),
                },
            )
        return out

    def numbers_lost_in_backup(self, series: str, year: int, *, actor: Actor) -> RegisterFloor | None:
        """The register's numbers a restore found given before its backup to documents the copy
        does not hold (m64's :class:`~repository.registers.RegisterFloor`), for whoever may list
        the register (:attr:`Action.REGISTER_LIST`, as :meth:`register`); None when no restore
        wrote one, or one whose seal does not check (rv63: a planted floor is not shown as a
        restore's). The CLI, the page and the API show the same note
        (:func:`~repository.registers.floor_explained`)."""
        self.authorize(actor, Action.REGISTER_LIST)
        key = nfc(series).strip().lower()  # as resolve_series names an existing or standard series
        return self.registers.restored_floor(self.agency_id, year, key, self.audit.sealer)

    def register_note(self, series: str, year: int, *, actor: Actor) -> dict[str, Any] | None:
        """The note of the register's numbers lost in a backup as ``actor`` reads it
        (:func:`~repository.registers.floor_shown`), the one source of the page, the API, the
        printed and exported register and ``kho register list`` (u36). Its records' ids only
        for whoever lists the register at the agency itself
        (:func:`~repository.policy.reads_register_note`): a văn thư of a phòng sees none of
        the register's other rows, so reads only that the numbers are missing."""
        floor = self.numbers_lost_in_backup(series, year, actor=actor)
        if floor is None:
            return None
        named = actor.system or reads_register_note(actor.as_principal, self.agency_id)
        return floor_shown(floor, named=named)
