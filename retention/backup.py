"""Backup and verified restore of an object store (the records store or the key store).

A backup destination is itself an object store (a local folder you can move to removable media,
or a second S3 bucket/server). It holds

- ``blobs/<aa>/<sha256>``: each object's bytes, content-addressed and written create-if-absent,
  so a later backup to the same destination copies only what changed (incremental for free) and
  nothing in a blob is ever rewritten;
- ``backups/<id>.json``: the manifest of one backup (every key with its size and SHA-256).

The key store is backed up with the same functions to a destination of its own (keys and content
never share a medium). Every backup is verified on creation: each blob's size is checked and a
sample is read back and hashed (``restore-read``); :func:`verify_backup` re-reads every blob
later. :func:`restore` writes every object back byte for byte, checking each hash, into an empty
store (or, told to, one whose extra objects it removes). The CLI audits each step.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from kho.errors import AlreadyExists, BackupError, KhoError, NotFound
from kho.timelimit import raise_lost_limit
from kho.timeutil import parse_iso, to_iso_utc, utcnow
from repository import formats
from repository.audit import WITNESS_KEY
from repository.installation import INSTALLATION_KEY, parse_installation
from repository.registers import (
    FLOOR_RECHECK_SECONDS,
    RESTORING_KEY,
    RESTORING_WAIT_SECONDS,
    NumberGiven,
    RegisterFloor,
    restoring_marker,
)
from repository.seals import Sealer, Verdict
from repository.storage.base import ObjectStore, Retention, replaced_only

MANIFESTS_PREFIX = "backups/"
BLOBS_PREFIX = "blobs/"
BACKUP_MANIFEST = formats.BACKUP_MANIFEST


def blob_key(sha256: str) -> str:
    return f"{BLOBS_PREFIX}{sha256[:2]}/{sha256}"


_BACKUP_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,199}")


def manifest_key(backup_id: str) -> str:
    """Where the manifest of ``backup_id`` is; :class:`BackupError` for an id no backup can have
    (a path, an empty one), as typed at ``--id``/``--keys-id``."""
    if not _BACKUP_ID.fullmatch(backup_id) or ".." in backup_id:
        raise BackupError(
            f"Mã bản sao lưu “{backup_id}” không hợp lệ (dạng 20261203T020000000000Z-store).",
            backup_id=backup_id,
        )
    return f"{MANIFESTS_PREFIX}{backup_id}.json"


def read_blob(destination: ObjectStore, sha256: str) -> bytes:
    """The blob whose SHA-256 is ``sha256``. A blob is written once; if its current version was
    overwritten since (a versioned, write-once bucket keeps the locked original), the version
    that still matches is returned. :class:`NotFound` if none is left; the bytes of the current
    version (to be named as damaged by the caller) when no version matches."""
    data = destination.get(blob_key(sha256))
    if hashlib.sha256(data).hexdigest() == sha256:
        return data
    for info in destination.list_versions(blob_key(sha256)):
        if info.version_id is None:
            continue
        older = destination.get(blob_key(sha256), version_id=info.version_id)
        if hashlib.sha256(older).hexdigest() == sha256:
            return older
    return data


@dataclass(frozen=True)
class BackupReport:
    backup_id: str
    objects: int
    bytes: int
    copied_bytes: int
    """Bytes written to the destination (unchanged blobs of earlier backups are not)."""
    sampled: int
    """Blobs read back and hashed on creation."""
    seconds: float
    manifest_sha256: str
    lock_until: str | None = None
    """Until when the backup is write-once (None: the destination has no object lock or none
    was asked for); every blob it refers to is locked at least as long."""
    locks_extended: int = 0
    """Blobs of earlier backups whose lock was extended to this backup's."""
    records: RecordsHeld = field(default_factory=lambda: RecordsHeld(frozenset()))
    """The records this copy holds anything of (empty for a store that is not a records store):
    given to the key store's backup taken after it (``backup(..., records=)``)."""
    keys_left_out: int = 0
    """Keys of young records no records copy holds anything of, left out of a key-store backup."""


@dataclass(frozen=True)
class RecordsHeld:
    """The ids of the records a records store's copy holds anything of, once settled: a catalog
    marker, an object of its folder, a register entry, a duplicate guard, a creation event, a
    "đã hủy" row (records in flight left out whole by :func:`_settle` are not in it)."""

    record_ids: frozenset[str]

    def __or__(self, other: RecordsHeld) -> RecordsHeld:
        """Held by either copy (a key is needed by a restore of any of them)."""
        return RecordsHeld(self.record_ids | other.record_ids)


@dataclass(frozen=True)
class VerifyReport:
    backup_id: str
    objects: int
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RestoreReport:
    backup_id: str
    objects: int
    bytes: int
    removed: int
    seconds: float
    floors: tuple[RegisterFloor, ...] = ()
    """The registers whose copy's log gives numbers past their newest entry, moved past them
    (:func:`write_register_floors`, m64)."""


def _keys_in_order(store: ObjectStore) -> list[str]:
    """Every key, the audit witness first: copied before the events it points at, it can never
    claim more events than the copy holds."""
    keys = [info.key for info in store.list("") if info.key != WITNESS_KEY]
    return ([WITNESS_KEY] if store.exists(WITNESS_KEY) else []) + keys


def backup(
    source: ObjectStore,
    destination: ObjectStore,
    *,
    label: str = "store",
    sample: float = 0.05,
    backup_id: str | None = None,
    lock_days: int = 0,
    settle_seconds: float = 10.0,
    sealer: Sealer | None = None,
    installation: str | None = None,
    records: RecordsHeld | None = None,
    grace_s: float = 300.0,
) -> BackupReport:
    """Copy every object of ``source`` into ``destination``; write and verify the manifest,
    sealed with ``sealer`` when it has a key (:func:`manifest_seal_problem`).

    The manifest names the installation the copy is of (``installation``; by default the id in
    the ``installation.json`` the copy holds, None when it holds none): a restore tells its own
    backups from another installation's by it (:mod:`repository.installation`). An invalid
    ``installation.json`` stops the backup (``INSTALLATION_INVALID``) before the manifest is
    written.

    ``lock_days``: where the destination has object lock, every blob written and the manifest
    are put under COMPLIANCE retention for that many days: the copy is write-once, not even its
    owner's credential can delete or overwrite it before then.

    A records store written to while it is copied is settled into a consistent cut
    (:func:`_settle`), so the copy restores to a state fsck and audit verify call clean.

    ``records``: for a key store backed up after its records store, what that records copy
    holds (:attr:`BackupReport.records`): the key of a young record it holds nothing of (written
    after it, or in flight and left out whole) is left out too (:func:`key_left_out`), so the two
    copies restore to a store without a key no record names. None: every key is copied."""
    started = time.monotonic()
    locking = lock_days > 0 and destination.supports_retention
    # Whole seconds, rounded up: S3 keeps a retain-until date to the second.
    until = (utcnow() + timedelta(days=lock_days, seconds=1)).replace(microsecond=0)
    backup_id = backup_id or f"{utcnow().strftime('%Y%m%dT%H%M%S%fZ')}-{label}"
    found: dict[str, dict[str, Any]] = {}
    locks: dict[str, datetime] = {}
    """sha256 → the effective lock-until of its blob, once made at least ``until``."""
    copied = 0
    extended = 0
    identity: dict[str, bytes] = {}
    """The bytes of the ``installation.json`` copied, if any."""

    def copy(key: str) -> bytes | None:
        nonlocal copied, extended
        if key == RESTORING_KEY:
            # A restore's marker (m69) is never copied: a copy holding it would block numbering
            # in every store it is restored into.
            return None
        try:
            data = source.get(key)
        except NotFound:
            return None  # removed while we walked (a crash leftover fsck cleaned)
        digest = hashlib.sha256(data).hexdigest()
        try:
            destination.put_if_absent(blob_key(digest), data)
            copied += len(data)
            if locking:
                destination.set_retention(blob_key(digest), Retention(mode="COMPLIANCE", until=until))
                locks[digest] = until
        except AlreadyExists:
            if locking and digest not in locks:
                # A blob of an earlier backup: its lock may end before this backup's.
                locks[digest], grew = extend_lock(destination, blob_key(digest), until)
                extended += grew
        if destination.stat(blob_key(digest)).size != len(data):
            raise BackupError(f"Bản sao của “{key}” ở nơi sao lưu sai kích thước.", key=key)
        found[key] = {"key": key, "size": len(data), "sha256": digest}
        if key == INSTALLATION_KEY:
            identity[key] = data
        cut.note(key, data)
        return data

    cut = _Cut(grace_s=grace_s)
    left_out = 0
    for key in _keys_in_order(source):
        raise_lost_limit()  # a scheduled run's soft time limit a finalizer swallowed (m55)
        if records is not None and key_left_out(key, records.record_ids, now=time.time(), grace_s=grace_s):
            left_out += 1
            continue
        copy(key)
    in_flight: set[str] = set()
    if cut.markers:  # a records store (not the key store): settle it into a consistent cut
        in_flight = _settle(source, found, copy, cut, wait_s=settle_seconds, grace_s=grace_s)
    entries = list(found.values())
    if installation is None and INSTALLATION_KEY in identity:
        installation = parse_installation(identity[INSTALLATION_KEY]).installation_id
    if locking:
        entries = [{**e, "lock_until": to_iso_utc(locks[e["sha256"]])} for e in entries]
    total = sum(e["size"] for e in entries)
    chosen = random.Random(backup_id).sample(entries, k=min(len(entries), max(1, int(len(entries) * sample))))
    for entry in chosen:  # restore-read of a sample
        if hashlib.sha256(destination.get(blob_key(entry["sha256"]))).hexdigest() != entry["sha256"]:
            raise BackupError(f"Đọc lại bản sao của “{entry['key']}” không khớp SHA-256.", key=entry["key"])
    body = formats.stamp(
        BACKUP_MANIFEST.name,
        {
            "backup_id": backup_id,
            "label": label,
            "created_at": to_iso_utc(utcnow()),
            "lock_until": to_iso_utc(until) if locking else None,
            "installation": installation,
            "objects": entries,
        },
    )
    if sealer is not None:
        body = sealer.seal(BACKUP_MANIFEST.name, manifest_key(backup_id), body)
    manifest = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    destination.put_if_absent(manifest_key(backup_id), manifest)
    if locking:
        destination.set_retention(manifest_key(backup_id), Retention(mode="COMPLIANCE", until=until))
    return BackupReport(
        backup_id=backup_id,
        objects=len(entries),
        bytes=total,
        copied_bytes=copied,
        sampled=len(chosen),
        seconds=time.monotonic() - started,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        lock_until=to_iso_utc(until) if locking else None,
        locks_extended=extended,
        # a record left out whole is not held, unless an event in the copy names it
        records=RecordsHeld(frozenset(cut.held() - (in_flight - cut.audited()))),
        keys_left_out=left_out,
    )


