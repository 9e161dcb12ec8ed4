"""``kho fsck``: find, and with ``repair`` mend, what a crash or tampering left in the store.

A crash can leave only garbage written before a commit point (temp files, a record's key,
content and duplicate guards with no committed version) or a committed first version not yet
materialised from its register entry. Neither is visible to readers; fsck removes the first
and rolls the second forward. It also reports what it cannot mend: register gaps, a number
given to more than one record (m61), originals whose bytes no longer match their digest
(``deep``), and breaks in the audit chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from kho.errors import (
    AlreadyExists,
    AuditChainBroken,
    ClaimNotAFile,
    FsckAcknowledgeRefused,
    FsckFindingNotFound,
    FsckKindInvalid,
    IntegrityError,
    KeyDestroyed,
    KeyUnwrapFailed,
    KhoError,
    NotFound,
    PermissionDenied,
    StoreVersioningOff,
)
from kho.process import (
    CLAIM_ABANDONED,
    CLAIM_FINISHED,
    CLAIM_RUNNING,
    CLAIM_UNKNOWN,
    CLOCK_SKEW_SECONDS,
    LIVE_WRITER_HOLD_SECONDS,
    claim_age,
    claim_state,
    process_alive,
    this_host,
    writer_alive,
)
from kho.timeutil import parse_iso, to_iso_utc, utcnow
from repository import formats
from repository.accounts import (
    EVENTS_CARRIED_SINCE,
    RESTORABLE_ACTIONS,
    STORED_EVENTS,
    Account,
    Notification,
    Token,
    Unit,
    carries_no_events,
    pending_events,
)
from repository.acknowledge import (
    FSCK_ACKNOWLEDGE_ACTION,
    FSCK_ACKNOWLEDGEABLE,
    FsckAcknowledgement,
    finding_digest,
    fsck_acknowledgement,
    fsck_details,
    fsck_reason,
)
from repository.anchor import CHECKPOINTS_PREFIX, folder_checkpoints, latest_register_heads, verify_anchored
from repository.audit import (
    EVENTS_PREFIX,
    WITNESS_KEY,
    AuditEvent,
    EventDraft,
    VerifyReport,
    first_act_only,
    listed_seq,
    parse_object,
    sealed_events,
)
from repository.audit_index import HOLD_EVENT_ACTIONS, SqliteRecordIndex, entry_bytes
from repository.due_notices import STAGED_PREFIX as NOTICES_STAGED
from repository.due_notices import plaintext_notices, rewrite_audited, title_reader
from repository.handling import WITHHELD_ACTION, WITHHELD_PREFIX, withheld_key
from repository.ingest_jobs import (
    JOBS_PREFIX,
    hidden_named,
    older_plaintext,
    plaintext_left,
    read_job,
    scrub_audited,
    scrub_running,
)
from repository.ingest_jobs import STAGED_PREFIX as JOBS_STAGED
from repository.installation import INSTALLATION_KEY, parse_installation
from repository.metadata import DocumentMetadata
from repository.policy import Action
from repository.records import (
    ARCHIVE_STATES,
    CREATION_EVENTS,
    DESTROYING_PREFIX,
    HOLD_PLACED,
    HOLD_PREFIX,
    SUBMITTING_PREFIX,
    Actor,
    Record,
    Repository,
    claim_body,
    content_key,
    destroyed_key,
    duplicate_key,
    hold_key,
    holds_open_in,
    is_record_id,
    legacy_duplicate_key,
    restore_creation_event,
    take_over_guard,
    version_key,
)
from repository.registers import (
    ASSIGN_ACTION,
    FLOOR_PREFIX,
    RESTORING_KEY,
    NumberGiven,
    RegisterEntry,
    RegisterFloor,
    entry_key,
    entry_key_in,
    floor_explained,
    floor_numbers,
    floor_sealed,
    number_given_in,
    number_ranges,
    numbers_given_twice,
    register_prefix,
    restoring_sealed,
    restoring_shown,
    series_label,
)
from repository.seals import SEALED_SINCE, Sealer, Verdict
from repository.storage.base import ObjectInfo, ObjectStore
from repository.storage.local import LocalStore

REFUSED_CHAIN_BROKEN = AuditChainBroken.code
REFUSED_MESSAGE = (
    "không sửa: nhật ký kiểm toán có chỗ hỏng chưa được kiểm toán viên xem xét (xem các mục"
    " [audit]); sửa lúc này sẽ ghi thêm vào kho đang bị nghi can thiệp hoặc che mất chỗ hỏng đó"
)
"""What fsck says of each repair it refuses while the audit chain is broken (Vietnamese)."""
FSCK = Actor(user="system:fsck", source="kho fsck", system=True)


@dataclass(frozen=True)
class Issue:
    kind: str
    """``temp-file`` | ``uncommitted`` | ``key-orphan`` (a key no marker, folder, register
    entry, "đã hủy" row or event names: a creation that stopped before its commit point) |
    ``rolled-forward`` | ``stale-claim`` | ``catalog-missing``
    | ``unaudited`` (repairable) | ``register-gap`` | ``register-truncated`` (a checkpoint signed
    a higher number) | ``register-mismatch`` (entry and record disagree) | ``key-missing`` |
    ``key-corrupt`` | ``key-not-destroyed`` | ``master-key`` (wrong ``KHO_MASTER_KEY``) |
    ``fixity`` | ``audit`` | ``witness-missing`` (repairable: the log's first act lost its
    witness to a kill) | ``checkpoint`` | ``format`` (a stored object that does not load) |
    ``downgraded`` (an account or unit version in an older format than one before it: never
    repaired) | ``seal`` (an account version or token whose seal does not check with the key
    from ``KHO_MASTER_KEY``, :mod:`repository.seals`: never repaired, its events never appended)
    | ``hold-missing`` (a hold the log placed and never released, gone from the store: never
    repaired) | ``rolled-back`` (a record whose newest stored version is older than one its
    history names: never repaired) | ``object-missing`` (an account, unit or token object the log
    names as written, gone from the store: never repaired) | ``job-plaintext`` (an ingest job that
    keeps a document's description or file name in plaintext, in any version, :mod:`repository.ingest_jobs`:
    repaired by the audited scrub) | ``job-scrub-unfinished`` (a scrub's staged copy of a job,
    ``ingest/scrub/…``, left by a run that stopped: the job may be absent until the repair's
    scrub finishes it, m57; one younger than the grace is a running scrub's: not named, m62)
    | ``store-versioning-off`` (the S3 bucket's versioning is suspended or off: a put there keeps
    no older version and the scrub refuses to rewrite jobs; never repaired, rv64)
    | ``destruction-claim`` (a ``claims/destroying/<id>`` left by
    a destruction that did not finish: repaired only when its record is destroyed or its writer
    is provably dead, :func:`kho.process.claim_state`) | ``submission-claim`` (a
    ``claims/submitting/<hồ sơ>`` left by a nộp lưu that did not finish: repaired only when the
    hồ sơ is handed over or its writer is provably dead, by the same rule) |
    ``withheld-marker-missing`` (a ``handling:distribute-withheld`` event whose
    ``workflow-withheld`` object is gone: never repaired) | ``withheld-unaudited`` (such an
    object without its event, its writer stopped between the two: the event is appended) |
    ``audit-index`` (the by-record index of the log disagrees with the log below its
    ``next_seq``, edited or damaged: rebuilt from the log) | ``guard-missing`` (a live record's
    file without its SHA-256 duplicate guard, no other live record holding that file: the guard
    is taken for it) | ``guard-conflict`` (no guard, two or more live records hold the file:
    never repaired) | ``guard-duplicate`` (two live records of one file, neither registered
    again: never repaired) | ``guard-wrong-record`` (a duplicate guard naming a live record that does
    not hold what it guards: never repaired), step 6b, review rv53; ``guard-missing`` also for a
    văn bản's số/ký hiệu guard (step 9c, review rv55) | ``guard-not-a-file`` /
    ``claim-not-a-file`` (a local store's path under ``claims/`` that is no claim file: a folder
    where a guard's file belongs, a symbolic link, a FIFO, an unreadable file; never repaired,
    step 4a, review rv55) | ``register-number-reused`` (a number of one register, agency, year
    and series, that the log's ``register:assign`` events and the register entry give to more
    than one record: never repaired) | ``register-assign-orphan`` (a ``register:assign`` before
    m61, naming no agency, in a store of several, for a record the store does not hold and a
    number another record holds in some register of that year and series: never repaired),
    step 9d, m61 | ``register-floor-unexplained`` (a restore's register floor naming numbers
    the log does not give as it says: never repaired, m64). (``register-numbers-lost-in-backup``
    is a note, not an issue: :attr:`FsckReport.notes`, m64.) Every guard or claim a repair writes
    or removes is audited (``fsck:guard-restored``, ``fsck:claim-removed``)."""
    subject: str
    """The object: a store key, a record id, a register prefix, a variable name."""
    message: str
    repaired: bool
    repairable: bool = False
    """Whether ``fsck --repair`` mends it (when nothing refuses it: ``refused``)."""
    refused: str | None = None
    """Why ``fsck --repair`` does not mend this repairable issue now: the code
    :data:`REFUSED_CHAIN_BROKEN` while the audit chain has a finding fsck cannot mend."""
    details: Mapping[str, Any] = dataclass_field(default_factory=dict)
    """What a machine reads of the issue beyond its message (a destruction claim: its record,
    holder, age and decision)."""
    acknowledged: Mapping[str, Any] | None = None
    """The decision a person recorded on this very finding (``kho fsck-acknowledge``, m65): who
    (``by``), when (``at``), why (``reason``) and its event (``event``); None while none covers
    it. Only kinds of :data:`~repository.acknowledge.FSCK_ACKNOWLEDGEABLE`; an acknowledged
    finding is listed and does not fail fsck."""

    @property
    def digest(self) -> str:
        """The digest naming this finding exactly (kind, subject, facts): what
        ``kho fsck-acknowledge --finding`` repeats."""
        return finding_digest(self.kind, self.subject, self.details)

    @property
    def acknowledgeable(self) -> bool:
        return self.kind in FSCK_ACKNOWLEDGEABLE and not self.repaired


@dataclass(frozen=True)
class FsckReport:
    issues: tuple[Issue, ...]
    records: int
    register_entries: int
    notes: tuple[Issue, ...] = ()
    """What fsck says that is no fault of the store and needs nothing done: numbers missing from a
    register because a restore found them given to documents its copy does not hold
    (:data:`NUMBERS_LOST_IN_BACKUP`, m64). They do not make the report unclean."""

    @property
    def clean(self) -> bool:
        return not self.issues

    @property
    def unrepaired(self) -> tuple[Issue, ...]:
        """The issues fsck fails on: neither repaired nor acknowledged by a person (m65)."""
        return tuple(i for i in self.issues if not i.repaired and i.acknowledged is None)

    @property
    def acknowledged(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.acknowledged is not None)


def _age_seconds(record_id: str) -> float:
    """Age of a record id: its first 12 hex digits are the milliseconds of the wall clock that
    minted it (:func:`~repository.records.new_record_id`), so its age is told by that clock.
    Every time Kho *stores* (a claim's ``at``, an event's, an account change's) is the
    repository's clock, and is measured by ``repo.clock`` (:func:`fsck`)."""
    try:
        millis = int(record_id[:12], 16)
    except ValueError:
        return float("inf")
    return utcnow().timestamp() - millis / 1000


def _in_flight(record_id: str, grace_seconds: float) -> bool:
    """Whether the creation of ``record_id`` may still be under way, so that nothing of it (its
    original, its guards, its key: a key removed is its record shredded for ever) is touched.
    Its age is told by the clock of the host that minted the id (:func:`_age_seconds`), which
    may lag this one by up to :data:`~kho.process.CLOCK_SKEW_SECONDS` (the skew a live writer
    of the store may have): a writer ten minutes behind mints ids that look ten minutes old
    while its key and original are landing (review rv43: a repair destroyed such a writer's key
    and original, and the writer then committed a record nobody can read). So a creation is
    past the grace only when it is past it by every clock a live writer may have.
    ``grace_seconds`` 0: the caller knows no creation is under way (a store no process
    writes), and no margin is added. An id dated further ahead of this clock than that skew was
    not minted by a live writer (as a claim dated so, :func:`kho.process.claim_state`): a forged
    or garbled id, past the grace — before review rv46 one dated in 2100 stayed "in flight", so
    never reported nor cleaned."""
    margin = CLOCK_SKEW_SECONDS if grace_seconds > 0 else 0.0
    age = _age_seconds(record_id)
    return -CLOCK_SKEW_SECONDS <= age < grace_seconds + margin


def _scrub_in_flight(staged: ObjectInfo, store: ObjectStore, grace_seconds: float, running: bool) -> bool:
    """Whether the scrub that wrote ``staged`` (its copy of a job, ``ingest/scrub/…``) may still
    be running (m62: ``kho fsck`` beside a running scrub named the job it was rewriting): only
    while a scrub holds a live lease (``running``, :func:`repository.ingest_jobs.scrub_running`),
    and only for a copy written less than ``grace_seconds`` ago by the store's own clock
    (:meth:`ObjectStore.first_age`, its oldest version: no clock-skew margin is needed, and the
    same bytes written again over it do not make it younger, rv65). A scrub holds its copy for the
    milliseconds of one job's removal and write, so one older than the grace is a stopped run's
    even beside a live one (a lease kept alive by hand hides a copy no longer than that). No
    live lease: a stopped run's at once (review rv64: a scrub killed on S3 was named only after
    the grace and the 15 min skew margin, up to 20 min). Grace 0: not in flight. A copy gone
    meanwhile: its scrub finished it."""
    if grace_seconds <= 0 or not running:
        return False
    try:
        return store.first_age(staged.key) < grace_seconds  # (its first write: rv65)
    except NotFound:
        return True


def creation_in_flight(
    age_seconds: float, grace_seconds: float, writer: object, *, here: str, alive: Callable[[int], bool]
) -> bool:
    """Past the in-flight grace (:func:`_in_flight` said no), may the creation whose catalog
    marker names ``writer`` still be committed by it? Only a writer that can be asked (this
    machine, :func:`kho.process.writer_alive`) and is alive, for at most
    :data:`LIVE_WRITER_HOLD_SECONDS`; grace 0 says no creation is under way (pure, given
    ``alive``)."""
    if grace_seconds <= 0 or not isinstance(writer, Mapping):
        return False
    if not 0 <= age_seconds < LIVE_WRITER_HOLD_SECONDS:
        return False
    return writer_alive(writer.get("pid"), writer.get("host"), here=here, alive=alive)


def _marker_writer(store: ObjectStore, record_id: str) -> object:
    """The ``writer`` a record's catalog marker names (None: none, or no readable marker)."""
    try:
        marker = formats.loads(formats.CATALOG_MARKER.name, store.get(f"catalog/records/{record_id}"))
    except (KhoError, ValueError):
        return None
    return marker.get("writer") if isinstance(marker, Mapping) else None


def _age_text(seconds: float | None) -> str:
    if seconds is None:
        return "không rõ từ bao giờ"
    if seconds < 0:  # dated ahead of this clock (kho.process.CLOCK_SKEW_SECONDS)
        return f"ghi thời điểm {_duration(-seconds)} sau giờ hiện tại"
    return f"giữ từ {_duration(seconds)} trước"


def _duration(seconds: float) -> str:
    """A span as an operator reads it: minutes under two hours, hours under two days, else days."""
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // 1440} ngày"


def _left_claim(
    holder: Mapping[str, Any],
    *,
    done: bool,
    now: datetime,
    grace_seconds: float,
    opening: Callable[[str, str], str],
    told: Mapping[str, str],
) -> tuple[str, str, dict[str, Any]] | None:
    """(state, message, details) of a claim an act left behind (:func:`claim_state`); None while
    the act may still run. ``opening(record id, holder)``: what the claim is; ``told``: by state
    (finished, abandoned, unknown), what follows it. The shape every left claim is reported in."""
    age = claim_age(holder, now)
    state = claim_state(
        holder, done=done, age_seconds=age, here=this_host(), alive=process_alive, grace_seconds=grace_seconds
    )
    if state == CLAIM_RUNNING:
        return None
    host, pid = holder.get("host"), holder.get("pid")
    process = pid if pid is not None else "?"
    who = f"máy {str(host or '?').split('/', 1)[0]}, tiến trình {process}, {_age_text(age)}"
    record_id = str(holder.get("record_id"))
    details = {
        "record_id": record_id,
        "host": host,
        "pid": pid,
        "age_seconds": None if age is None else int(age),
        "state": state,
    }
    return state, f"{opening(record_id, who)}{told[state]}", details


def _destruction_claim_issue(
    key: str, holder: Mapping[str, Any], *, destroyed: bool, now: datetime, grace_seconds: float
) -> tuple[str, str, dict[str, Any]] | None:
    """(state, message, details) of a destruction claim left behind; None while it may run."""
    decision = holder.get("decision")
    which = f"theo quyết định “{decision}”" if decision else "(khóa cũ không ghi quyết định hủy)"
    left = _left_claim(
        holder,
        done=destroyed,
        now=now,
        grace_seconds=grace_seconds,
        opening=lambda record_id, who: f"Khóa hủy {key} của việc hủy bản ghi {record_id} {which} ({who})",
        told={
            CLAIM_FINISHED: " còn sót: bản ghi đã có dòng “đã hủy”; xóa khóa.",
            CLAIM_ABANDONED: " còn sót: tiến trình đó đã dừng khi việc hủy chưa xong; xóa khóa, rồi chạy"
            " tiếp việc hủy (kho archive destruction execute) hoặc để bản ghi được phong tỏa.",
            CLAIM_UNKNOWN: ": không biết việc hủy trên máy đó còn chạy hay không; khóa này từ chối mọi lệnh"
            " phong tỏa bản ghi. Chạy tiếp việc hủy (kho archive destruction execute), hoặc khi tiến"
            " trình đó đã dừng, chạy “kho fsck --repair” trên máy đó. Không tự xóa.",
        },
    )
    if left is None:
        return None
    state, message, details = left
    return state, message, {**details, "decision": decision}


def _submission_claim_issue(
    key: str, holder: Mapping[str, Any], *, submitted: bool, now: datetime, grace_seconds: float
) -> tuple[str, str, dict[str, Any]] | None:
    """(state, message, details) of a nộp lưu's ``claims/submitting/<hồ sơ>`` left behind (review
    r32: it was never reported); None while the hand-over may run. ``submitted``: the hồ sơ's
    version in :data:`~repository.records.ARCHIVE_STATES` is written."""
    return _left_claim(
        holder,
        done=submitted,
        now=now,
        grace_seconds=grace_seconds,
        opening=lambda record_id, who: f"Khóa nộp lưu {key} của hồ sơ {record_id} ({who})",
        told={
            CLAIM_FINISHED: " còn sót: hồ sơ đã nộp lưu; xóa khóa.",
            CLAIM_ABANDONED: " còn sót: tiến trình đó đã dừng trước khi hồ sơ được nộp lưu; xóa khóa (hồ"
            " sơ giữ trạng thái trước đó và nộp lưu lại được).",
            CLAIM_UNKNOWN: ": không biết việc nộp lưu trên máy đó còn chạy hay không. Quá thời gian chờ,"
            " khóa không còn chặn việc thu hồi văn bản hay nộp lưu lại; khi tiến trình đó đã dừng,"
            " chạy “kho fsck --repair” trên máy đó. Không tự xóa.",
        },
    )


def _handed_over(repo: Repository, file_id: str) -> bool:
    """Is hồ sơ ``file_id``'s newest version in :data:`ARCHIVE_STATES` (False when unreadable)?"""
    try:
        return repo._load(file_id).state in ARCHIVE_STATES
    except (KhoError, KeyError, ValueError):
        return False


def _floor_seal_problem(repo: Repository, key: str, floor: RegisterFloor) -> str | None:
    """Why a register floor is not taken as a restore's, or None. With the seal key, a restore
    seals the floor it writes (bound to its key): one whose seal does not check was written by a
    writer of the store without KHO_MASTER_KEY (or moved from another register's key), and its
    numbers explain no gap (rv63: a planted floor naming a deleted document's number turned the
    gap into a note). One read more per floor, only with a key."""
    if not repo.audit.sealer.active:
        return None
    try:
        data = repo.store.get(key)
    except KhoError:
        data = b""
    if floor_sealed(repo.audit.sealer, key, data):
        return None
    return (
        f"Mốc số của {series_label(floor.series)} ({floor.series}) năm {floor.year} của cơ quan"
        f" {floor.organ_id} (các số {number_ranges(floor.numbers()) or '—'}) không mang dấu niêm phong"
        " hợp lệ: nó không do một lần khôi phục của Kho ghi ra (có thể do người ghi trực tiếp vào"
        f" kho); các số đó không được coi là đã cấp trước khi sao lưu. Sổ đang bỏ qua các số đến"
        f" {floor.number:02d}. Không sửa tự động: cần người kiểm tra."
    )


def _unloadable(key: str, label: str, exc: BaseException) -> Issue:
    reason = exc.message if isinstance(exc, KhoError) else f"{type(exc).__name__}: {exc}"
    code = f"[{exc.code}] " if isinstance(exc, KhoError) else ""
    return Issue("format", key, f"Không đọc được {label} “{key}”: {code}{reason}", False)


ACCOUNT_PREFIXES: tuple[tuple[str, formats.Kind], ...] = (
    ("catalog/unit-codes/", formats.UNIT_CODE),
    ("units/", formats.UNIT),
    ("accounts/", formats.ACCOUNT),
    ("token-index/", formats.TOKEN_INDEX),
    ("notifications/", formats.NOTIFICATION),
)
"""Objects of :mod:`repository.accounts`, by prefix (``tokens/`` is told apart by file name)."""


def _account_kind(key: str) -> formats.Kind | None:
    if key.startswith("tokens/"):
        return formats.TOKEN_REVOCATION if key.endswith(".revoked.json") else formats.TOKEN
    return next((kind for prefix, kind in ACCOUNT_PREFIXES if key.startswith(prefix)), None)


def _load_account_object(key: str, kind: formats.Kind, raw: bytes) -> None:
    """Read an object of :mod:`repository.accounts` the way the account service does, and check
    that a version holds what its key names."""
    data = formats.loads(kind.name, raw)
    parts = key.split("/")
    held: tuple[object, ...] | None = None
    if kind is formats.UNIT:
        unit = Unit.from_dict(data)
        held, named = (unit.unit_id, unit.version), (parts[1], int(parts[2].removeprefix("v")))
    elif kind is formats.ACCOUNT:
        account = Account.from_dict(data)
        held, named = (account.username, account.version), (parts[1], int(parts[2].removeprefix("v")))
    elif kind is formats.NOTIFICATION:
        note = Notification.from_dict(data)
        held, named = (note.username,), (parts[1],)
    elif kind is formats.TOKEN:
        token = Token.from_dict(data)
        held, named = (token.digest,), (parts[1].removesuffix(".json"),)
    elif kind is formats.UNIT_CODE:
        if not isinstance(data.get("unit_id"), str):
            raise ValueError("the guard names no unit")
    else:  # token revocation, token index: the digest they are about
        held, named = (data["digest"],), (parts[-1].split(".")[0],)
    if held is not None and held != named:
        raise ValueError(f"the object holds {held}, its key names {named}")


def _load_object(repo: Repository, key: str) -> str | None:
    """Load the stored object at ``key`` the way its readers do; the label of its kind, or None
    for objects that are not JSON of a known kind (originals, links)."""
    store = repo.store
    parts = key.split("/")
    account_kind = _account_kind(key)
    if account_kind is not None:
        _load_account_object(key, account_kind, store.get(key))
        return account_kind.label
    if key.startswith("catalog/records/"):
        formats.loads(formats.CATALOG_MARKER.name, store.get(key))
        return formats.CATALOG_MARKER.label
    if key.startswith("catalog/agencies/"):
        formats.loads(formats.AGENCY.name, store.get(key))
        return formats.AGENCY.label
    if key.startswith("records/") and len(parts) == 3 and parts[2].startswith("v"):
        record_id, version = parts[1], int(parts[2][1:])
        record = repo._open_version(record_id, version, store.get(key))
        if (record.record_id, record.version) != (record_id, version):
            raise ValueError(f"the object holds {record.record_id} v{record.version}")
        return formats.RECORD.label
    if key.startswith("records/") and len(parts) == 4 and parts[2] == "derived":
        if formats.derived_kind(parts[3]) is None:
            return None
        formats.load_derived(repo.keys.open(parts[1], store.get(key), key), parts[3])
        return formats.KINDS[formats.DERIVED_KINDS[parts[3]]].label
    if key.startswith(FLOOR_PREFIX):
        RegisterFloor.from_json(store.get(key))
        return formats.REGISTER_FLOOR.label
    if key.startswith("registers/"):
        entry = RegisterEntry.from_json(store.get(key))
        sealed = base64.b64decode(entry.sealed_version)
        plain = repo.keys.open(entry.record_id, sealed, version_key(entry.record_id, entry.version))
        Record.from_dict(json.loads(plain))
        return formats.REGISTER_ENTRY.label
    if key.startswith(EVENTS_PREFIX):
        events = parse_object(store.get(key))
        return (formats.AUDIT_EVENT if len(events) == 1 else formats.AUDIT_BATCH).label
    if key.startswith(CHECKPOINTS_PREFIX):
        formats.loads(formats.AUDIT_CHECKPOINT.name, store.get(key))
        return formats.AUDIT_CHECKPOINT.label
    if key.startswith("retention/plans/"):
        formats.loads(formats.FILE_PLAN.name, store.get(key))
        return formats.FILE_PLAN.label
    if key.startswith("retention/schedule/"):
        formats.loads(formats.RETENTION_SCHEDULE.name, store.get(key))
        return formats.RETENTION_SCHEDULE.label
    if key.startswith("catalog/destroyed/"):
        formats.loads(formats.DESTROYED.name, store.get(key))
        return formats.DESTROYED.label
    if key == WITNESS_KEY:
        formats.loads(formats.WITNESS.name, store.get(key))
        return formats.WITNESS.label
    if key == INSTALLATION_KEY:
        parse_installation(store.get(key))  # a blank or malformed id: INSTALLATION_INVALID
        return formats.INSTALLATION.label
    if key.startswith(JOBS_PREFIX) and key.endswith(".json"):
        from ingest.status import JobStatus

        JobStatus.from_dict(json.loads(store.get(key)))
        return formats.JOB.label
    if key.startswith("claims/"):
        formats.loads(formats.CLAIM.name, store.get(key))
        return formats.CLAIM.label
    if key.startswith("workflow/") and len(parts) == 3:
        formats.loads(formats.WORKFLOW_STEP.name, repo.keys.open(parts[1], store.get(key), key))
        return formats.WORKFLOW_STEP.label
    if key.startswith("workflow-seen/") and len(parts) == 4:
        formats.loads(formats.WORKFLOW_SEEN.name, repo.keys.open(parts[1], store.get(key), key))
        return formats.WORKFLOW_SEEN.label
    if key.startswith("workflow-withheld/") and len(parts) == 3:
        formats.loads(formats.WORKFLOW_WITHHELD.name, repo.keys.open(parts[1], store.get(key), key))
        return formats.WORKFLOW_WITHHELD.label
    if key.startswith("saved-searches/"):
        formats.loads(formats.SAVED_SEARCH.name, store.get(key))
        return formats.SAVED_SEARCH.label
    if key.startswith("retention/recalls/") and len(parts) == 4:
        formats.loads(formats.RECALL.name, store.get(key))
        return formats.RECALL.label
    return None


CLAIM_REMOVED = "fsck:claim-removed"
"""The event of a claim or duplicate guard fsck removed (``stale-claim``, ``destruction-claim``,
``submission-claim``): ``details`` ``key``, ``issue``, ``named`` (the record it named; not the
event's ``record_id``: a stale guard's record was never committed, and an event naming a record
reads as its commit to step 3). Review rv55."""
GUARD_RESTORED = "fsck:guard-restored"
"""The event of a duplicate guard fsck wrote again for a live record (``guard-missing``):
``record_id`` that record, ``details`` ``key``, ``issue``. Review rv55."""


def _audit_repair(
    repo: Repository,
    action: str,
    key: str,
    issue: str,
    *,
    record_id: str | None = None,
    named: str | None = None,
) -> None:
    """One event per claim or guard a repair changed, naming it (after the change: a repair
    the store refused is no event)."""
    details: dict[str, Any] = {"key": key, "issue": issue}
    if named is not None:
        details["named"] = named
    repo.audit.append(FSCK.user, action, record_id=record_id, source=FSCK.source, details=details)


DUPLICATE_GUARD_PREFIXES = ("claims/sha256/", "claims/skh/")
"""The duplicate guards step 6b checks against the records: a file's SHA-256, a văn bản's
(số, ký hiệu, cơ quan ban hành, năm)."""


def _skh_keys(record: Record) -> set[str]:
    """The (số, ký hiệu, cơ quan, năm) guards ``record``'s metadata may hold: the current and the
    earlier formula, for each year a registration may have keyed it by (its ngày ban hành, its
    ngày đến, its register's year)."""
    md = record.metadata
    if not isinstance(md, DocumentMetadata):
        return set()
    years = {day.year for day in (md.issued_date, md.arrival_date) if day is not None}
    if record.registration is not None:
        years.add(record.registration.year)
    keys = {key for year in years for key in (duplicate_key(md, year), legacy_duplicate_key(md, year))}
    return {key for key in keys if key is not None}


def _holds_skh(repo: Repository, record: Record, guard: str) -> bool:
    """Does ``record`` hold the số/ký hiệu ``guard`` in any of its versions? The current one
    first; the earlier ones only when it does not (a correction keeps the guard it moved from
    when the year it keyed by changed; rare, so the walk is too)."""
    if guard in _skh_keys(record):
        return True
    for version in range(record.version - 1, 0, -1):
        try:
            if guard in _skh_keys(repo._load(record.record_id, version)):
                return True
        except Exception:  # an unreadable version is step 8's finding, not this one's
            continue
    return False


def _guard_issues(
    repo: Repository, loaded: Mapping[str, Record], guards: Mapping[str, str | None]
) -> Iterator[tuple[Issue, str, str | None]]:
    """Step 6b's findings, each with its guard and the record a repair would take it for (None:
    a person decides). Pure but for reads of guards the listing of step 4 did not see and of
    earlier versions of a record a số/ký hiệu guard does not match.

    - ``guard-missing`` (repairable): a live record's file has no SHA-256 guard and no other
      live record holds that file: the guard is taken for it (``put_if_absent``).
    - ``guard-conflict`` (never repaired): no guard, and two or more live records hold that
      file (a document registered again, whose first record's guard is gone): which one the
      guard should name is for a person.
    - ``guard-duplicate`` (never repaired): two or more live records hold one file and neither
      is a copy registered again (``registered_again_from``): a guard was missing or bypassed.
    - ``guard-wrong-record`` (never repaired): a guard names a live record that does not hold
      what it guards (a SHA-256 of a file it does not have; a số/ký hiệu it does not carry).
    A guard naming a destroyed or missing record is step 4's (``stale-claim``) or the
    destruction's, not reported here; a record's missing số/ký hiệu guard is step 9c's (a
    document registered again with a reason holds none, and the reason is in the log only)."""
    holders: dict[str, list[str]] = {}
    for record_id, record in loaded.items():
        for stored in record.files:
            holders.setdefault(stored.sha256, []).append(record_id)
    for sha256, records in sorted(holders.items()):
        guard = f"claims/sha256/{sha256}"
        if guard in guards:
            named = guards[guard]
        else:  # (taken after step 4's listing, or not listed: read it)
            try:
                named = formats.loads(formats.CLAIM.name, repo.store.get(guard))["record_id"]
            except NotFound:
                named = None
            except (KhoError, KeyError, ValueError, TypeError):
                continue  # unreadable: named by the format check
        if guard in guards and named is None:
            continue  # unreadable: step 4 named it
        details = {"guard": guard, "sha256": sha256, "records": sorted(records)}
        firsts = sorted(r for r in records if not loaded[r].extra.get("registered_again_from"))
        if len(firsts) > 1:
            # Stored twice, neither a copy registered again (ingest's re-sent document names its
            # first): what a missing or bypassed guard let in. Which one stays is for a person.
            yield (
                Issue(
                    "guard-duplicate",
                    guard,
                    f"{len(firsts)} bản ghi cùng giữ một tệp (SHA-256 {sha256}) mà không bản nào là bản"
                    f" vào sổ lại: {', '.join(firsts)}. Khóa chống trùng đã không chặn được; cần người"
                    " xem bản ghi nào giữ lại.",
                    False,
                    details={**details, "named": named},
                ),
                guard,
                None,
            )
            continue
        if named is None and len(records) == 1:
            yield (
                Issue(
                    "guard-missing",
                    guard,
                    f"Bản ghi {records[0]} thiếu khóa chống trùng SHA-256 của tệp của nó: một tệp giống"
                    " hệt có thể được lưu lần nữa. Ghi lại khóa cho bản ghi này.",
                    False,
                    True,
                    details={**details, "record_id": records[0]},
                ),
                guard,
                records[0],
            )
        elif named is None:
            yield (
                Issue(
                    "guard-conflict",
                    guard,
                    f"Thiếu khóa chống trùng SHA-256 {sha256} và {len(records)} bản ghi cùng giữ tệp đó"
                    f" ({', '.join(sorted(records))}): cần người xem bản ghi nào giữ khóa.",
                    False,
                    details=details,
                ),
                guard,
                None,
            )
        elif named in loaded and named not in records:
            yield (
                Issue(
                    "guard-wrong-record",
                    guard,
                    f"Khóa chống trùng SHA-256 {sha256} ghi bản ghi {named}, nhưng bản ghi đó không có tệp"
                    f" này (tệp thuộc {', '.join(sorted(records))}): cần người xem lại.",
                    False,
                    details={**details, "named": named},
                ),
                guard,
                None,
            )
    for guard, named in sorted(guards.items()):
        if named is None or named not in loaded:
            continue
        if guard.startswith("claims/sha256/"):
            sha256 = guard[len("claims/sha256/") :]
            if sha256 not in holders:  # (held by a live record: checked above)
                yield (
                    Issue(
                        "guard-wrong-record",
                        guard,
                        f"Khóa chống trùng SHA-256 {sha256} ghi bản ghi {named}, nhưng bản ghi đó không có"
                        " tệp này: cần người xem lại.",
                        False,
                        details={"guard": guard, "sha256": sha256, "records": [], "named": named},
                    ),
                    guard,
                    None,
                )
        elif not _holds_skh(repo, loaded[named], guard):
            yield (
                Issue(
                    "guard-wrong-record",
                    guard,
                    f"Khóa chống trùng số, ký hiệu {guard} ghi bản ghi {named}, nhưng số, ký hiệu, cơ quan"
                    " ban hành và năm của bản ghi đó không khớp khóa: cần người xem lại.",
                    False,
                    details={"guard": guard, "named": named},
                ),
                guard,
                None,
            )


def _skh_missing(
    loaded: Mapping[str, Record],
    guards: Mapping[str, str | None],
    created: set[str | None],
    reasoned: set[str],
) -> list[tuple[str, list[str]]]:
    """Step 9c (pure): the live records that took a số/ký hiệu guard when registered and hold
    none of the keys they may hold (:func:`_skh_keys`: any year, either formula, whoever it
    names), each with the key a create takes for it today (:func:`duplicate_key` of the year
    ``plan_registration`` keys by: its ngày ban hành, else its ngày đến). A record took one when
    it has a số, is not a văn bản đi numbered by a register (its số is the register's), and no
    event of its history registered it with a ``duplicate_reason`` (nor is it a copy registered
    again). A record without its creation event is step 9's (``unaudited``): not judged. Each
    key comes once, with the records that miss it (two: a pair a guard did not stop)."""
    out: dict[str, list[str]] = {}
    for record_id, record in sorted(loaded.items()):
        md = record.metadata
        if not isinstance(md, DocumentMetadata) or not md.code_number:
            continue
        if record_id not in created or record_id in reasoned or record.extra.get("registered_again_from"):
            continue
        if record.kind == "di" and record.registration is not None:
            continue  # numbered by its register
        if any(key in guards for key in _skh_keys(record)):
            continue
        day = md.issued_date or md.arrival_date
        key = duplicate_key(md, day.year) if day is not None else None
        if key is not None:
            out.setdefault(key, []).append(record_id)
    return sorted(out.items())


def _label_of(key: str) -> str:
    account_kind = _account_kind(key)
    if account_kind is not None:
        return account_kind.label
    for prefix, kind in (
        ("catalog/records/", formats.CATALOG_MARKER),
        ("catalog/agencies/", formats.AGENCY),
        ("registers/", formats.REGISTER_ENTRY),
        (FLOOR_PREFIX, formats.REGISTER_FLOOR),
        (EVENTS_PREFIX, formats.AUDIT_EVENT),
        (WITNESS_KEY, formats.WITNESS),
        (INSTALLATION_KEY, formats.INSTALLATION),
        (CHECKPOINTS_PREFIX, formats.AUDIT_CHECKPOINT),
        ("catalog/destroyed/", formats.DESTROYED),
        (JOBS_PREFIX, formats.JOB),
        ("claims/", formats.CLAIM),
        ("workflow/", formats.WORKFLOW_STEP),
        ("workflow-seen/", formats.WORKFLOW_SEEN),
        ("workflow-withheld/", formats.WORKFLOW_WITHHELD),
        ("saved-searches/", formats.SAVED_SEARCH),
        ("retention/recalls/", formats.RECALL),
    ):
        if key.startswith(prefix):
            return kind.label
    if "/derived/" in key:
        return formats.KINDS[formats.DERIVED_KINDS.get(key.rsplit("/", 1)[1], "derived-text")].label
    return formats.RECORD.label


def check_formats(repo: Repository) -> list[Issue]:
    """Open every stored object the way its readers do (record versions, register entries and
    the versions they carry, audit events, the witness, ingest jobs, derived JSON, catalog
    entries, duplicate guards, and the units, unit-code guards, accounts, tokens, token
    revocations, token index and notifications of :mod:`repository.accounts`); one ``format``
    issue per object that does not load, naming its key."""
    issues: list[Issue] = []
    for info in repo.store.list(""):
        try:
            _load_object(repo, info.key)
        except (KeyDestroyed, KeyUnwrapFailed):
            continue  # destroyed on purpose, or a key problem the key check names once
        except Exception as exc:  # every failure is reported; none stops the walk
            issues.append(_unloadable(info.key, _label_of(info.key), exc))
    return issues


def fsck(
    repo: Repository, *, repair: bool = False, deep: bool = False, grace_seconds: float = 300
) -> FsckReport:
    """Check everything against everything; no bad object stops the walk. Each issue names the
    object, its kind and whether ``repair`` mends it."""
    store = repo.store
    issues: list[Issue] = []
    now = repo.clock()  # the clock every stored time was written by (a claim's age, r29)

    # 0. The audit chain first, with its checkpoints: a chain with a finding fsck cannot mend
    # (events cut, changed, a witness deleted) is evidence for an auditor. Then nothing is
    # repaired but temp files (1): an appended event would chain after a cut end, and the
    # witness it moves would make the shortened history verify whole; the other repairs write
    # or delete objects (a record's key among them) of a store someone may have tampered with.
    chain: list[Issue] = []
    try:
        report = verify_anchored(repo.audit, repo.anchor)
    except KhoError as exc:
        report = repo.audit.verify()
        chain.append(
            Issue("checkpoint", "audit/checkpoints/", f"Không kiểm tra được điểm mốc: {exc.message}", False)
        )
    first_act = _first_act_without_witness(repo, report)
    chain.extend(  # findings an auditor acknowledged (kho audit acknowledge) no longer refuse
        Issue("audit", f"#{finding.seq}", finding.message, False)
        for finding in ([] if first_act else report.open_findings)
    )
    refused = REFUSED_CHAIN_BROKEN if chain else None
    mend = repair and refused is None
    if first_act:
        # The only finding is the missing witness (verify's "truncated" at #0), written first so
        # that the events restored below chain after a witnessed log.
        assert report.last_seq is not None and report.last_hash is not None
        if mend:
            repo.audit.restore_witness(report.last_seq, report.last_hash)
        chain.append(
            Issue(
                "witness-missing",
                WITNESS_KEY,
                "Nhật ký kiểm toán thiếu bản ghi chứng (witness): người ghi hành động đầu tiên của"
                f" nhật ký đã dừng trước khi ghi nó; ghi lại ở sự kiện #{report.last_seq}.",
                mend,
                True,
            )
        )

    def add(
        kind: str,
        subject: str,
        message: str,
        *,
        repairable: bool = False,
        details: Mapping[str, Any] | None = None,
        mended: bool = True,
    ) -> None:
        """``mended``: False when the repair ran and did not mend it (the issue stays open)."""
        why = refused if repairable else None
        shown = dict(details or {})
        issues.append(Issue(kind, subject, message, mend and repairable and mended, repairable, why, shown))

    # 1. Temp files of writers that died (never objects of the store, never read: a writer's
    # staged copy that was not linked into place). Removed even while the chain is broken.
    if isinstance(store, LocalStore):
        for path in store.stale_temp_files(older_than_s=grace_seconds):
            if repair:
                path.unlink(missing_ok=True)
            issues.append(Issue("temp-file", path.name, f"Tệp tạm còn sót: {path.name}.", repair, True))

    # 2. Register entries: roll forward, numbering has no gap and reaches every checkpointed head.
    # A gap of numbers a restore found given to documents its copy does not hold is no fault:
    # said, in the notes (m64).
    try:
        marker: bytes | None = store.get(RESTORING_KEY)
    except KhoError:  # NotFound: no restore under way or left (usual)
        marker = None
    if marker is not None:
        shown = restoring_shown(marker)
        if restoring_sealed(repo.audit.sealer, marker):
            add(RESTORE_UNFINISHED, RESTORING_KEY,
                f"Kho đang ở giữa một lần khôi phục từ bản sao lưu “{shown.get('backup_id', '?')}” (bắt đầu"
                f" {shown.get('started_at', '?')}, máy {shown.get('host', '?')},"
                f" tiến trình {shown.get('pid', '?')})."
                " Nếu lần khôi phục đó đã dừng giữa chừng, kho chỉ được khôi phục một phần và không cấp số"
                " đăng ký: hãy chạy lại lệnh khôi phục (kho restore --force) từ bản sao lưu đó.",
                details=shown)
        else:
            add(RESTORE_MARKER_FORGED, RESTORING_KEY,
                "Dấu “đang khôi phục” không mang dấu niêm phong hợp lệ: nó không do một lần khôi phục của"
                " Kho ghi ra (có thể do người ghi trực tiếp vào kho); việc cấp số không tuân theo nó."
                " Không sửa tự động: cần người kiểm tra rồi xóa nó.",
                details=shown)
    floors: dict[str, RegisterFloor] = {}
    for key, floor in repo.registers.restored_floors():
        if not isinstance(floor, RegisterFloor):
            issues.append(_unloadable(key, formats.REGISTER_FLOOR.label, floor))
        elif (problem := _floor_seal_problem(repo, key, floor)) is not None:
            add(FLOOR_UNEXPLAINED, key, problem, details={"prefix": floor.prefix, "numbers": floor.numbers(),
                                                          "floor": floor.number, "seal": "broken"})
        else:
            floors[floor.prefix] = floor
    entries = 0
    by_key: dict[str, RegisterEntry] = {}
    newest: dict[str, int] = {}
    last: tuple[str, int] | None = None
    for info in store.list("registers/"):
        entries += 1
        try:
            entry = RegisterEntry.from_json(store.get(info.key))
        except Exception as exc:  # every failure is reported; none stops the walk
            issues.append(_unloadable(info.key, formats.REGISTER_ENTRY.label, exc))
            continue
        by_key[info.key] = entry
        series = info.key.rsplit("/", 1)[0]
        newest[series + "/"] = max(newest.get(series + "/", 0), entry.number)
        expected = last[1] + 1 if last and last[0] == series else 1
        lost = set(floors[series + "/"].numbers()) if series + "/" in floors else set()
        missing = [n for n in range(expected, entry.number) if n not in lost]
        if entry.number != expected and (not lost or len(missing) == entry.number - expected):
            add(
                "register-gap",
                info.key,
                f"Sổ {series}: thiếu số từ {expected:02d} đến {entry.number - 1:02d}.",
            )
        elif missing:  # some of the missing numbers are explained by a restore, not these
            add("register-gap", info.key, f"Sổ {series}: thiếu số {number_ranges(missing)}.")
        last = (series, entry.number)
        if not store.exists(version_key(entry.record_id, entry.version)):
            try:
                if mend:
                    repo._materialise(entry)
                add(
                    "rolled-forward",
                    entry.record_id,
                    f"Văn bản số {entry.number:02d} ({series}) đã cấp số nhưng chưa ghi phiên bản"
                    " mang số đó: ghi bù từ sổ đăng ký.",
                    repairable=True,
                )
            except Exception as exc:
                issues.append(_unloadable(info.key, formats.REGISTER_ENTRY.label, exc))
    registered = {e.record_id for e in by_key.values()}
    notes: list[Issue] = []
    for prefix, floor in sorted(floors.items()):
        absent = [n for n in floor.numbers() if entry_key_in(prefix, n) not in by_key]
        if absent:
            notes.append(
                Issue(
                    NUMBERS_LOST_IN_BACKUP,
                    prefix,
                    floor_explained(floor, absent),
                    False,
                    details={
                        "organ_id": floor.organ_id,
                        "year": floor.year,
                        "series": floor.series,
                        **floor_numbers(floor, absent),
                    },
                )
            )
    try:
        heads = latest_register_heads(store, repo.anchor)
    except KhoError as exc:
        heads = {}
        add("checkpoint", "audit/checkpoints/", f"Không kiểm tra được đầu sổ theo điểm mốc: {exc.message}")
    for prefix, head in sorted(heads.items()):
        have = newest.get(prefix, 0)
        if have < head:
            add(
                "register-truncated",
                prefix,
                f"Sổ {prefix.rstrip('/')}: điểm mốc đã ký ghi nhận đến số {head:02d}, kho chỉ còn đến"
                f" số {have:02d}: các mục {have + 1:02d}–{head:02d} đã bị xóa.",
            )

    # 3. Records: committed, never committed (crash before the commit point), catalog markers.
    catalog = set(repo.record_ids())
    newest_stored: dict[str, int] = {}  # per record, its newest version in the store (step 14)
    for info in store.list("records/"):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2].startswith("v") and parts[2][1:].isdigit():
            newest_stored[parts[1]] = max(newest_stored.get(parts[1], 0), int(parts[2][1:]))
        newest_stored.setdefault(parts[1], 0)
    folders = set(newest_stored)
    destroyed = repo.destroyed_ids()
    committed: list[str] = []
    writing: set[str] = set()  # uncommitted, past the grace, their writer alive here
    for record_id in sorted(catalog | folders | registered | destroyed):
        if store.exists(version_key(record_id, 1)) or record_id in registered or record_id in destroyed:
            committed.append(record_id)
            if record_id not in catalog:
                if mend:
                    _restore_marker(repo, record_id)
                add(
                    "catalog-missing",
                    f"catalog/records/{record_id}",
                    f"Bản ghi {record_id} thiếu mục danh mục: ghi lại.",
                    repairable=True,
                )
            continue
        if _in_flight(record_id, grace_seconds):
            continue  # may still be in flight
        if record_id in catalog and creation_in_flight(
            _age_seconds(record_id),
            grace_seconds,
            _marker_writer(store, record_id),
            here=this_host(),
            alive=process_alive,
        ):
            writing.add(record_id)
            continue  # its writer runs on this machine: about to commit, not dead (rv50)
        held = [info.key for info in store.list(f"records/{record_id}/")]
        if held and all(f"records/{record_id}/derived/" in key for key in held):
            # Text, OCR or verdicts of a record that does not exist (e.g. a pipeline step that
            # finished after the record was removed): derived data of nothing.
            for key in held:
                if mend:
                    store.delete(key)
                add(
                    "derived-orphan",
                    key,
                    f"Dữ liệu dẫn xuất “{key}” thuộc bản ghi {record_id} không tồn tại: xóa.",
                    repairable=True,
                )
            if mend:
                repo.keys.destroy(record_id)
                store.delete(f"catalog/records/{record_id}")
            continue
        if mend:
            repo.remove_uncommitted(record_id)
        add(
            "uncommitted",
            record_id,
            f"Bản ghi {record_id} dở dang (chưa được xác nhận ghi): dọn bỏ.",
            repairable=True,
        )

    # 3b. Derived data of destroyed records: the text extracted from a destroyed original is
    # that original's content; it goes with it (the "đã hủy" row keeps no text).
    for record_id in sorted(destroyed):
        for info in list(store.list(f"records/{record_id}/derived/")):
            if mend:
                store.delete(info.key)
            add(
                "derived-orphan",
                info.key,
                f"Dữ liệu dẫn xuất “{info.key}” của bản ghi đã hủy {record_id} còn sót: xóa.",
                repairable=True,
            )

    # 3c. Keys no record names (m24): a creation writes its marker, key and original as one
    # step with none of them first, so one that stopped there may leave its key alone in the
    # key store, which neither the catalog nor the records' folders point at. Such a key is
    # removed past the in-flight grace period, as an uncommitted record is; never the key of a
    # record that committed (a marker, a folder, a register entry or a first version) or was
    # destroyed (its "đã hủy" row is written before its key is removed: a destroyed record's
    # key left behind is step 5's ``key-not-destroyed``), nor one whose record has a history
    # (committed: its key is what a restored copy of the record needs).
    known = catalog | folders | registered | destroyed
    for record_id in sorted(set(repo.keys.record_ids()) - known):
        if not is_record_id(record_id):
            continue  # not a key Kho makes (an operator's file): never removed (review rv43)
        if _in_flight(record_id, grace_seconds):
            continue  # may still be in flight
        if (
            store.exists(f"catalog/records/{record_id}")
            or store.exists(destroyed_key(record_id))
            or next(iter(store.list(f"records/{record_id}/")), None) is not None
        ):
            continue  # written since the listings above
        if repo.audit.record_events(record_id):
            # Committed (a creation event follows the commit point), not a creation that
            # stopped: never touched, and not reported here (a backup cut holds the events and
            # the key of a record made while the content store was being copied).
            continue
        if mend:
            repo.keys.destroy(record_id)
        add(
            "key-orphan",
            f"keys/{record_id}",
            f"Khóa của bản ghi {record_id} dở dang (chưa được xác nhận ghi, không còn gì khác): dọn bỏ.",
            repairable=True,
        )

    # 4a. Claim paths of the local store that are no claim file (review rv55): a folder or a
    # link where a guard's file belongs, a FIFO, a socket, a file that cannot be read. Each
    # refuses every create of its key at once (CLAIM_NOT_A_FILE); the listing below does not see
    # them. Never repaired: fsck did not write them, and a link may lead out of the store.
    if isinstance(store, LocalStore):
        for key, found in store.odd_claims():
            guard = key.startswith(DUPLICATE_GUARD_PREFIXES)
            what = "Khóa chống trùng" if guard else "Yêu cầu giữ chỗ"
            add(
                "guard-not-a-file" if guard else "claim-not-a-file",
                key,
                f"{what} “{key}” {found}, không phải tệp Kho đã ghi: mọi lần lưu nội dung mà nó giữ chỗ"
                " đều bị từ chối (CLAIM_NOT_A_FILE). fsck không sửa: cần người xem rồi xử lý bằng tay.",
                details={"key": key, "found": found},
            )

    # 4. Duplicate guards that point at nothing (a live record's guard is never stale).
    live = set(committed)
    guards: dict[str, str | None] = {}  # duplicate guard -> its record (None: unreadable), step 6b
    for info in list(store.list("claims/")):
        try:
            raw = store.get(info.key)
            rid = formats.loads(formats.CLAIM.name, raw)["record_id"]
        except NotFound:
            continue  # released or taken over meanwhile
        except ClaimNotAFile:
            continue  # (made so since the listing: the next run's 4a names it)
        except (KhoError, KeyError, ValueError, TypeError) as exc:
            issues.append(_unloadable(info.key, formats.CLAIM.label, exc))
            if info.key.startswith(DUPLICATE_GUARD_PREFIXES):
                guards[info.key] = None
            continue
        if info.key.startswith(DUPLICATE_GUARD_PREFIXES):
            guards[info.key] = rid
        if info.key.startswith(DESTROYING_PREFIX):
            left = _destruction_claim_issue(
                info.key,
                formats.loads(formats.CLAIM.name, raw),
                destroyed=rid in destroyed,
                now=now,
                grace_seconds=grace_seconds,
            )
            if left is None:
                continue  # a destruction that may be running: never reported, never cleared
            state, message, details = left
            clearable = state in (CLAIM_FINISHED, CLAIM_ABANDONED)
            taken = claim_body(rid, now)  # (removed only while it still holds what was read here)
            if mend and clearable and take_over_guard(store, info.key, raw, taken, now=now, replace=False):
                _audit_repair(repo, CLAIM_REMOVED, info.key, "destruction-claim", named=rid)
            add("destruction-claim", info.key, message, repairable=clearable, details=details)
            continue
        if info.key.startswith(SUBMITTING_PREFIX):
            left = _submission_claim_issue(
                info.key,
                formats.loads(formats.CLAIM.name, raw),
                submitted=_handed_over(repo, rid),
                now=now,
                grace_seconds=grace_seconds,
            )
            if left is None:
                continue  # a nộp lưu that may be running: never reported, never cleared
            state, message, details = left
            clearable = state in (CLAIM_FINISHED, CLAIM_ABANDONED)
            taken = claim_body(rid, now)  # (removed only while it still holds what was read here)
            if mend and clearable and take_over_guard(store, info.key, raw, taken, now=now, replace=False):
                _audit_repair(repo, CLAIM_REMOVED, info.key, "submission-claim", named=rid)
            add("submission-claim", info.key, message, repairable=clearable, details=details)
            continue
        if rid in live or rid in writing:
            continue
        if store.exists(version_key(rid, 1)) or _in_flight(rid, grace_seconds):
            continue
        # (a re-run may be taking the same guard over: only one of them removes it, and only
        # while it still holds what was read here)
        if mend and take_over_guard(store, info.key, raw, claim_body(rid, now), now=now, replace=False):
            _audit_repair(repo, CLAIM_REMOVED, info.key, "stale-claim", named=rid)
        add("stale-claim", info.key, f"Khóa chống trùng {info.key} không còn bản ghi.", repairable=True)

    # 5. Keys: present for every live record, gone for every destroyed one; a wrong master key
    # (every key fails to unwrap) is a configuration error, not damaged data.
    unwrap_failed: list[str] = []
    checked = 0
    for record_id in committed:
        if record_id in destroyed:
            if repo.keys.exists(record_id):
                add("key-not-destroyed", f"keys/{record_id}", f"Bản ghi {record_id} đã hủy nhưng khóa còn.")
            continue
        if not repo.keys.exists(record_id):
            add(
                "key-missing",
                f"keys/{record_id}",
                f"Khóa mã hóa của bản ghi {record_id} bị mất (bản ghi chưa hủy): nội dung không đọc được.",
            )
            continue
        checked += 1
        try:
            repo.keys.get(record_id)
        except KeyUnwrapFailed:
            unwrap_failed.append(record_id)
    if unwrap_failed and len(unwrap_failed) == checked and checked > 1:
        add(
            "master-key",
            "KHO_MASTER_KEY",
            f"Không khóa nào trong {checked} khóa mở được bằng KHO_MASTER_KEY đang cấu hình: sai khóa chủ"
            " (cấu hình), dữ liệu không hỏng.",
        )
    else:
        for record_id in unwrap_failed:
            add("key-corrupt", f"keys/{record_id}", f"Khóa của bản ghi {record_id} bị hỏng (không mở được).")
    bad_keys = set(unwrap_failed)

    # 6. Every register entry against its record's registration, and back.
    loaded: dict[str, Record] = {}
    for record_id in committed:
        if record_id in destroyed or record_id in bad_keys or not repo.keys.exists(record_id):
            continue
        try:
            record = repo._load(record_id)
        except Exception as exc:
            versions = repo._versions(record_id) or [1]
            issues.append(_unloadable(version_key(record_id, versions[-1]), formats.RECORD.label, exc))
            continue
        loaded[record_id] = record
        reg = record.registration
        if reg is None:
            continue
        key = entry_key(reg.organ_id, reg.year, reg.series, reg.number)
        entry = by_key.get(key)
        if entry is None or entry.record_id != record_id:
            held = "không có mục đó" if entry is None else f"mục đó thuộc {entry.record_id}"
            add(
                "register-mismatch",
                record_id,
                f"Bản ghi {record_id} mang số {reg.number:02d} ({reg.series}, {reg.year}) nhưng sổ {held}.",
            )
    for key, entry in by_key.items():
        record = loaded.get(entry.record_id)
        if record is None:
            continue
        reg = record.registration
        if reg is None or entry_key(reg.organ_id, reg.year, reg.series, reg.number) != key:
            held = "không mang số nào" if reg is None else f"mang số {reg.number:02d} ({reg.series})"
            add(
                "register-mismatch",
                key,
                f"Mục sổ số {entry.number:02d} ({entry.series}) ghi bản ghi {entry.record_id}, nhưng bản"
                f" ghi đó {held}.",
            )

    # 6b. Duplicate guards against the records (review rv53): every file of a live record is
    # guarded by its SHA-256, and a guard names a record that holds what it guards. A guard
    # gone (a companion bucket emptied by hand, a guard deleted) let a second record of the same
    # file in, and fsck was clean; so was a guard naming another record (a forged claim).
    for issue, guard, record_id in _guard_issues(repo, loaded, guards):
        if mend and issue.repairable and record_id is not None:
            try:
                store.put_if_absent(guard, claim_body(record_id, now))
            except AlreadyExists:  # taken since it was read: by whom is the next run's to say
                add(issue.kind, issue.subject, issue.message + " Khóa vừa được ghi: chạy lại fsck.")
                continue
            _audit_repair(repo, GUARD_RESTORED, guard, issue.kind, record_id=record_id)
        add(issue.kind, issue.subject, issue.message, repairable=issue.repairable, details=issue.details)

    # 7. Fixity of every original (deep).
    if deep:
        for record_id, record in loaded.items():
            for stored in record.files:
                key = content_key(record_id, stored.sha256)
                try:
                    data = repo.keys.open(record_id, store.get(key), key)
                    if hashlib.sha256(data).hexdigest() != stored.sha256:
                        raise IntegrityError("digest mismatch")
                except (IntegrityError, NotFound):
                    add(
                        "fixity",
                        key,
                        f"Tệp gốc “{stored.original_name}” của {record_id} bị thay đổi hoặc"
                        " mất (không khớp SHA-256).",
                    )
                except KhoError as exc:
                    issues.append(_unloadable(key, "tệp gốc", exc))

    # 8. Every stored object loads in the formats this code reads (deep).
    if deep:
        orphans = {i.subject for i in issues if i.kind == "derived-orphan"}  # named once, above
        issues.extend(i for i in check_formats(repo) if i.subject not in orphans)

    # 9. Audit: every committed record has its creation event (the chain was checked at 0).
    creations = CREATION_EVENTS
    created: set[str | None] = set()
    audited: set[object] = set()  # the objects of accounts, units and tokens events name
    named_objects: dict[str, tuple[set[str], str]] = {}  # the same: their actions, when (step 15)
    born: set[object] = set()  # the accounts and tokens whose creation events are in the log
    hold_events: dict[str, list[AuditEvent]] = {}  # per record, the events that place or lift a hold
    named_versions: dict[str, tuple[int, str]] = {}  # per record, the highest version events name, when
    withheld_events: dict[tuple[str, int], AuditEvent] = {}  # (record, step): its withheld event
    reasoned: set[str] = set()  # records an event registered with a duplicate_reason (step 9c)
    assigned: list[NumberGiven] = []  # what the register:assign events say was given (step 9d)
    decided: dict[tuple[str, str, str], FsckAcknowledgement] = {}  # a person's decisions (m65)
    indexed = _IndexDigests.of(repo)  # step 9b
    sealing = [False]  # an event whose seal checks came before (step 0 names the others)
    floor = repo.audit.sealed_floor()  # sealed from there on, a signed checkpoint says (rv22)
    for info in store.list(EVENTS_PREFIX):
        home = listed_seq(info.key)
        if home is None:
            continue  # not an event key: the chain check (0) names it; its events count for nothing
        try:
            events = parse_object(store.get(info.key))  # one event, or a batch's
        except (KhoError, ValueError, TypeError):
            continue  # reported by the chain check (0)
        if indexed is not None:
            indexed.note(home, events)
        kept = {id(e) for e in sealed_events(repo.audit.sealer, events, sealing, floor)}
        for event in events:  # a placement counts untrusted, a release only trusted (fail closed, rv22)
            if event.record_id and (
                event.action in HOLD_PLACED or (event.action == "hold:release" and id(event) in kept)
            ):
                hold_events.setdefault(event.record_id, []).append(event)
        events = [e for e in events if id(e) in kept]  # repairs act on these only
        for event in events:  # (a decision counts only sealed, as what the repairs act on)
            decision = fsck_acknowledgement(event)
            if decision is not None:
                decided.setdefault((decision.kind, decision.subject, decision.digest), decision)
        for event in events:
            if event.record_id and event.action == WITHHELD_ACTION:
                for seq in event.details.get("seqs") or ():
                    if isinstance(seq, int):
                        withheld_events[(event.record_id, seq)] = event
            if event.record_id and isinstance(event.version, int):
                named = named_versions.get(event.record_id, (0, event.at))
                if event.version > named[0]:
                    named_versions[event.record_id] = (event.version, event.at)
        created.update(event.record_id for event in events if event.action in creations)
        audited.update(event.details.get("object") for event in events)
        for event in events:
            named = event.details.get("object")
            if (
                isinstance(named, str)
                and named.startswith(AUDITED_PREFIXES)
                and event.action.startswith(RESTORABLE_ACTIONS)
            ):
                actions, _ = named_objects.setdefault(named, (set(), event.at))
                actions.add(event.action)
        born.update(_creation_named(event) for event in events)
        for event in events:
            if event.action != ASSIGN_ACTION:
                continue
            given = number_given_in(event.details, event.record_id, event.seq)
            if given is not None:
                assigned.append(given)
        reasoned.update(  # (step 9c: registered again with a reason, so no số/ký hiệu guard)
            event.record_id for event in events if event.record_id and event.details.get("duplicate_reason")
        )
    for record_id in committed:
        if record_id not in created:
            if mend:
                restore_creation_event(
                    store,
                    repo.audit,
                    FSCK,
                    record_id,
                    "committed before the writer stopped; event restored by fsck",
                    now=now,
                )
            add(
                "unaudited",
                record_id,
                f"Bản ghi {record_id} thiếu sự kiện tạo lập trong nhật ký: ghi bổ sung.",
                repairable=True,
            )
    # 9d. No number is given to two records in one register (m61): from the events read above
    # and the entries of step 2; no read more but two or three per record such a finding names
    # that is absent from the listings (to say whether it committed since).
    for kind, subject, message, details in _numbers_given_issues(repo, assigned, by_key, set(committed)):
        add(kind, subject, message, details=details)
    # A register floor (m64) says numbers were given by events of the log: each must be, or the
    # floor was not written by a restore as it is (a store writer's: it makes the register skip).
    for prefix, floor in sorted(floors.items()):
        said = {(g.number, g.record_id, g.seq) for g in assigned
                if (g.year, g.series) == (floor.year, floor.series) and g.organ_id in (None, floor.organ_id)}
        unbacked = [x.number for x in floor.lost if (x.number, x.record_id, x.seq) not in said]
        if floor.number > max(floor.numbers(), default=0):
            unbacked.append(floor.number)
        if unbacked:
            add(
                FLOOR_UNEXPLAINED,
                floor.key,
                f"Mốc số của {series_label(floor.series)} ({floor.series}) năm {floor.year} của cơ quan"
                f" {floor.organ_id} ghi các số {number_ranges(unbacked)} là đã cấp, nhưng nhật ký kiểm toán"
                " không có sự kiện cấp số tương ứng: mốc này không do một lần khôi phục ghi ra như vậy (có"
                f" thể đã bị sửa); sổ đang bỏ qua các số đến {floor.number:02d}. Không sửa tự động: cần"
                " người kiểm tra.",
                details={"prefix": prefix, "numbers": sorted(set(unbacked)), "floor": floor.number},
            )
    # 9c. Every văn bản that took a số/ký hiệu guard still has one (review rv55). Whether it took
    # one is decided from what is stored (its metadata: a số, not numbered by a register of văn
    # bản đi) and from its history (no registration with a duplicate_reason, which takes none).
    for key, holders in _skh_missing(loaded, guards, created, reasoned):
        if key in guards or store.exists(key):
            continue  # (taken after step 4's listing)
        if len(holders) > 1:  # which one the guard should name is for a person
            add(
                "guard-conflict",
                key,
                f"Thiếu khóa chống trùng số, ký hiệu {key} và {len(holders)} bản ghi cùng số, ký hiệu, cơ"
                f" quan ban hành và năm, không bản nào vào sổ lại có lý do ({', '.join(holders)}): cần"
                " người xem bản ghi nào giữ khóa.",
                details={"guard": key, "records": holders},
            )
            continue
        (record_id,) = holders
        repaired_message = ""
        if mend and refused is None:
            try:
                store.put_if_absent(key, claim_body(record_id, now))
            except AlreadyExists:
                repaired_message = " Khóa vừa được ghi: chạy lại fsck."
            else:
                _audit_repair(repo, GUARD_RESTORED, key, "guard-missing", record_id=record_id)
        message = (
            f"Bản ghi {record_id} thiếu khóa chống trùng số, ký hiệu ({key}): một văn bản cùng số, ký"
            " hiệu, cơ quan ban hành và năm có thể được vào sổ lần nữa. Ghi lại khóa cho bản ghi này."
        )
        if repaired_message:
            add("guard-missing", key, message + repaired_message)
            continue
        add(
            "guard-missing",
            key,
            message,
            repairable=True,
            details={"guard": key, "record_id": record_id, "records": [record_id]},
        )
    # 9b. The by-record index of the log (``<data>/audit-index.sqlite``, derived, outside the
    # store) holds every event of the log below its ``next_seq``, as the log does: a row deleted
    # by a hand in the data folder hides an act from the record's history page, and a hold's
    # row deleted with its hold object lets a destruction through (review rv19). Rebuilt by
    # the repair (as ``kho reindex`` does).
    # The secrecy map too: each row it answers against the record (review rv23).
    index_problem = _index_problem(repo, indexed) if indexed is not None else None
    if indexed is not None and index_problem is not None:
        if mend:
            repo.audit.rebuild_index()
        add("audit-index", str(indexed.index.path), index_problem, repairable=True)
    # 10. Every change of an account, unit or token has its events: the object carries them
    # (``AccountService._write_audited``), so those of a writer that died between the two writes,
    # or of a lock made while the log refused, are appended from it. By fsck, naming the actor
    # the object names (``recorded_actor``): one who can write the store could have written it.
    sealer = Sealer.from_master_key(repo.keys.master_key)
    stored = list(_account_objects(store, audited, sealer))
    for item in stored:  # 10a. The objects that grant power carry a seal only Kho can make.
        if item.seal_broken:
            add(
                "seal",
                item.key,
                f"“{item.key}” (định dạng {item.written_in}) không mang dấu xác thực hợp lệ của Kho"
                " (KHO_MASTER_KEY): không do Kho ghi, hoặc đã bị sửa trong kho lưu trữ. Kho từ chối"
                " dùng nó; không ghi bổ sung sự kiện nào từ nó, cần kiểm tra.",
            )
    downgraded = list(_downgraded(store, stored))  # step 11's, before: evidence, nothing appended from it
    suspect = {key for key, _ in downgraded} | {item.key for item in stored if item.seal_broken}
    for item in stored:  # 10b. With a master key, an unsealed version's events are not appended.
        if item.unsealed and item.missing and item.key not in suspect:
            suspect.add(item.key)
            add(
                "unaudited",
                item.key,
                f"“{item.key}” (định dạng {item.written_in}, chưa niêm phong) mang sự kiện nhật ký mà"
                " nhật ký kiểm toán không có: có thể do ai đó ghi thẳng vào kho lưu trữ. Không ghi bổ"
                " sung; “kho account seal” không niêm phong nó; cần kiểm tra.",
            )
    for key, drafts, changed in _changes_with_events(item for item in stored if item.key not in suspect):
        if changed is not None and 0 <= (now - changed).total_seconds() < grace_seconds:
            continue  # its writer may be between its two writes: not a dead writer's (yet)
        foreign = sorted(
            {
                d.action
                for d in drafts
                if not d.action.startswith(RESTORABLE_ACTIONS) or (d.details or {}).get("object") != key
            }
        )
        if foreign:  # not what Kho writes with this object: evidence, not something to append
            add(
                "unaudited",
                key,
                f"Đối tượng “{key}” mang sự kiện nhật ký mà Kho không ghi kèm nó ({', '.join(foreign)}):"
                " không ghi bổ sung; ai đó đã ghi thẳng vào kho lưu trữ, cần kiểm tra.",
            )
            continue
        if mend:
            restored = [
                EventDraft(
                    FSCK.user,
                    d.action,
                    source=FSCK.source,
                    details={
                        **(d.details or {}),
                        "restored_by": FSCK.user,
                        "recorded_actor": d.actor,
                        # the change's own time beside the event's (fsck's): review r14 item 3
                        **({"recorded_at": to_iso_utc(changed)} if changed is not None else {}),
                    },
                )
                for d in drafts
            ]
            repo.audit.append_many(restored)
        actions = ", ".join(d.action for d in drafts)
        add(
            "unaudited",
            key,
            f"Thay đổi “{key}” đã ghi nhưng thiếu sự kiện nhật ký ({actions}): ghi bổ sung từ chính"
            " đối tượng đó.",
            repairable=True,
        )
    # 11. No version of an account or unit is in an older format than a version before it (Kho
    # versions of the object, and the store's versions of its newest key): a downgrade is
    # written by no Kho (formats.downgrades), only by a hand in the store, and an old format
    # carries no ``audit``, so step 10 would take it for a change made before the format.
    # Evidence: never repaired; the account's reads refuse it while it is the newest
    # (AccountService: ACCOUNT_DOWNGRADED).
    for key, message in downgraded:
        add("downgraded", key, message)
    # The log names the object as written with its events (step 9), yet it holds a format that
    # carries none: written over since, its store versions deleted too or not (review r18: the
    # checks above see only what the store kept).
    for item in stored:
        since = EVENTS_CARRIED_SINCE.get(item.kind.name)
        if since is not None and item.written_in < since and item.key in audited:
            add(
                "downgraded",
                item.key,
                f"Nhật ký kiểm toán ghi “{item.key}” là đối tượng Kho đã ghi cùng sự kiện nhật ký (định"
                f" dạng {since} trở lên), nhưng nó đang theo định dạng {item.written_in}: đã bị ghi đè"
                " bằng định dạng cũ (hạ cấp). Không sửa tự động; cần kiểm tra ai đã ghi thẳng vào kho"
                " lưu trữ.",
            )
    # 12. An account's first version or a token of a format that carries no events was made
    # before x1 by a Kho that appended its creation event right after it: without that event
    # in the log it was written by a hand in the store (a new quản trị, a token for one: no
    # downgrade, nothing for the steps above to see), or its writer died between the two
    # writes. Evidence either way: never repaired (review r18).
    for item in stored:
        since = EVENTS_CARRIED_SINCE.get(item.kind.name)
        named = _creation_of(item.key, item.kind)
        if since is None or item.written_in >= since or named is None or named in born:
            continue
        add(
            "unaudited",
            item.key,
            f"“{item.key}” theo định dạng {item.written_in} (không mang sự kiện nhật ký) mà nhật ký"
            " kiểm toán không có sự kiện tạo lập nó (account:create / account:token-issue): có thể"
            " đã bị ghi thẳng vào kho lưu trữ (hoặc tiến trình tạo nó đã dừng giữa hai lần ghi)."
            " Không ghi bổ sung; cần kiểm tra.",
        )
    for item in stored:  # the same change in a format that carries its events, the field left out
        if item.no_events:
            add(
                "unaudited",
                item.key,
                f"Đối tượng “{item.key}” theo định dạng {item.written_in} nhưng không mang sự kiện nhật"
                " ký như mọi đối tượng Kho ghi theo định dạng đó: không phần mềm Kho nào ghi như vậy;"
                " không ghi bổ sung, cần kiểm tra ai đã ghi thẳng vào kho lưu trữ.",
            )
    # 13. Every hold the log placed and did not release is in the store: a hold object gone
    # without a ``hold:release`` was deleted by a hand in the store (the record could then be
    # changed or destroyed). Evidence: never repaired; destruction refuses it (HOLD_MISSING).
    stored_holds = {info.key for info in store.list(HOLD_PREFIX)}
    for record_id, placed in sorted(hold_events.items()):
        for hold_id in sorted(holds_open_in(placed)):
            if hold_key(record_id, hold_id) not in stored_holds:
                add(
                    "hold-missing",
                    hold_key(record_id, hold_id),
                    f"Nhật ký kiểm toán ghi lệnh phong tỏa/thu hồi “{hold_id}” trên “{record_id}” chưa"
                    " được gỡ, nhưng kho lưu trữ không còn nó: có thể đã bị xóa thẳng trong kho. Không"
                    " sửa tự động; cần kiểm tra (việc hủy tài liệu này bị từ chối).",
                )
    # 14. No record is older in the store than in its history: the log names every version an
    # act made or read (event.version); a newest version below the highest one named was
    # deleted (a record rolled back to an earlier version, its change undone without an
    # event). Evidence: never repaired (review z3).
    for record_id in committed:
        if record_id in destroyed or record_id not in named_versions:
            continue
        named, at = named_versions[record_id]
        stored_version = newest_stored.get(record_id, 0)
        if stored_version >= named or 0 <= (now - parse_iso(at)).total_seconds() < grace_seconds:
            continue
        add(
            "rolled-back",
            version_key(record_id, named),
            f"Nhật ký kiểm toán ghi phiên bản {named} của bản ghi {record_id} ({at}) nhưng kho lưu trữ"
            f" chỉ còn đến phiên bản {stored_version}: các phiên bản sau đã bị xóa (bản ghi bị đưa về"
            " phiên bản cũ mà không có sự kiện nào). Không sửa tự động; cần kiểm tra và khôi phục từ"
            " bản sao lưu.",
        )
    # 15. Every account, unit and token object an event names as written with it is in the
    # store: Kho never deletes one (a change is a new version, a revocation a new object), so
    # one gone was deleted by a hand in the store: an account's newest version (its lock, its
    # roles taken away) or a token's revocation, undone with no event. Evidence: never repaired
    # (review z3). An object there but unreadable is named by the format check (deep).
    # The same when the key holds another object: the next login after such a deletion writes
    # that key again, carrying its own events, not those the log names for it.
    carried = {item.key: item.carried for item in stored}
    for key, (actions, at) in sorted(named_objects.items()):
        if 0 <= (now - parse_iso(at)).total_seconds() < grace_seconds:
            continue
        if key in carried and actions <= set(carried[key]):
            continue
        what = (
            f"giữ một đối tượng khác (mang {', '.join(carried[key]) or 'không sự kiện nào'})"
            if key in carried
            else "không còn nó (hoặc không đọc được)"
        )
        add(
            "object-missing",
            key,
            f"Nhật ký kiểm toán ghi “{key}” là đối tượng Kho đã ghi ({at}, {', '.join(sorted(actions))})"
            f" nhưng kho lưu trữ {what}: Kho không bao giờ xóa hay ghi đè đối tượng này, nên nó đã bị"
            " xóa thẳng trong kho (ví dụ để gỡ một lệnh khóa tài khoản hay một lần thu hồi mã truy"
            " cập). Không sửa tự động; cần kiểm tra và khôi phục từ bản sao lưu.",
        )
    # 16. A step's withheld distribution (u6) is a ``workflow-withheld`` object, written first,
    # and its ``handling:distribute-withheld`` event. An event without its object: the object
    # was deleted by a hand in the store (regrant still withholds by the log; evidence, never
    # repaired). An object without its event, older than the grace: its writer died between
    # the two writes; the event is appended from the object (what it withheld, from whom).
    _check_withheld(repo, withheld_events, now, grace_seconds, add, mend)
    # 15. Ingest jobs that keep a document's description or its file name in plaintext (written
    # before a3's fix and job format 2), in their current version or an older one: named, and
    # scrubbed by the repair (audited).
    plain: list[tuple[str, list[str], str]] = []
    for info in store.list(JOBS_PREFIX):
        try:
            stored = read_job(store.get(info.key))
        except (NotFound, ValueError):
            continue  # (not a job: named by the format check, --deep)
        fields, where = plaintext_left(stored), ""
        if not fields:  # (a pipeline put over an old job keeps the old version, m62)
            fields = older_plaintext(store, info.key, stored.get("record_id"))
            where = " trong một phiên bản cũ"
        if fields:
            plain.append((info.key, fields, where))
    # Jobs with no current version (a delete marker on top, left by another S3 client; the
    # local file removed by hand) whose versions under it keep plaintext: named, and removed by
    # the repair's scrub (review rv64: listing current keys never found them).
    hidden: set[str] = set()
    for key in store.list_hidden(JOBS_PREFIX):
        if not key.endswith(".json"):
            continue
        found = hidden_named(store, key)
        fields = list(dict.fromkeys(f for version in found for f in version.fields))
        if fields:
            hidden.add(key)
            where = " trong phiên bản cũ dưới dấu xóa (delete marker: không còn bản hiện hành)"
            plain.append((key, fields, where))
    # A scrub stopped between its staged copy and its end (killed, m57): the job may be absent
    # until a run finishes it from the copy; named, and finished by the repair. A copy of a
    # scrub that holds a live lease, younger than the grace, is a running scrub's (it lives
    # milliseconds): neither (m62, rv64).
    staged = list(store.list(JOBS_STAGED))
    running = bool(staged) and grace_seconds > 0 and scrub_running(store)
    unfinished = [info.key for info in staged if not _scrub_in_flight(info, store, grace_seconds, running)]
    # A store whose put does not keep the version it replaces (an S3 bucket whose versioning
    # was suspended): named, never repaired (a person turns versioning on again); the scrub
    # refuses to rewrite jobs there, so nothing of this step is mended (review rv64).
    try:
        store.check_versions_kept()
        versioning_off: StoreVersioningOff | None = None
    except StoreVersioningOff as exc:
        versioning_off = exc
        add("store-versioning-off", str(exc.details.get("bucket", "")), exc.message, details=exc.details)
    # Said repaired only if the repair's scrub did it (review rv61: a staged copy it leaves
    # beside an object that is not a job was said repaired).
    left: set[str] = set()
    if versioning_off is not None:
        left = {*(key for key, _, _ in plain), *unfinished}
    elif (plain or unfinished) and mend:
        scrubbed = scrub_audited(store, repo.audit, FSCK.user, FSCK.source)
        left = {*scrubbed.unreadable, *scrubbed.overtaken, *(i.key for i in store.list(JOBS_STAGED))}
        left |= hidden - set(scrubbed.hidden)
    for key, fields, where in plain:
        add(
            "job-plaintext",
            key,
            f"Lượt tiếp nhận còn giữ bản rõ{where} ({', '.join(fields)}): xóa bằng “kho ingest"
            " scrub” hoặc “kho fsck --repair”.",
            repairable=True,
            mended=key not in left,
        )
    for key in unfinished:
        add(
            "job-scrub-unfinished",
            JOBS_PREFIX + key.removeprefix(JOBS_STAGED),
            "Lượt tiếp nhận đang được viết lại dở (“kho ingest scrub” dừng giữa chừng, còn bản chép"
            f" tạm {key}): hoàn tất bằng “kho ingest scrub” hoặc “kho fsck --repair”.",
            repairable=True,
            mended=key not in left,
        )
    # Notifications written before m5 that keep a hồ sơ's title (format 1 retention:due).
    titled = plaintext_notices(store)
    for key in titled:
        add(
            "notice-plaintext",
            key,
            "Thông báo đến hạn nộp lưu (định dạng 1, trước m5) còn giữ tên hồ sơ ở dạng rõ: viết lại theo"
            " định dạng 2 (tham chiếu hồ sơ) bằng “kho fsck --repair”.",
            repairable=True,
        )
    if mend and (titled or list(store.list(NOTICES_STAGED))):  # (a stopped rewrite is finished)
        rewrite_audited(store, repo.audit, title_reader(repo._load), FSCK.user, FSCK.source)
    issues.extend(chain)
    unique = {(i.kind, i.subject): i for i in reversed(issues)}  # one issue per object and kind
    ordered = tuple(_decided(i, decided) for i in issues if unique.get((i.kind, i.subject)) is i)
    return FsckReport(issues=ordered, records=len(committed), register_entries=entries, notes=tuple(notes))


def _decided(issue: Issue, decided: Mapping[tuple[str, str, str], FsckAcknowledgement]) -> Issue:
    """``issue`` marked with the decision a person recorded on it, if one names it exactly: the
    same kind, subject and facts (a third record given the number is another finding)."""
    if not issue.acknowledgeable:
        return issue
    decision = decided.get((issue.kind, issue.subject, issue.digest))
    return issue if decision is None else replace(issue, acknowledged=decision.mark())


@dataclass
class _IndexDigests:
    """The log's side of step 9b: its events below the index's ``next_seq`` hashed as
    :meth:`SqliteRecordIndex.digests` hashes the index's entries."""

    index: SqliteRecordIndex
    end: int
    events: Any = dataclass_field(default_factory=hashlib.sha256)
    holds: Any = dataclass_field(default_factory=hashlib.sha256)

    @classmethod
    def of(cls, repo: Repository) -> _IndexDigests | None:
        """None for an index in memory (built from the log by this process) or of another log
        (emptied by its next reader)."""
        index = repo.audit.record_index
        if not isinstance(index, SqliteRecordIndex):
            return None
        try:
            if index.anchor() != repo.audit._first_hash():
                return None
            return cls(index, index.next_seq())
        except (sqlite3.Error, OSError):
            return None

    def note(self, home: int, events: Iterable[AuditEvent]) -> None:
        for event in events:
            if event.record_id and event.seq < self.end:
                entry = entry_bytes(event.seq, home, event.record_id)
                self.events.update(entry)
                if event.action in HOLD_EVENT_ACTIONS:
                    self.holds.update(entry)

    def agrees(self) -> bool:
        try:
            return self.index.digests(self.end) == (self.events.hexdigest(), self.holds.hexdigest())
        except (sqlite3.Error, OSError):
            return True  # unusable: every reader falls back to scanning the log

    def secrecy_disagrees(self, repo: Repository) -> list[str]:
        """The records whose secrecy the index's map answers with another level than the record
        in the store has (review rv23): a row edited by a hand in the data folder, or kept from
        a timeline of the log the store no longer holds, would show a secret record's history to
        a kiểm toán viên whose clearance does not cover it. One load per row (rows exist only
        for records a kiểm toán viên below the top clearance has read the history of)."""
        try:
            rows = self.index.settled_secrecy()
        except (sqlite3.Error, OSError):
            return []
        wrong = []
        for record_id, _, secrecy in rows:
            try:
                record = repo._load(record_id)
            except KhoError:  # gone or unreadable: its events are shown or withheld without the map
                continue
            if record.secrecy != secrecy:
                wrong.append(record_id)
        return wrong


def _index_problem(repo: Repository, indexed: _IndexDigests) -> str | None:
    """What is wrong with the by-record index (step 9b, Vietnamese), None when nothing."""
    if not indexed.agrees():
        return (
            "Chỉ mục nhật ký kiểm toán theo văn bản không khớp với nhật ký (bị sửa hoặc hỏng): lịch sử"
            " của văn bản có thể đã hiển thị thiếu sự kiện; dựng lại chỉ mục từ nhật ký."
        )
    wrong = indexed.secrecy_disagrees(repo)
    if wrong:
        return (
            "Bảng độ mật trong chỉ mục nhật ký kiểm toán không khớp với độ mật của văn bản"
            f" ({', '.join(wrong[:5])}{' …' if len(wrong) > 5 else ''}): lịch sử của văn bản mật có thể"
            " đã hiển thị cho kiểm toán viên không đủ thẩm quyền; dựng lại chỉ mục từ nhật ký."
        )
    return None


def _check_withheld(
    repo: Repository,
    events: Mapping[tuple[str, int], AuditEvent],
    now: datetime,
    grace_seconds: float,
    add: Callable[..., None],
    mend: bool,
) -> None:
    store = repo.store
    markers: dict[tuple[str, int], str] = {}
    for info in store.list(WITHHELD_PREFIX):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2].isdigit():
            markers[(parts[1], int(parts[2]))] = info.key
    for (record_id, seq), event in sorted(events.items()):
        if (record_id, seq) not in markers:
            add(
                "withheld-marker-missing",
                withheld_key(record_id, seq),
                f"Nhật ký kiểm toán ghi phân phối của bước {seq} văn bản “{record_id}” bị giữ lại do"
                f" phong tỏa (sự kiện #{event.seq}), nhưng kho lưu trữ không còn dấu giữ lại"
                " (workflow-withheld): có thể đã bị xóa thẳng trong kho. Kho vẫn không cấp quyền xem"
                " theo bước này (theo nhật ký). Không sửa tự động; cần kiểm tra.",
            )
    for (record_id, seq), key in sorted(markers.items()):
        if (record_id, seq) in events:
            continue
        try:
            data = formats.loads(
                formats.WORKFLOW_WITHHELD.name, repo.keys.open(record_id, store.get(key), key)
            )
        except (KeyDestroyed, KeyUnwrapFailed, NotFound):
            data = None  # the record destroyed (or its key problem named once): nothing to append
        except Exception:  # unreadable: the format check names it
            continue
        if data is not None and 0 <= (now - parse_iso(data["at"])).total_seconds() < grace_seconds:
            continue  # its writer may be about to append the event
        repairable = data is not None and data.get("seq") == seq and data.get("record_id") == record_id
        if mend and repairable:
            assert data is not None
            repo.audit.append(
                FSCK.user,
                WITHHELD_ACTION,
                record_id=record_id,
                source=FSCK.source,
                details={
                    "seqs": [seq],
                    "users": list(data.get("users") or ()),
                    "units": list(data.get("units") or ()),
                    "code": data.get("code"),
                    "holds": list(data.get("holds") or ()),
                    "restored": "withheld before the writer stopped; event restored by fsck",
                },
            )
        add(
            "withheld-unaudited",
            key,
            f"Phân phối của bước {seq} văn bản “{record_id}” đã bị giữ lại do phong tỏa nhưng nhật ký"
            " kiểm toán thiếu sự kiện handling:distribute-withheld (tiến trình ghi đã dừng giữa hai"
            " lần ghi): ghi bổ sung.",
            repairable=repairable,
        )


