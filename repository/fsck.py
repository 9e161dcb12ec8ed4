"""``kho fsck``: find, and with ``repair`` mend, what a crash or tampering left in the store.

A crash can leave only garbage written before a commit point (temp files, a record's key,
content and duplicate guards with no committed version) or a committed first version not yet
materialised from its register entry. Neither is visible to readers; fsck removes the first
and rolls the second forward. It also reports what it cannot mend: register gaps, originals
whose bytes no longer match their digest (``deep``), and breaks in the audit chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from kho.errors import IntegrityError, KeyDestroyed, KhoError, NotFound
from kho.timeutil import utcnow
from repository import formats
from repository.accounts import Account, Notification, Token, Unit
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditEvent
from repository.records import Actor, Record, Repository, content_key, version_key
from repository.registers import RegisterEntry
from repository.storage.local import LocalStore

JOBS_PREFIX = "ingest/jobs/"
FSCK = Actor(user="system:fsck", source="kho fsck", system=True)


@dataclass(frozen=True)
class Issue:
    kind: str
    """``temp-file`` | ``uncommitted`` | ``rolled-forward`` | ``stale-claim`` | ``register-gap``
    | ``fixity`` | ``unaudited`` | ``audit`` | ``format`` (a stored object that does not load)."""
    subject: str
    message: str
    repaired: bool


@dataclass(frozen=True)
class FsckReport:
    issues: tuple[Issue, ...]
    records: int
    register_entries: int

    @property
    def clean(self) -> bool:
        return not self.issues

    @property
    def unrepaired(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if not i.repaired)


def _age_seconds(record_id: str, now: datetime) -> float:
    try:
        millis = int(record_id[:12], 16)
    except ValueError:
        return float("inf")
    return now.timestamp() - millis / 1000


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
    if key.startswith("registers/"):
        entry = RegisterEntry.from_json(store.get(key))
        sealed = base64.b64decode(entry.sealed_version)
        plain = repo.keys.open(entry.record_id, sealed, version_key(entry.record_id, entry.version))
        Record.from_dict(json.loads(plain))
        return formats.REGISTER_ENTRY.label
    if key.startswith(EVENTS_PREFIX):
        AuditEvent.from_json(store.get(key))
        return formats.AUDIT_EVENT.label
    if key == WITNESS_KEY:
        formats.loads(formats.WITNESS.name, store.get(key))
        return formats.WITNESS.label
    if key.startswith(JOBS_PREFIX) and key.endswith(".json"):
        from ingest.status import JobStatus

        JobStatus.from_dict(json.loads(store.get(key)))
        return formats.JOB.label
    if key.startswith("claims/"):
        formats.loads(formats.CLAIM.name, store.get(key))
        return formats.CLAIM.label
    return None


def _label_of(key: str) -> str:
    account_kind = _account_kind(key)
    if account_kind is not None:
        return account_kind.label
    for prefix, kind in (
        ("catalog/records/", formats.CATALOG_MARKER),
        ("catalog/agencies/", formats.AGENCY),
        ("registers/", formats.REGISTER_ENTRY),
        (EVENTS_PREFIX, formats.AUDIT_EVENT),
        (WITNESS_KEY, formats.WITNESS),
        (JOBS_PREFIX, formats.JOB),
        ("claims/", formats.CLAIM),
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
        except KeyDestroyed:
            continue  # destroyed on purpose (a record past its retention): nothing to read
        except Exception as exc:  # every failure is reported; none stops the walk
            issues.append(_unloadable(info.key, _label_of(info.key), exc))
    return issues


def fsck(
    repo: Repository, *, repair: bool = False, deep: bool = False, grace_seconds: float = 300
) -> FsckReport:
    store = repo.store
    issues: list[Issue] = []
    now = utcnow()

    # 1. Temp files of writers that died.
    if isinstance(store, LocalStore):
        for path in store.stale_temp_files(older_than_s=grace_seconds):
            if repair:
                path.unlink(missing_ok=True)
            issues.append(Issue("temp-file", path.name, f"Tệp tạm còn sót: {path.name}.", repair))

    # 2. Register entries: roll forward, and check numbering has no gap.
    entries = 0
    registered: set[str] = set()
    last: tuple[str, int] | None = None
    for info in store.list("registers/"):
        entries += 1
        try:
            entry = RegisterEntry.from_json(store.get(info.key))
        except (KhoError, ValueError, TypeError) as exc:
            issues.append(_unloadable(info.key, formats.REGISTER_ENTRY.label, exc))
            continue
        registered.add(entry.record_id)
        series = info.key.rsplit("/", 1)[0]
        expected = last[1] + 1 if last and last[0] == series else 1
        if entry.number != expected:
            issues.append(
                Issue(
                    "register-gap",
                    info.key,
                    f"Sổ {series}: thiếu số từ {expected:02d} đến {entry.number - 1:02d}.",
                    False,
                )
            )
        last = (series, entry.number)
        if not store.exists(version_key(entry.record_id, entry.version)):
            if repair:
                repo._materialise(entry)
            issues.append(
                Issue(
                    "rolled-forward",
                    entry.record_id,
                    f"Văn bản số {entry.number:02d} ({series}) đã cấp số nhưng chưa ghi phiên bản"
                    " mang số đó: ghi bù từ sổ đăng ký.",
                    repair,
                )
            )

    # 3. Records that never committed (crash before the commit point).
    committed: list[str] = []
    for record_id in list(repo.record_ids()):
        if store.exists(version_key(record_id, 1)) or record_id in registered:
            committed.append(record_id)
            continue
        if _age_seconds(record_id, now) < grace_seconds:
            continue  # may still be in flight
        if repair:
            for info in list(store.list(f"records/{record_id}/")):
                store.delete(info.key)
            repo.keys.destroy(record_id)
            store.delete(f"catalog/records/{record_id}")
        issues.append(
            Issue(
                "uncommitted",
                record_id,
                f"Bản ghi {record_id} dở dang (chưa được xác nhận ghi): dọn bỏ.",
                repair,
            )
        )

    # 4. Duplicate guards that point at nothing.
    live = set(committed)
    for info in list(store.list("claims/")):
        try:
            rid = formats.loads(formats.CLAIM.name, store.get(info.key))["record_id"]
        except (KhoError, KeyError) as exc:
            issues.append(_unloadable(info.key, formats.CLAIM.label, exc))
            continue
        if rid in live or _age_seconds(rid, now) < grace_seconds:
            continue
        if repair:
            store.delete(info.key)
        issues.append(
            Issue("stale-claim", info.key, f"Khóa chống trùng {info.key} không còn bản ghi.", repair)
        )

    # 5. Fixity of every original (deep).
    if deep:
        for record_id in committed:
            try:
                record = repo._load(record_id)
            except KhoError:
                continue  # destroyed, or does not load (named by the format check)
            for stored in record.files:
                key = content_key(record_id, stored.sha256)
                try:
                    data = repo.keys.open(record_id, store.get(key), key)
                    if hashlib.sha256(data).hexdigest() != stored.sha256:
                        raise IntegrityError("digest mismatch")
                except (IntegrityError, NotFound):
                    issues.append(
                        Issue(
                            "fixity",
                            key,
                            f"Tệp gốc “{stored.original_name}” của {record_id} bị thay đổi hoặc"
                            " mất (không khớp SHA-256).",
                            False,
                        )
                    )

    # 6. Every stored object loads in the formats this code reads (deep).
    if deep:
        issues.extend(check_formats(repo))

    # 7. Audit: every committed record has its creation event; the chain holds.
    creations = ("record:create", "file:create", "record:recovered")
    created: set[str | None] = set()
    for info in store.list(EVENTS_PREFIX):
        try:
            event = AuditEvent.from_json(store.get(info.key))
        except (KhoError, ValueError, TypeError):
            continue  # reported by the chain check below
        if event.action in creations:
            created.add(event.record_id)
    for record_id in committed:
        if record_id not in created:
            if repair:
                repo.audit.append(
                    FSCK.user,
                    "record:recovered",
                    record_id=record_id,
                    version=1,
                    source=FSCK.source,
                    details={"reason": "committed before the writer stopped; event restored by fsck"},
                )
            issues.append(
                Issue(
                    "unaudited",
                    record_id,
                    f"Bản ghi {record_id} thiếu sự kiện tạo lập trong nhật ký: ghi bổ sung.",
                    repair,
                )
            )
    report = repo.audit.verify()
    for finding in report.findings:
        issues.append(Issue("audit", f"#{finding.seq}", finding.message, False))
    return FsckReport(issues=tuple(issues), records=len(committed), register_entries=entries)