def extend_lock(destination: ObjectStore, key: str, until: datetime) -> tuple[datetime, bool]:
    """Make the COMPLIANCE retention of ``key`` last at least ``until`` (extending, never
    shortening, as S3 Object Lock allows); returns the effective lock-until and whether it grew."""
    current = destination.get_retention(key)
    if current is not None and current.mode == "COMPLIANCE" and current.until >= until:
        return current.until, False
    destination.set_retention(key, Retention(mode="COMPLIANCE", until=until))
    return until, True


class _Cut:
    """What the copy of a records store holds, noted as objects are copied: creation events,
    register entries, catalog markers, duplicate guards, record folders, first versions,
    "đã hủy" rows."""

    def __init__(self, *, grace_s: float = 300.0) -> None:
        self.grace_s = grace_s
        self.events: dict[int, str | None] = {}
        """seq → the record a creation event names (None for other events)."""
        self.registered: dict[str, str] = {}
        self.numbers: dict[tuple[str, int, str], dict[int, str]] = {}
        """(organ, year, series) → number → record, of the register entries the copy holds."""
        self.markers: set[str] = set()
        self.marker_registers: dict[str, str | None] = {}
        """record → the register its catalog marker names (None: a record not registered at
        its creation), of young records only (the only ones :func:`_fetch_named` asks about:
        an old marker is not parsed); a marker that does not load is not in it."""
        self.folders: set[str] = set()
        """Records with anything under ``records/<id>/`` in the copy (an original, a version)."""
        self.first_versions: set[str] = set()
        self.destroyed: set[str] = set()
        self.claims: dict[str, str | None] = {}
        self.named_versions: dict[str, int] = {}
        """record → the highest version (2 on) an event in the copy names."""
        self.copied_versions: dict[str, int] = {}
        """record → the highest version the copy holds."""
        self.assigned: dict[str, str] = {}
        """record → the key of the register entry a ``register:assign`` event in the copy gives
        it (events naming their agency, m61 on, with a register key Kho can have)."""
        self.objects_named: dict[str, None] = {}
        """Keys of the objects outside a record's folder that an act writes before its event and
        that the copied log names (rv66): an open hold (``hold:place``, ``recall:place``), a
        "đã hủy" row (``record:destroy``), a hồ sơ's link to a document (``file:add-document``),
        a handling step (``handling:<act>``, ``workflow/<record>/<seq>``).
        A hold released or a link removed later in the copied log is dropped again.
        rv68: also a version of the retention schedule (``retention:schedule-edit``) or of a
        year's danh mục hồ sơ (``plan:*``), and a handling step's withheld distribution
        (``handling:distribute-withheld``, ``workflow-withheld/<record>/<seq>``)."""
        self.settling = False
        """Set by :func:`_settle` after its catch-up listing: an event copied from then on may
        name an object written after every listing passed its prefix."""
        self.workflows_named: dict[str, None] = {}
        """rv68: folders ``retention/<area>/<id>/`` of the workflow records (destruction cases,
        hold orders, recalls, transfers) that an event copied while settling names: their step
        writes the next version (a number the event does not name) before the event. Listed
        once each by :func:`_fetch_named`."""
        self.lost: dict[tuple[str, int, str], set[int]] = {}
        """(organ, year, series) → the numbers a restore found given to documents its copy did
        not hold (:class:`~repository.registers.RegisterFloor`, m64): missing on purpose, never
        an entry on its way."""

    def note(self, key: str, data: bytes) -> None:
        from repository.audit import EVENTS_PREFIX, listed_seq, raw_events
        from repository.records import DESTROYED_PREFIX
        from repository.registers import ASSIGN_ACTION, FLOOR_PREFIX, RegisterEntry

        parts = key.split("/")
        try:
            if key.startswith(EVENTS_PREFIX):
                first = listed_seq(key)
                if first is None:  # not an event key (verify names it): copied, never events
                    return
                for offset, raw in enumerate(raw_events(json.loads(data))):  # a batch holds several
                    creation = raw.get("action") in _CREATIONS
                    self.events[first + offset] = raw.get("record_id") if creation else None
                    if raw.get("action") == ASSIGN_ACTION:
                        self._note_assign(raw, first + offset)
                    elif raw.get("action") in _OBJECT_ACTS or _is_step(raw.get("action")):
                        self._note_object(raw)
                    self._note_retention(raw)
                    version, named = raw.get("version"), raw.get("record_id")
                    if type(version) is int and version > 1 and isinstance(named, str):
                        self.named_versions[named] = max(version, self.named_versions.get(named, 0))
            elif key.startswith("registers/"):
                entry = RegisterEntry.from_json(data)
                self.registered[key] = entry.record_id
                series = (entry.organ_id, entry.year, entry.series)
                self.numbers.setdefault(series, {})[entry.number] = entry.record_id
            elif key.startswith(FLOOR_PREFIX):
                floor = RegisterFloor.from_json(data)
                self.lost[(floor.organ_id, floor.year, floor.series)] = set(floor.numbers())
            elif key.startswith("catalog/records/"):
                self.markers.add(parts[2])
                if _young(parts[2], time.time(), self.grace_s):
                    register = formats.loads(formats.CATALOG_MARKER.name, data).get("register")
                    if register is None or isinstance(register, str):
                        self.marker_registers[parts[2]] = register
            elif key.startswith(DESTROYED_PREFIX):
                self.destroyed.add(parts[2])
            elif key.startswith("records/") and len(parts) >= 3:
                self.folders.add(parts[1])
                if len(parts) == 3 and (version := _version_of(parts[2])) is not None:
                    self.copied_versions[parts[1]] = max(version, self.copied_versions.get(parts[1], 0))
                if len(parts) == 3 and parts[2] == "v000001":
                    self.first_versions.add(parts[1])
            elif key.startswith("claims/"):
                self.claims[key] = json.loads(data).get("record_id")
        except (KhoError, ValueError, TypeError, AttributeError):
            return  # an unreadable object is copied as it is; fsck names it

    def _note_assign(self, raw: Mapping[str, Any], seq: int) -> None:
        """Note where the entry of the number an assign event gives is, if it can be one: the
        record id, agency, year, series and number are each checked, so that a crafted event
        (whoever writes the store can append one) can only make the cut read a key of a Kho
        register entry, never a path out of ``registers/``."""
        from repository.records import is_record_id
        from repository.registers import MAX_NUMBER, entry_key, floorable, number_given_in

        details, record_id = raw.get("details"), raw.get("record_id")
        if not isinstance(details, Mapping) or not isinstance(record_id, str) or not is_record_id(record_id):
            return
        given = number_given_in(details, record_id, seq)
        organ = given.organ_id if given is not None else None
        if given is None or organ is None or not floorable(organ, given.year, given.series):
            return  # an event before m61 names no agency: its entry is not looked for
        if given.number <= MAX_NUMBER:
            self.assigned[record_id] = entry_key(organ, given.year, given.series, given.number)

    def _note_object(self, raw: Mapping[str, Any]) -> None:
        """Note (or drop) the key of the object outside the record's folder an act of ``raw``
        wrote (:data:`_OBJECT_ACTS`). Every part is checked: a record id as Kho makes them, a
        hold id or document id with no ``/`` and a whole key the store accepts, so a crafted
        event can make the cut read only a key under ``holds/<record>/``,
        ``catalog/destroyed/``, ``links/<document>/`` or ``workflow/<record>/`` (a step number
        below 10⁶), never a path out of them."""
        from repository.handling import step_key
        from repository.records import destroyed_key, hold_key, is_record_id
        from repository.storage.local import check_key

        action, record_id, details = raw.get("action"), raw.get("record_id"), raw.get("details")
        if not isinstance(record_id, str) or not is_record_id(record_id):
            return
        details = details if isinstance(details, Mapping) else {}
        if action == "record:destroy":
            key = destroyed_key(record_id)
        elif _is_step(action):
            seq = details.get("seq")
            if type(seq) is not int or not 0 < seq < 1_000_000:
                return
            key = step_key(record_id, seq)
        elif action in ("file:add-document", "file:remove-document"):
            document = details.get("document_id")
            if not isinstance(document, str) or not is_record_id(document):
                return
            key = f"links/{document}/{record_id}"
        else:
            hold = details.get("hold_id")
            if not isinstance(hold, str) or "/" in hold:
                return
            key = hold_key(record_id, hold)
        try:
            check_key(key)
        except ValueError:
            return
        if action in ("hold:release", "file:remove-document"):
            self.objects_named.pop(key, None)
        else:
            self.objects_named[key] = None

    def _note_retention(self, raw: Mapping[str, Any]) -> None:
        """rv68: note the key (or the folder) of the object outside ``records/`` an act of
        ``raw`` wrote before its event, for the acts rv66 left: the schedule's version
        (``retention/schedule/v<n>.json``), a plan's (``retention/plans/<year>/v<n>.json``), a
        withheld distribution (``workflow-withheld/<record>/<seq>``), a due alert's sent
        marker (``retention/alerts/<file>/<level>-<due>.json``, ``retention:alert``), a saved search
        (``saved-searches/<owner hash>/<id>.json``, dropped by a later ``search:delete-saved``),
        and, for an event copied while settling, the folder of the workflow record it names
        (``retention/<area>/<id>/``). Each part is checked (a version or step number an int
        below 10⁶, a year as a plan has one, a record id as Kho makes them, a workflow id of 16
        hex digits) and the whole key must pass the store's key check: a crafted event can make
        the cut read only under those folders."""
        from repository.due_notices import ALERT_PREFIX
        from repository.handling import WITHHELD_ACTION, withheld_key
        from repository.records import is_record_id
        from repository.saved_searches import _prefix as _saved_prefix
        from repository.storage.local import check_key
        from retention.service import PLAN_PREFIX, SCHEDULE_PREFIX
        from retention.submission import AlertLevel
        from retention.workflow import WORKFLOW_ID

        action, details = raw.get("action"), raw.get("details")
        if not isinstance(action, str) or not isinstance(details, Mapping):
            return
        keys: list[str] = []
        version = details.get("version")
        numbered = type(version) is int and 0 < version < 1_000_000
        if action == "retention:schedule-edit" and numbered:
            keys.append(f"{SCHEDULE_PREFIX}v{version:06d}.json")
        elif action in _PLAN_ACTS and numbered:
            year = details.get("year")
            if type(year) is int and 2000 <= year <= 2100:
                keys.append(f"{PLAN_PREFIX}{year:04d}/v{version:06d}.json")
        elif action == WITHHELD_ACTION:
            record_id, seqs = raw.get("record_id"), details.get("seqs")
            if isinstance(record_id, str) and is_record_id(record_id) and isinstance(seqs, list):
                keys.extend(
                    withheld_key(record_id, seq)
                    for seq in seqs[:100]
                    if type(seq) is int and 0 < seq < 1_000_000
                )
        elif action == "retention:alert":
            # Written just after its event (the sent marker): a copy holding the event without it
            # is a crash's state, and the restored store would tell the people again.
            record_id, level, due = raw.get("record_id"), details.get("level"), details.get("due")
            if (
                isinstance(record_id, str)
                and is_record_id(record_id)
                and level in {str(v) for v in AlertLevel}
                and isinstance(due, str)
                and _iso_date(due)
            ):
                keys.append(f"{ALERT_PREFIX}{record_id}/{level}-{due}.json")
        elif action in ("search:save", "search:delete-saved"):
            user, search = raw.get("actor"), details.get("search_id")
            if isinstance(user, str) and isinstance(search, str) and _SEARCH_ID.fullmatch(search):
                key = f"{_saved_prefix(user)}{search}.json"
                if action == "search:save":
                    keys.append(key)
                else:
                    self.objects_named.pop(key, None)
        if self.settling:
            for area, field, prefix in _WORKFLOW_AREAS:
                item = details.get(field)
                if (
                    isinstance(item, str)
                    and WORKFLOW_ID.fullmatch(item)
                    and (action.startswith(prefix) if prefix.endswith(":") else action == prefix)
                ):
                    self.workflows_named[f"retention/{area}/{item}/"] = None
        for key in keys:
            try:
                check_key(key)
            except ValueError:
                continue
            self.objects_named[key] = None

    def versions_behind(self) -> dict[str, int]:
        """Records the copy holds whose log names a version the copy does not hold (an act
        written after the listings passed the record's folder, its event copied by a settle
        round): record → the version named."""
        from repository.records import is_record_id

        held = self.committed | self.folders
        return {
            rid: named for rid, named in self.named_versions.items()
            if named > self.copied_versions.get(rid, 0) and rid in held and rid not in self.destroyed
            and is_record_id(rid)
        }

    def named(self) -> set[str]:
        """Records a creation or ``register:assign`` event in the copy names."""
        return self.audited() | set(self.assigned)

    @property
    def committed(self) -> set[str]:
        """Records whose commit point the copy holds (a register entry or a first version)."""
        return set(self.registered.values()) | self.first_versions

    def touched(self) -> set[str]:
        """Every record the copy holds any object of: a catalog marker, a record folder, a
        duplicate guard taken for it."""
        return self.markers | self.folders | {holder for holder in self.claims.values() if holder}

    def held(self) -> set[str]:
        """Every record the copy holds anything of: touched, committed, destroyed, or named by
        a creation event."""
        return self.touched() | self.committed | self.destroyed | self.audited()

    def audited(self) -> set[str]:
        """Records a creation event in the copy names."""
        return {rid for rid in self.events.values() if rid}

    def register_gaps(self) -> list[tuple[str, str]]:
        """Each register entry missing below the newest number of a series the copy holds: its
        key and the record of the next entry the copy holds (on a store where two writers'
        entries can land out of order, a listing can pass a number before it lands and reach
        the next one after it did). A series without a gap costs a length and a min/max."""
        from bisect import bisect_right

        from repository.registers import entry_key

        gaps: list[tuple[str, str]] = []
        for (organ, year, series), held in sorted(self.numbers.items()):
            top = max(held)
            if len(held) == top and min(held) == 1:
                continue  # 01 … top, every one
            ordered = sorted(held)
            lost = self.lost.get((organ, year, series), set())
            for n in sorted(set(range(1, top)) - held.keys() - lost):
                following = held[ordered[bisect_right(ordered, n)]]
                gaps.append((entry_key(organ, year, series, n), following))
        return gaps