NO_SEAL_KEY = Sealer()
"""A sealer without a key: seals are not checked (no ``KHO_MASTER_KEY``)."""

AUDITED_PREFIXES = ("units/", "accounts/", "tokens/")
"""Where the objects of audited account, unit and token changes are (:data:`STORED_EVENTS`)."""


@dataclass(frozen=True)
class _Stored:
    """What steps 10 and 11 need of an account, unit or token object as stored: its key, the
    format version it was written in, whether it lacks the events of its format
    (:func:`carries_no_events`), and the events it carries that the log lacks, with the moment
    it says it was written. Not its data: fsck holds one of these per object (every login
    writes an account version and a session token), so a few hundred bytes each, not the
    kilobytes of the parsed object (review r18)."""

    key: str
    kind: formats.Kind
    written_in: int
    no_events: bool
    missing: tuple[EventDraft, ...] = ()
    changed: datetime | None = None
    seal_broken: bool = False
    """Its seal does not check (:mod:`repository.seals`): Kho refuses it on read."""
    carried: tuple[str, ...] = ()
    """The actions of the events it carries (step 15), interned."""
    unsealed: bool = False
    """An account or unit version of a format before seals, with a master key
    (:attr:`Verdict.UNSEALED`): nothing is appended from it (review r22: ``kho account seal``
    would then find its made-up events in the log and seal it)."""