_CREATIONS = ("record:create", "file:create", "record:recovered")
_OBJECT_ACTS = frozenset(
    {
        "hold:place",
        "recall:place",
        "hold:release",
        "record:destroy",
        "file:add-document",
        "file:remove-document",
    }
)
"""Acts whose object lives outside the record's folder, under a prefix the walk may have passed
before the act wrote it, and whose event names it (:meth:`_Cut._note_object`, rv66)."""


_PLAN_ACTS = frozenset({"plan:draft", "plan:approve", "plan:issue"})
"""A year's danh mục hồ sơ: each writes ``retention/plans/<year>/v<version>.json``, then its
event naming the year and version (:meth:`retention.service.RetentionService._save_plan`)."""

def _iso_date(text: str) -> bool:
    """Whether ``text`` is a date written as ISO 8601 writes it (``2026-12-08``), nothing else."""
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


_SEARCH_ID = re.compile(r"[0-9a-f]{24}")
"""A saved search's id (``os.urandom(12).hex()``): ``saved-searches/<owner hash>/<id>.json``
is written before its ``search:save`` event (:mod:`repository.saved_searches`)."""

_WORKFLOW_AREAS = (
    ("destruction", "case_id", "destruction:"),
    ("holds", "hold_id", "hold:place"),
    ("holds", "hold_id", "hold:release"),
    ("recalls", "recall_id", "recall:"),
    ("recalls", "recall_id", "record:recall"),
    ("transfers", "transfer_id", "transfer:"),
)
"""(area, the event's field naming the workflow record, the action or action prefix ending in
``:``): the events of the versioned workflow records (:class:`retention.workflow.Versions`,
``retention/<area>/<id>/v…``), each written after the version of its step (rv68). A hold's event
names its order only when the hold was placed by one (its hold id then is the order's id)."""