def _account_objects(
    store: ObjectStore, audited: set[object], sealer: Sealer = NO_SEAL_KEY
) -> Iterator[_Stored]:
    """Each stored account, unit and token object that loads (one that does not is reported by
    ``deep``'s format check), read once for steps 10 and 11; ``audited``: the objects the log's
    events name (their events are not missing); ``sealer``: checks the seals of accounts and
    tokens."""
    for prefix in AUDITED_PREFIXES:
        for info in store.list(prefix):
            kind = _account_kind(info.key)
            if kind is None:
                continue
            try:
                raw = formats.parse(kind.name, store.get(info.key))
                written_in = formats.version_of(kind.name, raw)
                data = formats.upcast(kind.name, raw)
            except (KhoError, ValueError, TypeError):
                continue
            no_events = carries_no_events(kind.name, written_in, raw)
            carried = _carried_actions(raw)
            verdict = (
                sealer.verdict(kind.name, info.key, raw, written_in) if kind.name in SEALED_SINCE else None
            )
            broken, unsealed = verdict is Verdict.BROKEN, verdict is Verdict.UNSEALED
            if info.key in audited:
                yield _Stored(
                    info.key, kind, written_in, no_events, seal_broken=broken, carried=carried,
                    unsealed=unsealed,
                )
                continue
            try:
                drafts = tuple(pending_events(data))
            except (KhoError, KeyError, ValueError, TypeError):
                drafts = ()
            changed = _written_at(data) if drafts else None
            yield _Stored(info.key, kind, written_in, no_events, drafts, changed, broken, carried, unsealed)