def _is_step(action: object) -> bool:
    """Whether ``action`` is a handling step's (``handling:<act>``, its step object
    ``workflow/<record>/<seq>`` named by ``details.seq``), not one of the handling service's
    own events that name no step."""
    return isinstance(action, str) and action.startswith("handling:") and action not in _NOT_STEPS


_NOT_STEPS = frozenset(
    {
        "handling:roll-forward",
        "handling:report-totals",
        "handling:mail",
        "handling:flag-deadlines",
        "handling:distribute-withheld",
    }
)


def _settle(
    source: ObjectStore,
    found: dict[str, dict[str, Any]],
    copy: Callable[[str], bytes | None],
    cut: _Cut,
    *,
    wait_s: float,
    grace_s: float = 300.0,
) -> set[str]:
    """Make a copy taken under concurrent writes a consistent cut of a records store.

    A walk in key order passes each prefix once, so a record written meanwhile can be caught
    half-way (its register entry but not its first version, a first version without its
    creation event, an audit event after a gap). After the walk: every object that appeared
    since is copied (catch-up); then, until nothing is missing (at most ``wait_s``) and the log
    was listed at least once more, the audit events up to the newest and each register up to
    its newest number are made contiguous, the pieces that follow a commit (first version,
    creation event, catalog marker) are fetched, and so is the commit point of every record the
    copied log names (m68: its register entry, with its first version and marker; a record
    whose commit point is not there is not waited for), and the folder of each record
    committed just now is listed once more (its original may have landed after the walk passed
    it); finally, every record the copy holds anything of without its commit point (a catalog
    marker, a duplicate guard, an original or any object of its folder, younger than
    ``grace_s``) is left out whole, as if its writer had not started yet: which of its objects
    a listing reached depends only on timing. Older leftovers of a crash stay in the copy as
    they are in the store (fsck names them the same way). The witness was copied first, so the
    chain in the copy never claims more than it holds. Returns the records left out.
    """
    from repository.audit import EVENTS_PREFIX, event_key
    from repository.records import version_key

    for info in list(source.list("")):
        if info.key not in found and info.key != WITNESS_KEY:
            copy(info.key)
    cut.settling = True  # from now on an event may name an object no listing reached (rv68)
    deadline = time.monotonic() + wait_s
    looked: dict[str, int] = {}
    """key → how many times it was looked for (:func:`_fetch_named`)."""
    logged = False  # the log was listed since the catch-up listing
    late: set[str] = set()
    """Records changed after the listings passed them whose new pieces the cut fetched (an
    entry a copied assign gives, a version a copied event names): their guards are copied too."""
    while True:
        if cut.events:
            newest = max(cut.events)
            for seq in sorted(set(range(min(cut.events), newest + 1)) - set(cut.events)):
                copy(event_key(seq))  # written between two passes of the listing
        # The log copied so far names records committed after the listings passed registers/
        # (m68): their commit points and the pieces next to them are fetched, so that the copy
        # holds every record its log says was made (before, it left them out and a restore
        # skipped their numbers, m64).
        _fetch_named(source, cut, found, copy, looked, late, now=time.time(), grace_s=grace_s)
        for key, _ in cut.register_gaps():  # an entry that landed after a later one was listed
            copy(key)
        now = time.time()
        audited = {rid for rid in cut.events.values() if rid}
        # Only records written just now are waited for; an old one missing a piece is a crash
        # leftover the copy keeps as it is (fsck names it on the restored store too).
        unversioned = [
            rid for rid in set(cut.registered.values())
            if rid not in cut.first_versions and _young(rid, now, grace_s)
        ]
        unaudited = {rid for rid in cut.committed - audited if _young(rid, now, grace_s)}
        unmarked = {rid for rid in cut.committed - cut.markers if _young(rid, now, grace_s)}
        # A number claimed but its entry not yet written, below one written just now.
        unnumbered = [key for key, following in cut.register_gaps() if _young(following, now, grace_s)]
        settled = not unversioned and not unaudited and not unmarked and not unnumbered
        if settled and logged:
            break
        if not settled:
            if time.monotonic() > deadline:
                raise BackupError(
                    f"Kho đang được ghi liên tục: sau {wait_s:.0f} giây vẫn còn"
                    f" {len(unversioned) + len(unaudited) + len(unmarked) + len(unnumbered)} bản ghi"
                    " chưa ghi xong; chạy lại sao lưu.",
                    code="BACKUP_UNSETTLED",
                )
            time.sleep(0.05)
            for rid in unversioned:
                copy(version_key(rid, 1))
            for rid in unmarked:  # the catalog marker may follow the commit
                copy(f"catalog/records/{rid}")
        # The log is read once more after the catch-up listing even when nothing was missing
        # (m68): the records committed while that listing ran are then in the copy too (the
        # next round fetches what their events name), not only those whose events a wait for
        # another record happened to bring.
        after = event_key(max(cut.events)) if cut.events else None
        for info in list(source.list(EVENTS_PREFIX, start_after=after)):
            copy(info.key)
        logged = True
    # The versions the copied log names that the copy lacks (m68): an act on a record (an
    # update, a file added) whose event a settle round copied after the listings had passed the
    # record's folder; without them the restored store is older than its log (fsck's
    # ``rolled-back``). The version is the act's commit point, written before its events; the
    # folder is listed once, for the version's originals too (never a version past the one named).
    for rid, named in sorted(cut.versions_behind().items()):
        late.add(rid)
        for info in list(source.list(f"records/{rid}/")):
            version = _version_of(info.key.removeprefix(f"records/{rid}/"))
            if info.key not in found and (version is None or version <= named):
                copy(info.key)
    # Everything of the records committed just now (their originals above all): written
    # before their commit, but a listing walks ``records/`` before ``registers/``, so one can
    # pass a record's folder before its original lands and reach the register after its entry
    # did (immutable: one more look).
    now = time.time()
    for rid in sorted(r for r in cut.committed if _young(r, now, grace_s)):
        for info in list(source.list(f"records/{rid}/")):
            if info.key not in found:
                copy(info.key)
    # Their duplicate guards too (review rv53: fsck checks every live record's SHA-256 guard):
    # taken before the commit, but a listing passes claims/ before registers/, so a record
    # committed in between had its entry copied and not its guard, and the restored store took
    # a second record of its file. One more listing of the guards, once something committed
    # just now; only a guard naming a record committed in the copy is copied (one read more).
    fresh = {r for r in cut.committed if _young(r, now, grace_s)} | (late & cut.committed)
    if fresh:
        for prefix in ("claims/sha256/", "claims/skh/"):
            for info in list(source.list(prefix)):
                if info.key not in found and _guard_record(source, info.key) in fresh:
                    copy(info.key)
    # Whatever the copy holds of a record not committed in it is left out, however it was
    # reached: a listing can pass catalog/ and claims/ before a record's marker and guards land
    # and reach records/ after its original did, so a lone original (or version, or guard, or
    # marker) is as much a record in flight as a marker without a commit.
    # (A "đã hủy" row counts as a commit here, as in fsck; it is not waited on for the pieces
    # that follow a commit: a row put back by a restore may name a record the store never held.)
    in_flight = {rid for rid in cut.touched() - cut.committed - cut.destroyed if _young(rid, now, grace_s)}
    for key in list(found):
        parts = key.split("/")
        if (
            (key.startswith("catalog/records/") and parts[2] in in_flight)
            or (key.startswith("records/") and parts[1] in in_flight)
            or (key.startswith("claims/") and cut.claims.get(key) in in_flight)
        ):
            del found[key]
    return in_flight


_LOOKS = 3
"""How many rounds of the settle loop a piece of a record named by the copied log is looked for
while it is not found (a record rolled back, or a writer killed after its events, m61):
not waited for, the loop ends as before without it and the restore's floor names its number."""