def _carried_actions(raw: Any) -> tuple[str, ...]:
    """The actions of the events a stored account, unit or token object carries (as stored)."""
    items = raw.get(STORED_EVENTS) if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(
        sys.intern(i["action"]) for i in items if isinstance(i, dict) and isinstance(i.get("action"), str)
    )


def _changes_with_events(
    stored: Iterable[_Stored],
) -> Iterator[tuple[str, list[EventDraft], datetime | None]]:
    """Each stored account, unit, token object that carries events of its change the log lacks,
    with them and the moment it says it was written."""
    for item in stored:
        if item.missing:
            yield item.key, list(item.missing), item.changed


def _creation_named(event: AuditEvent) -> tuple[str, str] | None:
    """What an account or token creation event names (step 12), else None."""
    details = event.details or {}
    if event.action == "account:create" and isinstance(details.get("username"), str):
        return ("account", details["username"])
    if event.action == "account:token-issue" and isinstance(details.get("token"), str):
        return ("token", details["token"])
    return None


def _creation_of(key: str, kind: formats.Kind) -> tuple[str, str] | None:
    """The creation event an account's first version or a token needs (:func:`_creation_named`);
    None for any other object."""
    if kind is formats.ACCOUNT and key.endswith("/v000001"):
        return ("account", key.split("/")[1])
    if kind is formats.TOKEN:
        return ("token", key.removeprefix("tokens/").removesuffix(".json")[:12])
    return None


VERSIONED_PREFIXES = ("accounts/", "units/")
"""Objects kept as numbered versions (``<prefix><name>/v000001`` …), each version its own key."""


def _downgraded(store: ObjectStore, stored: list[_Stored]) -> Iterator[tuple[str, str]]:
    """The versions of accounts and units whose format is older than a version before them
    (:func:`formats.downgrades`), with the message: along the object's numbered versions, and
    along the store's versions of its newest key (written over in place: S3 versioning, the
    local folder's version files; one listing per account or unit)."""
    chains: dict[str, list[_Stored]] = {}
    for item in stored:
        if item.key.startswith(VERSIONED_PREFIXES):
            chains.setdefault(item.key.rsplit("/v", 1)[0], []).append(item)  # listed in key order
    for chain in chains.values():
        for position in formats.downgrades([item.written_in for item in chain]):
            item = chain[position]
            before = max(c.written_in for c in chain[:position])
            yield item.key, (
                f"Phiên bản “{item.key}” được ghi theo định dạng {item.written_in}, cũ hơn định dạng"
                f" {before} của một phiên bản trước nó: không phần mềm Kho nào ghi như vậy (hạ cấp"
                " định dạng, có thể để che một thay đổi không có sự kiện nhật ký). Không sửa tự động;"
                " cần kiểm tra ai đã ghi thẳng vào kho lưu trữ."
            )
        newest = chain[-1]
        try:
            versions = store.list_versions(newest.key)
        except KhoError:
            continue
        if len(versions) < 2:
            continue
        written: list[int] = []
        for info in versions:
            try:
                raw = json.loads(store.get(newest.key, info.version_id))
                written.append(formats.version_of(newest.kind.name, raw))
            except (KhoError, ValueError, TypeError):
                continue
        if formats.downgrades(written):
            yield newest.key, (
                f"“{newest.key}” đã bị ghi đè tại chỗ bằng một bản theo định dạng cũ hơn bản trước"
                f" nó (các bản lưu theo thứ tự: định dạng {', '.join(map(str, written))}): hạ cấp"
                " định dạng, không phần mềm Kho nào ghi như vậy. Không sửa tự động; cần kiểm tra."
            )