def _fetch_named(
    source: ObjectStore,
    cut: _Cut,
    found: Mapping[str, Any],
    copy: Callable[[str], bytes | None],
    looked: dict[str, int],
    late: set[str],
    *,
    now: float,
    grace_s: float,
) -> None:
    """Copy the commit point of each young record a creation or ``register:assign`` event in
    the copy names and the copy does not hold committed: its register entry (the key the assign
    gives) or, for a record not registered, its first version; once that is in the copy, its
    first version and catalog marker too (both land before the events name the record: one
    look, no wait). The rest of the record (its original, duplicate guards) is fetched after
    the loop with every record committed just now; its key is copied by the key store's backup
    (the record is in :attr:`BackupReport.records`). A record whose commit point is not there
    is not waited for: it is left out whole, as a record in flight. ``late`` gets each record
    whose entry was looked for (its duplicate guards are copied after the loop)."""
    from repository.records import is_record_id, version_key

    def look(key: str) -> None:
        if key not in found and looked.get(key, 0) < _LOOKS:
            looked[key] = looked.get(key, 0) + 1
            copy(key)

    # The objects the copied log names outside a record's folder (rv66): a hold, a "đã hủy"
    # row, a hồ sơ's link, each written before its act's event; a hold placed after the walk
    # passed holds/ was otherwise lost from the copy, and the restored record could be destroyed.
    for key in list(cut.objects_named):
        look(key)
    # The workflow records (destruction case, hold order, recall, transfer) an event copied
    # while settling names (rv68): its step's version, written before the event, may have
    # landed after the listings passed retention/; the event does not name the version, so the
    # record's folder is listed once and what the copy lacks copied (as the walk would have).
    for folder in list(cut.workflows_named):
        if looked.get(folder, 0) == 0:
            looked[folder] = 1
            for info in list(source.list(folder)):
                if info.key not in found:
                    copy(info.key)
    # The entry of every number the copied log gives to a record the copy holds committed,
    # whatever its age: a record in intake (committed by its first version) confirmed meanwhile
    # takes its number then, and its restored version would name an entry the copy lacks.
    # (A record not committed in the copy is handled below, its entry with its other pieces:
    # an entry alone would make it one to wait for, and under a writer each round would bring
    # more of those, review of the first version of this change: BACKUP_UNSETTLED.)
    committed = cut.committed
    for rid, entry in cut.assigned.items():
        if entry not in found and rid in committed and rid not in cut.destroyed:
            look(entry)
            late.add(rid)
    for rid in sorted(cut.named() - cut.committed - cut.destroyed):
        if not is_record_id(rid) or not _young(rid, now, grace_s):
            continue
        marker = f"catalog/records/{rid}"
        point = cut.assigned.get(rid)
        if point is None:  # named by its creation event only
            look(marker)
            if rid not in cut.marker_registers or cut.marker_registers[rid] is not None:
                # A registered record's commit point is its entry, which only its assign (a
                # later event) names: a first version copied alone would restore a registered
                # record with no entry. Looked for again once the assign is in the copy.
                continue
            point = version_key(rid, 1)
        look(point)
        if rid in cut.committed:
            look(version_key(rid, 1))
            look(marker)


def _guard_record(source: ObjectStore, key: str) -> str | None:
    """The record a duplicate guard names, None if it is gone or unreadable."""
    try:
        holder = formats.loads(formats.CLAIM.name, source.get(key)).get("record_id")
    except (KhoError, ValueError, TypeError, AttributeError):
        return None
    return holder if isinstance(holder, str) else None


def key_left_out(key: str, held: frozenset[str], *, now: float, grace_s: float) -> bool:
    """Whether a key-store backup taken after a records copy leaves out ``key`` (pure): only a
    ``keys/<record id>`` whose record the records copy holds nothing of (``held``) and whose id
    is younger than ``grace_s`` at ``now`` (its record was written after the copy, or was in
    flight and left out whole). An old key is a crash leftover, copied as it is (fsck names it);
    any other object of the key store is copied."""
    from repository.records import is_record_id

    prefix, _, record_id = key.partition("/")
    if prefix != "keys" or not is_record_id(record_id):
        return False
    return record_id not in held and _young(record_id, now, grace_s)


_VERSION = re.compile(r"v([0-9]{6})")


def _version_of(name: str) -> int | None:
    """The version a record folder's entry ``name`` is (``v000002`` → 2), None for any other."""
    found = _VERSION.fullmatch(name)
    return int(found.group(1)) if found else None


def _young(record_id: str, now: float, grace_s: float) -> bool:
    try:
        return now - int(record_id[:12], 16) / 1000 < grace_s
    except ValueError:
        return False


def backups(destination: ObjectStore, label: str | None = None) -> list[str]:
    """The backup ids in ``destination``, oldest first."""
    ids = [
        info.key.removeprefix(MANIFESTS_PREFIX).removesuffix(".json")
        for info in destination.list(MANIFESTS_PREFIX)
    ]
    return [i for i in ids if label is None or i.endswith(f"-{label}")]


@dataclass(frozen=True)
class StoredManifest:
    """A manifest as read from its destination: as stored (for its seal) and upcast."""

    key: str
    stored: dict[str, Any]
    written_in: int
    manifest: dict[str, Any]


def load_manifest(
    destination: ObjectStore, backup_id: str | None = None, label: str | None = None
) -> StoredManifest:
    """The manifest of ``backup_id`` (default: the newest of ``label``), seal not yet judged."""
    if backup_id is None:
        found = backups(destination, label)
        if not found:
            raise BackupError("Nơi sao lưu không có bản sao lưu nào.")
        backup_id = found[-1]
    key = manifest_key(backup_id)
    try:
        raw = destination.get(key)
    except NotFound as exc:
        raise BackupError(f"Không có bản sao lưu “{backup_id}”.", backup_id=backup_id) from exc
    stored = formats.parse(BACKUP_MANIFEST.name, raw)
    manifest = formats.upcast(BACKUP_MANIFEST.name, stored)
    return StoredManifest(key, stored, formats.version_of(BACKUP_MANIFEST.name, stored), manifest)


def manifest_seal_problem(
    sealer: Sealer, found: StoredManifest, *, sealed_before: bool = False
) -> BackupError | None:
    """Why the manifest ``found`` must not be used (pure; None: its seal checks, or no seal key
    is configured). Whoever holds a backup destination can rewrite a manifest consistently
    (entries and their hashes, a record dropped or added); a seal made with the key derived from
    ``KHO_MASTER_KEY`` (:mod:`repository.seals`), which the destination never holds, cannot be
    remade. A manifest of a format before seals (2) is read only in the upgrade window
    (``KHO_ALLOW_UNSEALED``), as account versions are: a new backup is sealed; and, as for an
    account, not after a sealed one (``sealed_before``: an older manifest in the same place is
    sealed): Kho wrote none unsealed since, so it is a downgrade, refused in the window too."""
    verdict = sealer.verdict(BACKUP_MANIFEST.name, found.key, found.stored, found.written_in)
    if verdict is Verdict.LEGACY and sealed_before:
        verdict = Verdict.BROKEN
    backup_id = str(found.manifest.get("backup_id", found.key))
    if verdict is Verdict.BROKEN:
        return BackupError(
            f"Bản kê của bản sao lưu “{backup_id}” không có dấu niêm phong hợp lệ: đã bị sửa (hoặc"
            " ghi bởi người không có khóa chủ). Không dùng bản sao lưu này.",
            code="BACKUP_MANIFEST_SEAL_INVALID",
            backup_id=backup_id,
        )
    if verdict is Verdict.UNSEALED:
        return BackupError(
            f"Bản kê của bản sao lưu “{backup_id}” được ghi trước khi có niêm phong (định dạng"
            f" {found.written_in}), nên không kiểm chứng được. Chỉ đọc được trong thời gian nâng cấp"
            " (KHO_ALLOW_UNSEALED=true); hãy tạo bản sao lưu mới (được niêm phong).",
            code="BACKUP_MANIFEST_UNSEALED",
            backup_id=backup_id,
        )
    return None


def manifest_vouched(sealer: Sealer, found: StoredManifest) -> bool:
    """Whether the seal of ``found`` was verified (pure): only such a manifest may be sealed
    again when it is rewritten. One the upgrade window lets be read (format 2, no seal) is
    not: sealing it would vouch for whatever the holder of the destination wrote in it."""
    return sealer.verdict(BACKUP_MANIFEST.name, found.key, found.stored, found.written_in) is Verdict.SEALED


def read_manifest(
    destination: ObjectStore,
    backup_id: str | None = None,
    label: str | None = None,
    *,
    sealer: Sealer | None = None,
) -> dict[str, Any]:
    """The manifest of ``backup_id`` (default: the newest of ``label``), upcast; refused
    (:func:`manifest_seal_problem`) when ``sealer`` judges its seal bad."""
    found = load_manifest(destination, backup_id, label)
    if sealer is not None and (problem := judged(destination, sealer, found)) is not None:
        raise problem
    return found.manifest


def judged(destination: ObjectStore, sealer: Sealer, found: StoredManifest) -> BackupError | None:
    """:func:`manifest_seal_problem` of ``found`` in ``destination``: for an unsealed manifest
    the window lets be read, the older manifests there are read to see whether one is sealed."""
    verdict = sealer.verdict(BACKUP_MANIFEST.name, found.key, found.stored, found.written_in)
    if verdict is not Verdict.LEGACY:
        return manifest_seal_problem(sealer, found)
    backup_id = found.key.removeprefix(MANIFESTS_PREFIX).removesuffix(".json")
    older = [i for i in backups(destination) if i < backup_id]
    sealed_before = any(
        manifest_vouched(sealer, load_manifest(destination, i)) for i in reversed(older)
    )
    return manifest_seal_problem(sealer, found, sealed_before=sealed_before)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def entry_problem(entry: Any) -> str | None:
    """What is wrong with one entry of a manifest as written (pure): a key that is not a plain
    store key (a path out of the store, an empty one), a digest that is not a SHA-256, a size
    that is not a count. None when it is well formed. A manifest is read from a destination
    whoever holds it can write: nothing of it is used before this check."""
    from repository.storage.local import check_key

    if not isinstance(entry, dict):
        return "Bản kê có một mục không đúng dạng."
    key, digest, size = entry.get("key"), entry.get("sha256"), entry.get("size")
    try:
        check_key(key if isinstance(key, str) else "")
    except ValueError:
        return f"Bản kê ghi một khóa không hợp lệ: “{key}”."
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        return f"Bản kê ghi mã SHA-256 không hợp lệ cho “{key}”."
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"Bản kê ghi kích thước không hợp lệ cho “{key}”."
    return None


def verify_backup(
    destination: ObjectStore,
    backup_id: str | None = None,
    label: str | None = None,
    *,
    sealer: Sealer | None = None,
) -> VerifyReport:
    """Re-read every blob of a backup and check its SHA-256, and the manifest's seal with
    ``sealer`` (every problem named, none stops)."""
    found = load_manifest(destination, backup_id, label)
    manifest = found.manifest
    problems: list[str] = []
    if sealer is not None and (sealed := judged(destination, sealer, found)) is not None:
        problems.append(f"[{sealed.code}] {sealed}")
    for entry in manifest["objects"]:
        if (problem := entry_problem(entry)) is not None:
            problems.append(problem)
            continue
        try:
            data = read_blob(destination, entry["sha256"])
        except NotFound:
            problems.append(f"Thiếu bản sao của “{entry['key']}”.")
            continue
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"Bản sao của “{entry['key']}” đã bị thay đổi (không khớp SHA-256).")
    problems += lock_problems(destination, manifest)
    return VerifyReport(manifest["backup_id"], len(manifest["objects"]), tuple(problems))


def lock_problems(destination: ObjectStore, manifest: Mapping[str, Any]) -> list[str]:
    """A write-once backup is write-once only while every blob it refers to is: name each blob
    (and the manifest) whose lock ends before the backup's ``lock_until``. Where the
    destination cannot tell (a folder read without its lock records), the lock-until the
    manifest recorded for the blob is compared instead."""
    if not manifest.get("lock_until"):
        return []
    wanted = parse_iso(manifest["lock_until"])
    problems: list[str] = []
    seen: set[str] = set()
    items = [(manifest_key(manifest["backup_id"]), None, "bản kê")]
    items += [(blob_key(e["sha256"]), e, f"bản sao của “{e['key']}”") for e in manifest["objects"]]
    for key, entry, label in items:
        if key in seen:
            continue
        seen.add(key)
        ends: datetime | None
        if entry is None and not destination.supports_retention:
            continue  # the manifest's lock is not recorded anywhere else
        if destination.supports_retention:
            try:
                held = destination.get_retention(key)
            except NotFound:
                continue  # named as missing above
            ends = held.until if held is not None and held.mode == "COMPLIANCE" else None
            if (ends is None or ends < wanted) and entry is not None:
                ends = _locked_original(destination, key, entry["sha256"], wanted) or ends
        else:
            ends = parse_iso(entry["lock_until"]) if entry and entry.get("lock_until") else None
        if ends is None or ends < wanted:
            shown = to_iso_utc(ends) if ends is not None else "không khóa"
            problems.append(
                f"Khóa ghi một lần của {label} hết hạn trước bản sao lưu ({shown} < {to_iso_utc(wanted)})."
            )
    return problems


def _locked_original(destination: ObjectStore, key: str, sha256: str, wanted: datetime) -> datetime | None:
    """The lock-until of an older version of ``key`` that still holds the blob's bytes and is
    locked long enough (a newer version was written over the locked original), else None."""
    for info in destination.list_versions(key):
        if info.version_id is None:
            continue
        held = destination.get_retention(key, version_id=info.version_id)
        if held is None or held.mode != "COMPLIANCE" or held.until < wanted:
            continue
        if hashlib.sha256(destination.get(key, version_id=info.version_id)).hexdigest() == sha256:
            return held.until
    return None


def restore(
    destination: ObjectStore,
    target: ObjectStore,
    *,
    backup_id: str | None = None,
    label: str | None = None,
    force: bool = False,
    sealer: Sealer | None = None,
    manifest: Mapping[str, Any] | None = None,
    held: Mapping[str, bytes] | None = None,
    sealed_since: int | None = None,
) -> RestoreReport:
    """Write a backup back into ``target`` byte for byte. A non-empty target is refused unless
    ``force``; then objects the backup does not hold are removed, so the result is exactly the
    backed-up state. A manifest whose seal ``sealer`` refuses is refused before anything.
    Beside it, a register whose restored log gives numbers past its newest entry gets a floor
    (:func:`write_register_floors`, m64): those numbers are never given again, by a process
    started after it or one already running (m66: it returns
    :data:`~repository.registers.FLOOR_RECHECK_SECONDS` after its floors landed, and a running
    process reads its register's floor again once its last read is older than that).

    ``manifest`` and ``held``: the manifest a caller has already read (with ``sealer``) and the
    bytes its :func:`check_copies` kept; those are written as they were checked, not read
    again, so a copy changed since that check cannot stop this restore half-way (the caller
    restores another store in between).

    ``sealed_since``: the first sealed position the installation's signed checkpoints vouch for
    (:meth:`repository.audit.AuditLog.sealed_floor`, read from the anchor outside the store
    before the restore): an unsealed ``register:assign`` there or later in the copy is not legacy
    and moves no register, as fsck counts it (one rule: :func:`repository.audit.event_counts`),
    even when a writer of the store removed every sealed event before the backup."""
    started = time.monotonic()
    if manifest is None:
        manifest = read_manifest(destination, backup_id, label, sealer=sealer)
    for entry in manifest["objects"]:  # before anything is removed or written
        if (problem := entry_problem(entry)) is not None:
            raise BackupError(f"{problem} Bản sao lưu đã bị sửa hoặc hỏng; không khôi phục.",
                              backup_id=manifest["backup_id"])
    wanted = {entry["key"]: entry for entry in manifest["objects"]}
    # The marker of a restore that did not finish (m69) is not the store's: this one replaces it.
    present = [info.key for info in target.list("") if info.key != RESTORING_KEY]
    if present and not force:
        raise BackupError(
            f"Kho đích không rỗng ({len(present)} đối tượng): dùng --force để ghi đè về đúng trạng thái"
            " của bản sao lưu.",
            objects=len(present),
        )
    kept = {digest: data for digest, data in (held or {}).items()
            if hashlib.sha256(data).hexdigest() == digest}
    if present:
        # Replacing a live store: every copy is read and checked before the first removal or
        # write, so a damaged or missing blob (the destination's holder can change any) leaves
        # the store as it was, not with what the copy lacks removed and half of it written.
        # The checked bytes of the smaller blobs are kept for the writes below (read once, and
        # what is written is what was checked); larger ones are read and checked again.
        rest = [entry for entry in manifest["objects"] if entry["sha256"] not in kept]
        kept.update(check_copies(destination, {**manifest, "objects": rest}, keep=True))
    # No register number while the store is being replaced (m69): the marker first, then one
    # interval and a margin, so every allocator's next create reads it and is refused
    # (STORE_RESTORING) instead of landing in the copy's way or in keys about to be removed.
    target.put(RESTORING_KEY, restoring_marker(
        sealer, backup_id=str(manifest["backup_id"]), started_at=to_iso_utc(utcnow()),
        host=socket.gethostname(), pid=os.getpid()))
    time.sleep(RESTORING_WAIT_SECONDS)
    # Listed again now that no creation can start: what landed since the first listing (while
    # the copies were checked, or before the marker was seen) is removed too, not left beside
    # the copy (m69: before, a record created during check_copies survived the restore).
    present = [info.key for info in target.list("") if info.key != RESTORING_KEY]
    removed = 0
    for key in present:
        if key not in wanted:
            target.delete(key)
            removed += 1
    total = 0
    given = _NumbersGiven(sealer, since=sealed_since)
    for key, entry in wanted.items():
        data = kept.get(entry["sha256"])
        if data is None:
            data = checked_copy(destination, key, entry["sha256"])
        restore_object(target, key, data, entry["sha256"])
        given.note(key, data)
        total += len(data)
    floors = write_register_floors(target, given, backup_id=str(manifest["backup_id"]))
    if floors or given.floors:
        # A process running across this restore (kho web, a worker) trusts its last read of a
        # register's floor for FLOOR_RECHECK_SECONDS: returning only once that long has passed
        # since the floors landed (written now, or put back from the copy into a store that may
        # not have held them), every number asked after the restore is past them (m66).
        time.sleep(FLOOR_RECHECK_SECONDS)
    target.delete(RESTORING_KEY)  # last: numbering resumes on the restored store
    return RestoreReport(
        manifest["backup_id"], len(wanted), total, removed, time.monotonic() - started, floors
    )