def _written_at(data: dict[str, Any]) -> datetime | None:
    """When an account version (``changed_at``), a unit or token (``created_at``) or a
    revocation (``at``) says it was written; None when it says nothing readable."""
    for field in ("changed_at", "created_at", "at"):
        value = data.get(field)
        if isinstance(value, str):
            try:
                moment = parse_iso(value)
            except ValueError:
                return None
            return moment if moment.tzinfo is not None else None
    return None


def _first_act_without_witness(repo: Repository, report: VerifyReport) -> bool:
    """Whether a missing witness is what a writer killed in the log's very first act leaves,
    and nothing says the history was ever longer — the only case ``fsck --repair`` writes
    the witness again (at the newest event).

    Every append writes the witness after its events, so a log that lost it to a crash holds
    only the events of acts whose writers died before that write: on a new store, the first
    act. Anything else is a witness deleted, and writing it at the head would let a history
    cut at its end pass as whole. So: no witness; a chain that verifies from the first event
    on with no other finding; every event of the one act of event #0 (one moment: the events
    of one append share it); and no checkpoint anywhere (in the store or the folder outside
    it): a checkpoint is the outside evidence of a history, and against it only an auditor
    decides. A later act's writer killed before its witness write needs none of this: the
    witness is then behind, which ``verify`` accepts, and the next append moves it on."""
    if report.last_seq is None or not report.findings:
        return False
    if any(f.kind != "truncated" or f.seq != 0 or f.acknowledged for f in report.findings):
        return False
    store = repo.store
    if store.exists(WITNESS_KEY):
        return False
    if any(True for _ in store.list(CHECKPOINTS_PREFIX)):
        return False
    if repo.anchor is not None and folder_checkpoints(repo.anchor.checkpoint_dir):
        return False
    return first_act_only(store)