class _NumbersGiven:
    """What a restored copy says of its registers' numbers, noted as its objects are written:
    the ``register:assign`` events of its log, its register entries and the floors an earlier
    restore left in it.

    With ``sealer`` holding the seal key (``kho restore``: the installation's), an event counts
    as fsck counts it (one rule: :func:`repository.audit.event_counts`): its seal checks, or it
    has none and no sealed event comes before it in the copy's log (legacy). Before rv63 every
    event counted: one who writes the store without KHO_MASTER_KEY appended an assign of any
    number and the restore moved the register there."""

    def __init__(self, sealer: Sealer | None = None, *, since: int | None = None) -> None:
        self.sealer = sealer if sealer is not None and sealer.active else None
        self.since = since if self.sealer is not None else None
        """The sealing start the installation's signed checkpoints say (``sealed_since``): an
        unsealed event there or later does not count, sealed events left in the copy or not."""
        self._events: list[tuple[NumberGiven, Verdict]] = []
        self._first_sealed: int | None = None
        self.entries: list[NumberGiven] = []
        self.floors: dict[str, RegisterFloor] = {}

    @property
    def events(self) -> list[NumberGiven]:
        """The assigns that count: without a seal key all; else as :class:`_NumbersGiven` says."""
        from repository.audit import event_counts

        first = self._first_sealed
        return [
            given
            for given, verdict in self._events
            if event_counts(
                verdict,
                seq := given.seq or 0,
                sealed_before=first is not None and first <= seq,
                since=self.since,
            )
        ]

    def note(self, key: str, data: bytes) -> None:
        from repository.audit import EVENTS_PREFIX, listed_seq, raw_events
        from repository.registers import (
            ASSIGN_ACTION,
            FLOOR_PREFIX,
            NumberGiven,
            RegisterEntry,
            number_given_in,
        )

        try:
            if key.startswith(EVENTS_PREFIX):
                first = listed_seq(key)
                if first is None:
                    return
                for offset, raw in enumerate(raw_events(json.loads(data))):
                    details = raw.get("details")
                    if raw.get("action") != ASSIGN_ACTION or not isinstance(details, Mapping):
                        # Its seal only tells where sealing starts: past a sealed position
                        # already met it cannot move that start (rv67: one HMAC per assign and
                        # per event before the first sealed one, not per event of the copy).
                        if self._first_sealed is None or first + offset < self._first_sealed:
                            self._verdict(raw, first + offset)
                        continue
                    verdict = self._verdict(raw, first + offset)
                    record_id = raw.get("record_id")
                    said = number_given_in(details, record_id if isinstance(record_id, str) else None,
                                           first + offset)
                    if said is not None:
                        self._events.append((said, verdict))
            elif key.startswith("registers/"):
                e = RegisterEntry.from_json(data)
                self.entries.append(NumberGiven(e.organ_id, e.year, e.series, e.number, e.record_id))
            elif key.startswith(FLOOR_PREFIX):
                self.floors[key] = RegisterFloor.from_json(data)
        except (KhoError, ValueError, TypeError, AttributeError):
            return  # an object that does not load is restored as it is; fsck names it

    def _verdict(self, raw: Any, seq: int) -> Verdict:
        """What the seal of the stored event ``raw`` at ``seq`` says (UNCHECKED: no seal key)."""
        from repository.audit import AuditEvent

        if self.sealer is None:
            return Verdict.UNCHECKED
        try:
            verdict = self.sealer.event_verdict(AuditEvent.from_raw(raw).body(), after_sealed=False)
        except (KhoError, ValueError, TypeError, AttributeError, KeyError):
            return Verdict.BROKEN
        if verdict is Verdict.SEALED:
            self._first_sealed = seq if self._first_sealed is None else min(self._first_sealed, seq)
        return verdict


def write_register_floors(
    target: ObjectStore, given: _NumbersGiven, *, backup_id: str
) -> tuple[RegisterFloor, ...]:
    """After a restore: each register whose restored log gives numbers past its newest entry is
    moved past them (a :class:`~repository.registers.RegisterFloor` written beside it, which
    the allocator reads at its first number in the register), so no number the log shows given
    is given again. A backup taken while records were written holds the ``register:assign``
    events of records it left out (the cut fell between an act's events and its entry, or the
    copy's catch-up of the log passed the register): their numbers went to documents the copy
    does not hold, and a văn thư may have sent them out. Once per restore, no read of the store:
    the copy's objects are noted as they are written. A floor the copy already holds (an earlier
    restore's) keeps its numbers; the new one adds to it."""
    from dataclasses import replace

    from repository.registers import floors_past_entries

    made, _unplaced = floors_past_entries(given.events, given.entries, backup_id=backup_id,
                                          restored_at=to_iso_utc(utcnow()))
    written: list[RegisterFloor] = []
    for floor in made:
        earlier = given.floors.get(floor.key)
        if earlier is not None:
            lost = {(x.number, x.record_id, x.seq): x for x in (*earlier.lost, *floor.lost)}
            floor = replace(floor, number=max(floor.number, earlier.number),
                            lost=tuple(lost[k] for k in sorted(lost)))
        target.put(floor.key, floor.to_json(given.sealer))
        written.append(floor)
    return tuple(written)


def restore_object(target: ObjectStore, key: str, data: bytes, sha256: str) -> None:
    """Make ``key`` hold ``data`` (its SHA-256 ``sha256``): created if absent; if present with
    other bytes, replaced. A key of a family that is never created conditionally
    (:func:`replaced_only`: derived objects, ingest jobs) is read first and replaced if absent or other (m53:
    an S3 store in the claims mode writes it without a claim, so a create could not find it)."""
    if replaced_only(key) is None:
        try:
            target.put_if_absent(key, data)
            return
        except AlreadyExists:
            pass
    try:
        held = hashlib.sha256(target.get(key)).hexdigest()
    except NotFound:
        held = None
    if held != sha256:
        target.put(key, data)


def checked_copy(destination: ObjectStore, key: str, sha256: str) -> bytes:
    """The copy of ``key`` a backup holds, its SHA-256 checked; :class:`BackupError` (a code, not
    a bare ``NotFound``) when it is missing or changed."""
    try:
        data = read_blob(destination, sha256)
    except NotFound:
        raise BackupError(f"Thiếu bản sao của “{key}”; không khôi phục.", key=key) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BackupError(f"Bản sao của “{key}” đã bị thay đổi; không khôi phục.", key=key)
    return data


KEEP_BLOB_BYTES = 8 * 1024 * 1024
"""A checked blob up to this size is kept by :func:`check_copies` (``keep``) for the restore's
write; a larger one is read and checked again when it is written."""
KEEP_TOTAL_BYTES = 256 * 1024 * 1024
"""At most this many checked bytes are kept in all, so that restoring a large store does not
hold it in memory; the blobs past it are read again, as the larger ones are."""


def check_copies(
    destination: ObjectStore, manifest: Mapping[str, Any], *, keep: bool = False
) -> dict[str, bytes]:
    """Read every blob a manifest names and check it (:func:`checked_copy`), each digest once,
    before a restore changes anything; each entry's form first (:func:`entry_problem`).

    With ``keep``, the checked bytes by SHA-256 of the blobs of at most
    :data:`KEEP_BLOB_BYTES` each, up to :data:`KEEP_TOTAL_BYTES` in all (the rest must be read
    again); otherwise an empty mapping. Every blob is checked either way: a missing or changed
    one raises :class:`BackupError` whatever was kept before it."""
    seen: set[str] = set()
    kept: dict[str, bytes] = {}
    room = KEEP_TOTAL_BYTES
    for entry in manifest["objects"]:
        if (problem := entry_problem(entry)) is not None:
            raise BackupError(f"{problem} Bản sao lưu đã bị sửa hoặc hỏng; không khôi phục.",
                              backup_id=manifest.get("backup_id"))
        if entry["sha256"] not in seen:
            data = checked_copy(destination, entry["key"], entry["sha256"])
            seen.add(entry["sha256"])
            if keep and len(data) <= min(KEEP_BLOB_BYTES, room):
                kept[entry["sha256"]] = data
                room -= len(data)
    return kept