NUMBERS_LOST_IN_BACKUP = "register-numbers-lost-in-backup"
"""A note (:attr:`FsckReport.notes`), never an issue: numbers of a register that a restore found
given in its copy's audit log to documents the copy does not hold (:class:`RegisterFloor`),
missing from the register on purpose: never given again (m64)."""
FLOOR_UNEXPLAINED = "register-floor-unexplained"
"""A register floor naming numbers no ``register:assign`` of the log gives as it says (m64):
never repaired."""
RESTORE_UNFINISHED = "store-restore-unfinished"
"""A restore's sealed marker (m69) in a store no restore is writing: a restore stopped half-way
(killed, or an error while it copied); the store is half restored and gives no register number.
Never repaired: the restore is run again (it replaces everything and removes the marker last)."""
RESTORE_MARKER_FORGED = "restore-marker-forged"
"""A restore marker whose seal does not check (with the seal key): not written by a restore of
Kho; the allocator does not obey it. Never repaired automatically."""
NUMBER_GIVEN_TWICE = "register-number-reused"
"""The finding of a number given to more than one record in one register (m61): never repaired."""
NUMBER_GIVEN_TO_NOTHING = "register-assign-orphan"
"""The finding of a ``register:assign`` written before m61 (no agency) in a store of several
agencies, naming a record the store does not hold, whose number some register of that year and
series gives to another record: maybe a number given twice, in a register the log does not name
(m61): never repaired."""


def _register_named(organ_id: str | None, year: int, series: str) -> str:
    """A register as a person reads it: its name, series key, year and agency (Vietnamese)."""
    unknown = "cơ quan không rõ (sự kiện ghi trước m61 không ghi mã cơ quan)"
    agency = f"cơ quan {organ_id}" if organ_id else unknown
    return f"{series_label(series)} ({series}) năm {year} của {agency}"