AUDIT_PREFIX = "audit/"
"""The audit log's objects (events, witness, checkpoints in the store): what a restore checks
against the signed checkpoints outside the store before it writes anything."""


def stage_audit(destination: ObjectStore, manifest: Mapping[str, Any], into: ObjectStore) -> int:
    """Copy the audit log a backup holds (every entry under :data:`AUDIT_PREFIX`, each hash
    checked) into ``into``, a scratch store, so that it can be verified before the restore
    writes the real store. The number of objects copied."""
    copied = 0
    for entry in manifest["objects"]:
        if not str(entry["key"]).startswith(AUDIT_PREFIX):
            continue
        data = checked_copy(destination, entry["key"], entry["sha256"])
        into.put_if_absent(entry["key"], data)
        copied += 1
    return copied


def store_hashes(store: ObjectStore, keys: Iterable[str] | None = None) -> dict[str, str]:
    """SHA-256 of every object (or of ``keys``), for comparing a restore with its origin."""
    names = list(keys) if keys is not None else [info.key for info in store.list("")]
    return {key: hashlib.sha256(store.get(key)).hexdigest() for key in names}


def manifest_hashes(manifest: dict[str, Any]) -> dict[str, str]:
    return {entry["key"]: entry["sha256"] for entry in manifest["objects"]}


def describe(report: BackupReport) -> dict[str, Any]:
    """What the audit event of a backup records."""
    return {
        "backup_id": report.backup_id,
        "objects": report.objects,
        "bytes": report.bytes,
        "copied_bytes": report.copied_bytes,
        "sampled": report.sampled,
        "manifest_sha256": report.manifest_sha256,
    }


__all__ = [
    "BackupError",
    "BackupReport",
    "RecordsHeld",
    "RestoreReport",
    "ShredReport",
    "VerifyReport",
    "apply_tombstones",
    "backup",
    "backups",
    "describe",
    "destruction_rows",
    "due_for_shredding",
    "key_left_out",
    "manifest_hashes",
    "read_blob",
    "read_manifest",
    "reapply_destructions",
    "restore",
    "shred_destroyed_keys",
    "store_hashes",
    "verify_backup",
]


# -- crypto-shredding reaches the key-store backups ------------------------------------------------
@dataclass(frozen=True)
class ShredReport:
    due: tuple[str, ...]
    """Records whose keys were removed from the key backups in this run."""
    manifests: int
    """Manifests rewritten without those keys."""
    blobs: int
    """Key blobs deleted."""


def due_for_shredding(destroyed: Mapping[str, str], *, period_days: int, now: datetime) -> set[str]:
    """Records destroyed at least ``period_days`` before ``now`` (``destroyed``: record id → UTC
    instant of its destruction): their keys must be gone from every key backup (pure)."""
    cutoff = now - timedelta(days=period_days)
    return {rid for rid, at in destroyed.items() if parse_iso(at) <= cutoff}


def shred_destroyed_keys(
    key_destination: ObjectStore,
    destroyed: Mapping[str, str],
    *,
    period_days: int,
    now: datetime,
    sealer: Sealer | None = None,
) -> ShredReport:
    """Remove the keys of records destroyed ``period_days`` ago or more from every key-store
    backup in ``key_destination``: each manifest is rewritten without them, then every blob no
    manifest lists any more is deleted. An old backup restored afterwards has no such key, so
    the record's content stays unreadable (invariant 7). Before the period ends, a restore can
    still bring a key back; that window is what ``KHO_KEY_BACKUP_SHRED_DAYS`` states. Every
    manifest is shredded, whatever its seal (taking a key out is never unsafe); one whose seal
    checked with ``sealer`` is sealed again, any other is written back as it was stored, so
    shredding never seals what nobody vouched for."""
    due = due_for_shredding(destroyed, period_days=period_days, now=now)
    gone = {f"keys/{rid}" for rid in due}
    referenced: set[str] = set()
    rewritten = 0
    for backup_id in backups(key_destination):
        found = load_manifest(key_destination, backup_id)
        manifest = found.manifest
        kept = [e for e in manifest["objects"] if e["key"] not in gone]
        if len(kept) != len(manifest["objects"]):
            body = {**found.stored, "objects": [e for e in found.stored["objects"] if e["key"] not in gone]}
            if sealer is not None and manifest_vouched(sealer, found):
                body = sealer.seal(BACKUP_MANIFEST.name, found.key, body)
            key_destination.put(found.key, json.dumps(body, ensure_ascii=False, sort_keys=True).encode())
            rewritten += 1
        referenced.update(blob_key(e["sha256"]) for e in kept)
    deleted = 0
    if rewritten:
        for info in list(key_destination.list(BLOBS_PREFIX)):
            if info.key not in referenced:
                key_destination.delete(info.key)
                deleted += 1
    return ShredReport(tuple(sorted(due)), rewritten, deleted)


# -- a restore never resurrects a destroyed record -------------------------------------------------
def destruction_rows(
    store: ObjectStore, *, backed_up: bool, sealer: Sealer | None = None
) -> dict[str, bytes]:
    """The "đã hủy" rows (``catalog/destroyed/<id>`` → bytes) of a live store, or of the newest
    store backup in a backup destination (``backed_up``; its manifest's seal judged by
    ``sealer``: a forged one could otherwise have live records destroyed at a restore). A
    destination that cannot be read gives none (the restore goes on with what it can reach, and
    says which it read)."""
    from repository.records import DESTROYED_PREFIX

    if not backed_up:
        return {info.key: store.get(info.key) for info in store.list(DESTROYED_PREFIX)}
    found = backups(store, "store")
    if not found:
        return {}
    rows: dict[str, bytes] = {}
    for entry in read_manifest(store, found[-1], sealer=sealer)["objects"]:
        if entry_problem(entry) is None and entry["key"].startswith(DESTROYED_PREFIX):
            rows[entry["key"]] = read_blob(store, entry["sha256"])
    return rows


def reapply_destructions(repo: Any, rows: Mapping[str, bytes], *, actor: Any) -> tuple[str, ...]:
    """After a restore, put back every "đã hủy" row known to a newer state than the restored
    backup (the store before the restore, the newest copies) and destroy the record's key again
    if the restored key store brought it back: a restore cannot undo a destruction. Each record
    so treated is audited as ``backup:reapply-destruction``."""
    from repository.records import DESTROYED_PREFIX

    done: list[str] = []
    for key, data in sorted(rows.items()):
        record_id = key.removeprefix(DESTROYED_PREFIX)
        wrote = False
        try:
            repo.store.put_if_absent(key, data)
            wrote = True
        except AlreadyExists:
            pass
        had_key = repo.keys.exists(record_id)
        if had_key:
            repo.keys.destroy(record_id)
        if wrote or had_key:
            repo.audit.append(
                actor.user, "backup:reapply-destruction", record_id=record_id, source=actor.source,
                details={"row_restored": wrote, "key_destroyed": had_key},
            )
            done.append(record_id)
    return tuple(done)


def apply_tombstones(repo: Any, tombstones: Mapping[str, Any], *, actor: Any) -> tuple[str, ...]:
    """Destroy again every record a destruction ledger has a tombstone for (the tombstones of
    :func:`repository.ledger.check_ledger`), whatever the age of the restored copy: its "đã hủy"
    row is put back byte for byte from the tombstone when the restored store has the record, its
    derived text is removed, and its key is destroyed if the restored key store brought it
    back. Run right after the restore, before anything is indexed or served. Each record so
    treated is audited as ``backup:reapply-destruction`` (``from``: ``ledger``)."""
    from repository.records import DESTROYED_PREFIX

    done: list[str] = []
    for record_id, stone in sorted(tombstones.items()):
        row_key = f"{DESTROYED_PREFIX}{record_id}"
        known = repo.store.exists(row_key) or any(True for _ in repo.store.list(f"records/{record_id}/"))
        wrote = False
        if known:
            try:
                repo.store.put_if_absent(row_key, stone.row)
                wrote = True
            except AlreadyExists:
                pass
        had_key = repo.keys.exists(record_id)
        if had_key:
            repo.keys.destroy(record_id)
        for info in list(repo.store.list(f"records/{record_id}/derived/")):
            repo.store.delete(info.key)
        if wrote or had_key:
            repo.audit.append(
                actor.user, "backup:reapply-destruction", record_id=record_id, source=actor.source,
                details={"from": "ledger", "row_restored": wrote, "key_destroyed": had_key,
                         "decision": stone.decision, "destroyed_at": stone.destroyed_at,
                         "ledger_entry": stone.seq},
            )
            done.append(record_id)
    return tuple(done)