def _numbers_given_issues(
    repo: Repository,
    assigned: list[NumberGiven],
    by_key: Mapping[str, RegisterEntry],
    committed: set[str],
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Step 9d's findings as (kind, subject, message, details); neither is repairable: the log
    cannot be changed, and which record keeps the number is for a person to decide.

    - :data:`NUMBER_GIVEN_TWICE`: a number of one register (agency, year, series) that the log's
      ``register:assign`` events and the register entry give to more than one record
      (:func:`~repository.registers.numbers_given_twice`). Left, e.g., by a writer killed after
      its events and before its entry whose claimed number the next writer took over (NOTES-m60
      candidate B), by a backup cut restored and written to (its log names records made while
      the store was copied, left out of the copy, whose numbers the restored register gives
      again), or by an event appended by a hand in the store. A record the store does not hold
      (no first version, register entry or "đã hủy" row, nor written since the listings: one
      read of each) is said so.
    - :data:`NUMBER_GIVEN_TO_NOTHING`: the same, for an event before m61 that names no agency in
      a store of several (:func:`~repository.registers.numbers_given_twice` places it nowhere):
      its record is not in the store and the number is another record's in some agency's
      register of that year and series.

    An event giving a number to a record the store does not hold, when no other record holds
    that number, is not a finding: it is what a backup cut holds (README, "Backup, restore"),
    and what a writer killed between its events and its entry leaves until the number is given
    again — which is then a number given twice."""
    store = repo.store
    entries = [NumberGiven(e.organ_id, e.year, e.series, e.number, e.record_id) for e in by_key.values()]
    twice, unplaced = numbers_given_twice(assigned, entries)
    listed = {e.record_id for e in by_key.values()}
    checked: dict[str, bool] = {}

    def missing(given: NumberGiven) -> bool:
        """Is the record ``given`` names absent from the store (re-read, once per record)?"""
        rid = given.record_id
        if rid in committed or rid in listed:
            return False
        if not is_record_id(rid):
            # An id of a form Kho never makes names nothing stored, as every read by id says
            # (``_check_record_id``); read as a key it stopped fsck (review rv62: a crafted
            # event's ``../x`` or NUL, the store's ValueError; a long one, the folder's OSError).
            return True
        if rid not in checked:
            prefix = given.prefix
            checked[rid] = not (
                store.exists(version_key(rid, 1))
                or store.exists(destroyed_key(rid))
                or (prefix is not None and _entry_names(store, entry_key_in(prefix, given.number), rid))
            )
        return checked[rid]

    for found in twice:
        prefix = register_prefix(found.organ_id, found.year, found.series)
        absent = [
            rid
            for rid in found.records
            if missing(NumberGiven(found.organ_id, found.year, found.series, found.number, rid))
        ]
        where = []
        for record_id in found.records:
            said = [f"#{seq}" for seq, rid in found.events if rid == record_id]
            parts = [f"nhật ký kiểm toán {', '.join(said)}"] if said else []
            if found.entry_record == record_id:
                parts.append("mục sổ đăng ký")
            if record_id in absent:
                parts.append("văn bản không có trong kho")
            where.append(f"{record_id} ({'; '.join(parts)})")
        yield (
            NUMBER_GIVEN_TWICE,
            entry_key_in(prefix, found.number),
            f"Số {found.number:02d} của {_register_named(found.organ_id, found.year, found.series)} đã"
            f" được cấp cho {len(found.records)} văn bản: {', '.join(where)}. Mỗi số chỉ được cấp cho một"
            " văn bản trong một sổ trong năm (Nghị định 30/2020/NĐ-CP). Không sửa tự động (nhật ký kiểm"
            " toán không sửa được); cần người xem xét văn bản nào giữ số này.",
            {
                "organ_id": found.organ_id,
                "year": found.year,
                "series": found.series,
                "number": found.number,
                "records": list(found.records),
                "events": [{"seq": seq, "record_id": rid} for seq, rid in found.events],
                "entry_record": found.entry_record,
                "missing": absent,
            },
        )
    held: dict[tuple[int, str, int], list[RegisterEntry]] = {}
    for entry in by_key.values():
        held.setdefault((entry.year, entry.series, entry.number), []).append(entry)
    for given in unplaced:
        same = held.get((given.year, given.series, given.number), [])
        others = [e for e in same if e.record_id != given.record_id]
        if not others or not missing(given):
            continue
        holders = ", ".join(f"{e.record_id} (cơ quan {e.organ_id})" for e in others)
        yield (
            NUMBER_GIVEN_TO_NOTHING,
            f"#{given.seq}",
            f"Nhật ký kiểm toán (sự kiện #{given.seq}, ghi trước m61, không ghi mã cơ quan) ghi đã cấp số"
            f" {given.number:02d} của {series_label(given.series)} ({given.series}) năm {given.year} cho văn"
            f" bản {given.record_id}, nhưng kho không có văn bản đó, và số {given.number:02d} của sổ đó"
            f" đang thuộc văn bản khác: {holders}. Kho có sổ của nhiều cơ quan nên không biết sự kiện này"
            " thuộc sổ nào: có thể một số đã được cấp hai lần. Không sửa tự động; cần người xem xét.",
            {
                "seq": given.seq,
                "record_id": given.record_id,
                "year": given.year,
                "series": given.series,
                "number": given.number,
                "holders": [{"organ_id": e.organ_id, "record_id": e.record_id} for e in others],
            },
        )


def _entry_names(store: ObjectStore, key: str, record_id: str) -> bool:
    """Does the register entry at ``key`` exist and name ``record_id``?"""
    try:
        return RegisterEntry.from_json(store.get(key)).record_id == record_id
    except (KhoError, ValueError, TypeError):
        return False


def _restore_marker(repo: Repository, record_id: str) -> None:
    """Write the catalog marker of a committed record again (its kind and register from the
    record itself)."""
    try:
        record = repo._load(record_id)
    except KhoError:
        return
    reg = record.registration
    prefix = register_prefix(reg.organ_id, reg.year, reg.series) if reg else None
    try:
        repo._write_marker(record_id, record.kind, prefix)
    except AlreadyExists:
        pass


KINDS: frozenset[str] = frozenset(
    {
        "temp-file", "uncommitted", "key-orphan", "rolled-forward", "stale-claim", "catalog-missing",
        "derived-orphan", "unaudited", "register-gap", "register-truncated", "register-mismatch",
        "key-missing", "key-corrupt", "key-not-destroyed", "master-key", "fixity", "audit",
        "witness-missing", "checkpoint", "format", "downgraded", "seal", "hold-missing", "rolled-back",
        "object-missing", "job-plaintext", "job-scrub-unfinished", "notice-plaintext",
        "destruction-claim", "submission-claim", "withheld-marker-missing", "withheld-unaudited",
        "audit-index", "guard-missing", "guard-conflict", "guard-duplicate", "guard-wrong-record",
        "guard-not-a-file", "claim-not-a-file", NUMBER_GIVEN_TWICE, NUMBER_GIVEN_TO_NOTHING,
        "store-versioning-off",
    }
)
"""Every kind of issue fsck reports (:attr:`Issue.kind`)."""
REPAIRED_KINDS: frozenset[str] = frozenset(
    {
        "temp-file", "uncommitted", "key-orphan", "rolled-forward", "stale-claim", "catalog-missing",
        "derived-orphan", "unaudited", "witness-missing", "job-plaintext", "job-scrub-unfinished",
        "notice-plaintext", "destruction-claim", "submission-claim", "withheld-unaudited",
        "audit-index", "guard-missing",
    }
)
"""The kinds ``kho fsck --repair`` mends (all or some of their findings)."""
AUDITOR_KINDS: frozenset[str] = frozenset({"audit", "checkpoint"})
"""The audit chain's findings: the auditor's (``kho audit acknowledge``)."""


def acknowledge_finding(
    repo: Repository, actor: Actor, kind: str, subject: str, digest: str, reason: str | None
) -> tuple[AuditEvent, Issue]:
    """Record a person's decision on one finding of fsck that cannot be repaired (m65): one
    ``fsck:acknowledge`` event naming the finding exactly (kind, subject, facts, their digest)
    with the reason; the finding as fsck now lists it (acknowledged) and the event.

    Refused, writing nothing but the denial's event: a system actor or a person without
    :attr:`~repository.policy.Action.FSCK_ACKNOWLEDGE` at the agency (``PERMISSION_DENIED``,
    ``AGENCY_HEAD_ONLY``); a kind fsck does not report (``FSCK_KIND_UNKNOWN``) or one a person
    may not acknowledge (``FSCK_KIND_NOT_ACKNOWLEDGEABLE``); a blank reason (``REASON_INVALID``)
    or one with control characters or too long (``FIELD_CONTROL_CHARS``, ``FIELD_TOO_LONG``); no
    such finding now (``FSCK_FINDING_NOT_FOUND``); one about another agency's register in a store
    of several (``FSCK_FINDING_OTHER_AGENCY``); one already acknowledged with these facts
    (``FSCK_ALREADY_ACKNOWLEDGED``); ``digest`` not that of the finding now
    (``FSCK_FINDING_CHANGED``: its facts changed since the person looked)."""
    _may_acknowledge(repo, actor, kind)
    text = fsck_reason(reason)
    issue = _finding(fsck(repo), kind, subject)
    organ = issue.details.get("organ_id")
    if organ is not None and organ != repo.agency_id:  # (a store of several agencies, m61)
        raise PermissionDenied(
            f"Phát hiện [{kind}] về “{subject}” thuộc sổ đăng ký của cơ quan {organ}, không phải của"
            f" cơ quan {repo.agency_id}: chỉ người có thẩm quyền của cơ quan đó mới chấp nhận được.",
            code="FSCK_FINDING_OTHER_AGENCY",
            organ_id=organ,
        )
    if issue.acknowledged is not None:
        mark = issue.acknowledged
        raise FsckAcknowledgeRefused(
            f"Phát hiện [{kind}] về “{subject}” đã được {mark['by']} chấp nhận (sự kiện #{mark['event']})"
            " với đúng các dữ kiện hiện nay: không ghi thêm.",
            code="FSCK_ALREADY_ACKNOWLEDGED",
            event=mark["event"],
        )
    if (digest or "").strip().lower() != issue.digest:
        raise FsckAcknowledgeRefused(
            f"Phát hiện [{kind}] về “{subject}” không còn là phát hiện đã xem (mã phát hiện không"
            f" khớp: dữ kiện của nó đã thay đổi, ví dụ thêm văn bản mang cùng số). Xem lại bằng “kho"
            f" fsck” rồi chấp nhận với mã mới {issue.digest}.",
            code="FSCK_FINDING_CHANGED",
            finding=issue.digest,
        )
    details = fsck_details(kind, subject, issue.details, issue.message, text)
    event = repo.audit.append(actor.user, FSCK_ACKNOWLEDGE_ACTION, source=actor.source, details=details)
    assert event is not None  # (not inside a batch)
    decision = fsck_acknowledgement(event)
    assert decision is not None
    return event, replace(issue, acknowledged=decision.mark())


def current_finding(repo: Repository, actor: Actor, kind: str, subject: str) -> Issue:
    """The finding ``kho fsck-acknowledge`` would record a decision on, as fsck lists it now
    (with its digest), for a person who may acknowledge it; refused as
    :func:`acknowledge_finding` refuses (writing nothing)."""
    _may_acknowledge(repo, actor, kind)
    return _finding(fsck(repo), kind, subject)


def _may_acknowledge(repo: Repository, actor: Actor, kind: str) -> None:
    """Refuse a system actor, a person without the right (audited) and a kind that cannot be
    acknowledged."""
    if actor.system:
        raise PermissionDenied(
            "Chỉ quản trị hoặc lưu trữ viên của cơ quan đăng nhập bằng tài khoản của mình mới chấp"
            " nhận được phát hiện của kiểm tra kho: quyết định phải là của một người.",
            code="PERMISSION_DENIED",
        )
    repo.authorize_for_agency(actor, Action.FSCK_ACKNOWLEDGE)
    _acknowledgeable_kind(kind)


def _finding(report: FsckReport, kind: str, subject: str) -> Issue:
    issue = next((i for i in report.issues if i.kind == kind and i.subject == subject), None)
    if issue is None:
        raise FsckFindingNotFound(
            f"“kho fsck” hiện không có phát hiện [{kind}] nào về “{subject}”: chạy “kho fsck” để xem"
            " các phát hiện và chép đúng loại, đối tượng của phát hiện.",
            kind=kind,
            subject=subject,
        )
    return issue


def _acknowledgeable_kind(kind: str) -> None:
    """Refuse a kind fsck does not report, or one a person may not acknowledge (with why)."""
    allowed = ", ".join(sorted(FSCK_ACKNOWLEDGEABLE))
    if kind in FSCK_ACKNOWLEDGEABLE:
        return
    if kind not in KINDS:
        raise FsckKindInvalid(
            f"“kho fsck” không có loại phát hiện “{kind}”. Chỉ chấp nhận được: {allowed}.",
            code="FSCK_KIND_UNKNOWN",
            kind=kind,
        )
    if kind in REPAIRED_KINDS:
        why = "fsck sửa được nó: chạy “kho fsck --repair”"
    elif kind in AUDITOR_KINDS:
        why = "đó là phát hiện của nhật ký kiểm toán: kiểm toán viên xử lý bằng “kho audit acknowledge”"
    else:
        why = (
            "đó là dấu hiệu dữ liệu bị mất, bị sửa hoặc cấu hình sai: cần khắc phục (khôi phục từ bản"
            " sao lưu, sửa cấu hình), không chấp nhận được"
        )
    raise FsckKindInvalid(
        f"Không chấp nhận được phát hiện loại “{kind}”: {why}. Chỉ chấp nhận được: {allowed}.",
        code="FSCK_KIND_NOT_ACKNOWLEDGEABLE",
        kind=kind,
    )
