"""The scheduled operations (backup, fixity audit, capacity check) as one function each, so the
``kho`` commands and the Celery beat tasks (:mod:`retention.tasks`) run the same steps and write
the same audit events.

Each takes the repository, the settings and who acts (an operator at the command line, the
scheduler under Celery beat) and returns frozen results; every step that changes state is an
audit event through ``repo.audit``.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from kho.config import Settings
from kho.errors import (
    BackupError,
    BackupRunning,
    FixityRunning,
    InstallationInvalid,
    KhoError,
    RestoreBusy,
    RestoreHistoryBehind,
)
from kho.sentences import sentences
from kho.timeutil import parse_iso
from repository.installation import (
    RestoreIdentity,
    beyond_setup,
    ensure_installation,
    manifest_installation,
    read_installation,
    renew_installation,
    restore_identity,
)
from repository.ledger import Tombstone
from repository.policy import ALERTED, Role, notice_recipients
from repository.records import DESTROYED_PREFIX, Actor, Repository
from repository.rollback import note_restored
from repository.seals import Sealer
from repository.service import outside_ledger
from repository.storage import open_store
from repository.storage.base import ObjectStore
from repository.vocabulary import blank, typed_text
from retention import runlock
from retention.backup import RecordsHeld, RestoreReport, ShredReport, backup, describe, shred_destroyed_keys
from retention.capacity import Capacity, measure
from retention.fixity import FixityReport, audit_fixity, clear_mended_findings

SCHEDULER = Actor(user="scheduler", source="celery-beat", system=True)
"""Who acts in the scheduled jobs (the system, said aloud in every audit event)."""


@dataclass(frozen=True)
class BackupRun:
    copies: tuple[dict[str, Any], ...]
    """One entry per copy made: what its ``backup:create`` audit event records, plus seconds."""
    shredded: ShredReport


def backup_targets(settings: Settings, targets: Sequence[str] = (), keys_to: str | None = None) -> tuple[
    tuple[str, ...], str
]:
    """The store's destinations and the key store's one; refuses a missing or shared one."""
    chosen = tuple(targets) or settings.backup_urls
    keys = keys_to or settings.backup_keys_url
    if not chosen or not keys:
        raise KhoError(
            "Cần nơi sao lưu kho (--to hoặc KHO_BACKUP_URLS) và nơi sao lưu kho khóa riêng (--keys-to hoặc"
            " KHO_BACKUP_KEYS_URL).",
            code="BACKUP_TARGET_MISSING",
        )
    if any(shares_medium(keys, url) for url in chosen):
        raise KhoError("Kho khóa phải được sao lưu ở nơi khác với kho.", code="BACKUP_TARGET_MISSING")
    # On S3 a bucket name is one place only on one server: backups on a second server
    # (KHO_BACKUP_S3_ENDPOINT) may reuse the store's bucket names.
    second_server = bool(settings.backup_s3_endpoint) and settings.backup_s3_endpoint != settings.s3_endpoint
    running = [u for u in (settings.store_url, settings.keystore_url) if not (second_server and u.startswith("s3://"))]
    for url in (*chosen, keys):
        if any(shares_medium(url, place) for place in running):
            raise KhoError(
                f"Nơi sao lưu “{url}” nằm trong (hoặc chứa) chính kho hay kho khóa đang chạy: chọn nơi khác.",
                code="BACKUP_TARGET_MISSING",
            )
    return chosen, keys


def _place(url: str) -> tuple[str, str]:
    if url.startswith("s3://"):
        return "s3", url.removeprefix("s3://").strip("/").split("/")[0].lower()
    return "file", str(Path(url.removeprefix("file://")).resolve())


def shares_medium(a: str, b: str) -> bool:
    """Whether two places are one (pure but for resolving folder links): the same bucket, or the
    same folder or one inside the other, however the URL is spelt (``file:///usb`` and
    ``file:///usb/``, ``/usb/keys``). Compared as strings, keys and content could land on one
    medium, and a copy inside the store it copies."""
    kind_a, where_a = _place(a)
    kind_b, where_b = _place(b)
    if kind_a != kind_b:
        return False
    if kind_a == "s3":
        return where_a == where_b
    return where_a == where_b or where_a.startswith(where_b.rstrip("/") + "/") or where_b.startswith(
        where_a.rstrip("/") + "/"
    )


def manifest_sealer(settings: Settings) -> Sealer:
    """What seals and checks backup manifests: the key derived from ``KHO_MASTER_KEY`` (none:
    nothing sealed or checked), in the upgrade window while ``KHO_ALLOW_UNSEALED`` is set."""
    return Sealer.from_master_key(settings.master_key, allow_unsealed=settings.allow_unsealed)


def run_backup(
    repo: Repository,
    settings: Settings,
    actor: Actor,
    *,
    targets: Sequence[str] = (),
    keys_to: str | None = None,
    now: datetime,
) -> BackupRun:
    """Checkpoint the audit chain (when a signing key is configured), back the store up to
    every destination and the key store to its own, audit each copy, then shred the keys of
    records destroyed more than ``KHO_KEY_BACKUP_SHRED_DAYS`` ago from the key backups.

    One run at a time per installation (:mod:`retention.runlock`): a second ``kho backup`` or
    scheduled backup started while one runs is refused at once with BACKUP_RUNNING, nothing
    copied or audited as made. Interleaved, a key copy begun before a store copy ended would seem
    to cover it (restore compares their ends, rv15)."""
    stores, keys = backup_targets(settings, targets, keys_to)
    with one_run(settings, "backup", ("backup",), backup_running):
        return _backup_run(repo, settings, actor, stores, keys, now=now)


RUNS = {"backup": "sao lưu", "restore": "khôi phục", "fixity": "kiểm tra toàn vẹn"}
"""The operations that take run locks (:mod:`retention.runlock`), named for people. A backup
takes ``backup``; a fixity run ``fixity``; a restore both (it replaces what they read and write)."""


@contextlib.contextmanager
def one_run(
    settings: Settings, operation: str, locks: Sequence[str], busy: Callable[[runlock.Holder], KhoError]
) -> Iterator[None]:
    """Hold every lock of ``locks`` (in that order, none waited for) for the ``with`` block, or
    raise ``busy(holder)`` at once; a lock file that cannot be opened is
    ``<OPERATION>_LOCK_UNAVAILABLE``. Nothing is done before every lock is held."""
    with contextlib.ExitStack() as stack:
        for name in locks:
            try:
                stack.enter_context(runlock.held(settings.data_dir, name, operation))
            except runlock.Busy as refused:
                raise busy(refused.holder) from None
            except runlock.Unavailable as exc:
                raise BackupError(
                    f"Không mở được tệp khóa “{exc.path}” (trong thư mục dữ liệu KHO_DATA_DIR): {exc}."
                    f" Chưa {RUNS[operation]} gì; hãy kiểm tra quyền ghi của thư mục đó.",
                    code=f"{operation.upper()}_LOCK_UNAVAILABLE",
                    errno=exc.errno_name,
                ) from exc
        yield


R = TypeVar("R")
P = ParamSpec("P")
Operation = Callable[Concatenate[Repository, Settings, P], R]


def _one_run_of(
    operation: str, locks: Sequence[str], busy: Callable[[runlock.Holder], KhoError]
) -> Callable[[Operation[P, R]], Operation[P, R]]:
    """The decorated operation (repository and settings first) runs under :func:`one_run`."""

    def decorate(run: Operation[P, R]) -> Operation[P, R]:
        @functools.wraps(run)
        def held(repo: Repository, settings: Settings, *args: P.args, **kwargs: P.kwargs) -> R:
            with one_run(settings, operation, locks, busy):
                return run(repo, settings, *args, **kwargs)

        return held

    return decorate


def _holder(holder: runlock.Holder) -> str:
    who = f"tiến trình {holder.pid} trên máy “{holder.host}”" if holder.pid else "một tiến trình khác"
    since = f", bắt đầu lúc {holder.started} (UTC)" if holder.started else ""
    return f"Đang có một lần {RUNS.get(holder.operation, 'sao lưu')} khác chạy ({who}{since})"


def backup_running(holder: runlock.Holder) -> BackupRunning:
    return BackupRunning(
        f"{_holder(holder)}; lần sao lưu này không chạy để hai lần không chép xen nhau. Hãy chờ lần"
        " kia xong rồi chạy lại “kho backup” nếu cần.",
        pid=holder.pid, host=holder.host, started=holder.started, operation=holder.operation,
    )


def restore_busy(holder: runlock.Holder) -> RestoreBusy:
    return RestoreBusy(
        f"{_holder(holder)}; chưa khôi phục gì, để kho không bị thay trong khi đang được chép, sửa"
        " hoặc khôi phục. Hãy chờ lần kia xong rồi chạy lại “kho restore”.",
        pid=holder.pid, host=holder.host, started=holder.started, operation=holder.operation,
    )


def fixity_running(holder: runlock.Holder) -> FixityRunning:
    return FixityRunning(
        f"{_holder(holder)}; lần kiểm tra toàn vẹn này không chạy, để không sửa cùng tệp hai lần hay"
        " ghi vào kho đang được khôi phục. Hãy chờ lần kia xong rồi chạy lại “kho fixity” nếu cần.",
        pid=holder.pid, host=holder.host, started=holder.started, operation=holder.operation,
    )


def _backup_run(
    repo: Repository, settings: Settings, actor: Actor, stores: Sequence[str], keys: str, *, now: datetime
) -> BackupRun:
    from repository.anchor import make_checkpoint

    # The store's identity first (given now, audited, to a store made before identities; an
    # invalid one stops the run, nothing copied): every manifest names it (review rv39).
    identity = ensure_installation(repo.store, repo.audit, actor, why="backup").installation_id
    if repo.anchor is not None and repo.anchor.signing_key is not None:
        try:
            # each copy carries a signed head of the chain (refused over a forged event: on record)
            make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)
        except KhoError as exc:  # a TSA down must not stop the daily backup; it is on record
            repo.audit.append(
                actor.user, "audit:checkpoint-failed", source=actor.source,
                details={"code": exc.code, "message": str(exc)},
            )
    copies: list[dict[str, Any]] = []
    sealer = manifest_sealer(settings)
    plan = [("store", repo.store, url, settings.backup_options()) for url in stores]
    plan.append(("keys", repo.keys.store, keys, settings.key_backup_options()))
    rows = [repo.store.get(info.key) for info in repo.store.list(DESTROYED_PREFIX)]
    held: RecordsHeld | None = None
    """What the records copies made so far hold: the key copy, made after them, leaves out the
    keys of young records none of them holds anything of (any of them may be restored)."""
    for label, source, url, options in plan:
        lock_days = settings.backup_lock_days if label == "store" else 0
        destination = open_store(url, **options)
        report = backup(source, destination, label=label, lock_days=lock_days, sealer=sealer,
                        installation=identity, records=held if label == "keys" else None)
        if label == "store":
            held = report.records if held is None else held | report.records
        details = {**describe(report), "destination": url, "label": label, "lock_days": lock_days}
        if label == "keys":  # keys of young records no records copy holds anything of
            details["keys_left_out"] = report.keys_left_out
        # Every destination carries the destruction ledger, with a tombstone of every destroyed
        # record (one made while the destination was away is added now).
        details["tombstones_added"] = sync_ledger(repo, settings, destination, rows, now=now)
        repo.audit.append(actor.user, "backup:create", source=actor.source, details=details)
        copies.append({**details, "seconds": round(report.seconds, 3)})
    if (outside := outside_ledger(settings)) is not None:
        # The copy outside the store and the backups: destructions made before it existed (or
        # while it was away) are added, so a restore finds every tombstone there too.
        sync_ledger(repo, settings, outside[1](), rows, now=now)
    shredded = shred_key_backups(repo, settings, actor, keys, now=now)
    return BackupRun(tuple(copies), shredded)


def sync_ledger(
    repo: Repository, settings: Settings, destination: ObjectStore, rows: Sequence[bytes], *, now: datetime
) -> int:
    """Start the destruction ledger at ``destination`` and append the tombstone of every "đã
    hủy" row it lacks; how many were added."""
    from repository.ledger import INDEX_PREFIX, append_tombstone, ensure_genesis, tombstone_fields
    from repository.service import destruction_ledger

    ledger = destruction_ledger(settings, repo.anchor)
    key = ledger.signing_key() if ledger is not None else (
        repo.anchor.private_key() if repo.anchor is not None and repo.anchor.signing_key is not None else None
    )
    lock_days = ledger.lock_days if ledger is not None else 0
    ensure_genesis(destination, signing_key=key, lock_days=lock_days, now=now)
    have = {info.key.removeprefix(INDEX_PREFIX) for info in destination.list(INDEX_PREFIX)}
    added = 0
    for row in rows:
        if tombstone_fields(row)["record_id"] not in have:
            append_tombstone(destination, row, signing_key=key, lock_days=lock_days, now=now)
            added += 1
    return added


@dataclass(frozen=True)
class LedgerReading:
    """What a restore learnt from the destruction ledgers it could reach."""

    reached: tuple[str, ...]
    unreachable: tuple[str, ...]
    tombstones: Mapping[str, Tombstone]
    problems: tuple[str, ...]


def read_ledgers(
    repo: Repository, places: Sequence[tuple[str, ObjectStore | Callable[[], ObjectStore]]]
) -> LedgerReading:
    """Read and check the destruction ledger at every place; the union of their trusted
    tombstones. A place that cannot be read, or holds no ledger, is unreachable."""
    from repository.ledger import verify_ledger

    public_key = repo.anchor.public_key() if repo.anchor is not None else None
    reached: list[str] = []
    unreachable: list[str] = []
    stones: dict[str, Tombstone] = {}
    problems: list[str] = []
    for name, place in places:
        try:
            store = place() if callable(place) else place
            report = verify_ledger(store, public_key)
        except (KhoError, OSError):
            unreachable.append(name)
            continue
        if not report.present:
            unreachable.append(name)
            continue
        reached.append(name)
        problems += [f"{name}: [{p.kind}] {p.message}" for p in report.problems]
        for record_id, stone in report.tombstones.items():
            stones.setdefault(record_id, stone)
    return LedgerReading(tuple(reached), tuple(unreachable), stones, tuple(problems))


def shred_key_backups(
    repo: Repository, settings: Settings, actor: Actor, url: str, *, now: datetime
) -> ShredReport:
    """Crypto-shredding reaches the key backups once ``KHO_KEY_BACKUP_SHRED_DAYS`` have passed."""
    report = shred_destroyed_keys(
        open_store(url, **settings.key_backup_options()),
        repo.destruction_times(),
        period_days=settings.key_backup_shred_days,
        now=now,
        sealer=manifest_sealer(settings),
    )
    if report.blobs or report.manifests:
        repo.audit.append(
            actor.user,
            "backup:shred-keys",
            source=actor.source,
            details={"destination": url, "records": list(report.due), "manifests": report.manifests,
                     "blobs": report.blobs},
        )
    return report


def run_fixity(
    repo: Repository,
    settings: Settings,
    actor: Actor,
    *,
    today: date,
    period_days: int | None = None,
    sources: Sequence[str] = (),
) -> FixityReport:
    """The share of originals due ``today`` (every one within ``period_days`` runs), damaged
    ones repaired from the backup copies; audited as ``fixity:check`` / ``fixity:repair``."""
    options = settings.backup_options()
    copies = [open_store(url, **options) for url in tuple(sources) or settings.backup_urls]
    period = period_days if period_days is not None else settings.fixity_period_days
    with one_run(settings, "fixity", ("fixity",), fixity_running):
        report = audit_fixity(repo, actor=actor, period=period, run=today.toordinal(), copies=copies)
        clear_mended_findings(repo, actor=actor)
    if report.damaged:
        alert_fixity(repo, settings, actor, report)
    return report




def notify_operators(
    repo: Repository,
    settings: Settings,
    kind: str,
    message: str | Callable[[tuple[str, ...]], str],
    *,
    records: Sequence[str] = (),
    agency_only: bool = False,
) -> tuple[list[str], dict[str, str]]:
    """Leave ``message`` for every active account holding one of :data:`ALERTED`; who was told,
    and who could not be (username, or ``*`` when the accounts could not be read → code). Never
    raises: an alert that cannot be delivered must not hide what it is about.

    ``records``: the ids of the records the notice is about. Each record is told to the people
    :func:`~repository.policy.notice_recipients` names (on :meth:`Repository.notice_facts`:
    the quản trị, the lưu trữ viên who may know of it, and where its unit has no lưu trữ viên
    its văn thư or its nearest lãnh đạo, m62), ``message`` being then a function of the ids a
    person is told; a person told of none of them gets nothing (review rv59: every fixity notice
    named its damaged record ids to every lưu trữ viên of every unit).

    ``agency_only``: told only to whoever holds one of :data:`ALERTED` at the agency's own unit
    (:attr:`Repository.agency_id`), for what is the installation's rather than a record's: a
    scheduled job that failed (backup, fixity, capacity...), which the agency's quản trị runs
    (:attr:`~repository.policy.Action.OPERATE`). Its message is the job's error, which nothing
    keeps from naming a record (review rv59: it reached every lưu trữ viên of every phòng)."""
    from repository.service import open_accounts

    notified: list[str] = []
    failed: dict[str, str] = {}
    try:
        accounts = open_accounts(repo, settings)
        unit = repo.agency_id if agency_only else None  # None: a role held in any unit
        active = [a for a in accounts.accounts() if a.active]
        people = [a for a in active if any(a.has_role(r, unit) for r in ALERTED)]
        told: dict[str, frozenset[str]] = {}  # record id → who is told of it
        if records:
            # The unit tree and a lãnh đạo's or lưu trữ viên's principal (which reads it) may be
            # refused (a unit rolled back in the store: UNIT_ROLLED_BACK, review s20). Then the
            # others are still told (review rv62: since m62 one refusal here told nobody, the
            # quản trị who restores the record included): without the tree, no head above the
            # record's unit is reached; a person whose principal is refused is reported failed.
            principals = []
            for account in (a for a in active if a.roles & KEEPER_ROLES):
                try:
                    principals.append(accounts.principal_of(account))
                except KhoError as exc:
                    failed[account.username] = exc.code
            try:
                parents = {u.unit_id: u.parent_id for u in accounts.units()}
            except KhoError:
                parents = {}
            read = {p.user for p in principals}
            keepers = [a for a in active if a.username in read]
            for record_id in dict.fromkeys(records):
                facts = repo.notice_facts(record_id)
                told[record_id] = notice_recipients(facts, principals, unit_line(facts.unit, parents))
            people = [a for a in keepers if any(a.username in t for t in told.values())]
    except KhoError as exc:
        return notified, {"*": exc.code}
    for account in people:
        try:
            if callable(message):
                known = tuple(r for r, t in told.items() if account.username in t)
                if told and not known:
                    continue
                text = message(known)
            else:
                text = message
            accounts.notify(account.username, kind, text)
            notified.append(account.username)
        except KhoError as exc:
            failed[account.username] = exc.code
    return notified, failed


KEEPER_ROLES = frozenset({Role.QUAN_TRI, Role.LUU_TRU, Role.VAN_THU, Role.LANH_DAO})
"""The roles :func:`~repository.policy.notice_recipients` may tell of a record."""


def unit_line(unit: str, parents: Mapping[str, str | None]) -> list[str]:
    """``unit`` and the units above it, nearest first (``parents``: each unit's parent; a loop
    or an unknown parent ends it)."""
    line: list[str] = []
    current: str | None = unit
    while current is not None and current not in line:
        line.append(current)
        current = parents.get(current)
    return line


def record_of_key(key: str) -> str:
    """The record id an original's key names (``records/<id>/content/<sha256>``,
    :func:`repository.records.content_key`); the key itself when it names none."""
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "records" else key


def alert_fixity(repo: Repository, settings: Settings, actor: Actor, report: FixityReport) -> tuple[str, ...]:
    """Every fixity failure reaches a person, not only the log: each active quản trị and lưu trữ
    viên who may know of a damaged record gets a notification naming what of those was damaged,
    mended and not (:func:`notify_operators` with the records; an original changed in the store
    is also what an insider's edit looks like). Audited as
    ``fixity:alert`` with who was told; who could be told is returned."""
    unrepaired = report.unrepaired

    def message(known: tuple[str, ...]) -> str:
        """The notice of a person who may know of the records ``known``: only their originals,
        counted and named (a phòng's lưu trữ viên is not told how many the agency has damaged)."""
        damaged = [k for k in report.damaged if record_of_key(k) in known]
        repaired = [k for k in report.repaired if record_of_key(k) in known]
        left = [k for k in unrepaired if record_of_key(k) in known]
        return sentences(
            f"Kiểm tra toàn vẹn tệp gốc: {len(damaged)} tệp hỏng hoặc không kiểm tra được,"
            f" đã sửa từ bản sao lưu {len(repaired)}, CHƯA SỬA ĐƯỢC {len(left)}",
            f"Chưa sửa: {', '.join(left[:10])}" + (" …" if len(left) > 10 else "") if left else None,
            "Xem nhật ký (fixity:check) và chạy “kho fsck”",
        )

    records = [record_of_key(k) for k in report.damaged]
    notified, failed = notify_operators(repo, settings, "fixity", message, records=records)
    repo.audit.append(
        actor.user, "fixity:alert", source=actor.source,
        details={"notified": notified, "failed": failed, "damaged": len(report.damaged),
                 "unrepaired": list(unrepaired)},
    )
    return tuple(notified)


def run_capacity(repo: Repository, settings: Settings, actor: Actor) -> tuple[Capacity, ...]:
    """How full the store, the key store and each backup destination are; a ``capacity:warning``
    alert event names every place at or over ``KHO_CAPACITY_WARN_PERCENT``."""
    limits = {
        "warn_percent": settings.capacity_warn_percent,
        "critical_percent": settings.capacity_critical_percent,
    }
    places: list[tuple[str, Any]] = [("store", repo.store), ("keys", repo.keys.store)]
    options = settings.backup_options()
    places += [(url, open_store(url, **options)) for url in settings.backup_urls]
    if url := settings.backup_keys_url:
        places.append((url, open_store(url, **settings.key_backup_options())))
    found = tuple(measure(name, store, **limits) for name, store in places)
    alerts = [c for c in found if c.level in ("warning", "critical")]
    if alerts:
        repo.audit.append(
            actor.user,
            "capacity:warning",
            source=actor.source,
            details={c.name: {"level": c.level, "percent": round(c.percent, 1)} for c in alerts},
        )
    return found


@dataclass(frozen=True)
class RestoreRun:
    store: RestoreReport
    keys: RestoreReport
    ledger: LedgerReading
    redestroyed: tuple[str, ...]
    """Records destroyed again from the ledgers' tombstones."""
    reapplied: tuple[str, ...]
    """Records whose "đã hủy" row came from a newer copy or the replaced store."""
    indexed: int
    history_findings: tuple[str, ...] = ()
    """What the signed checkpoints outside the store say of the restored chain
    (:func:`backup_history_findings`, read before the restore): empty when the copy is the
    history they vouch for."""


def refuse_keys_behind(
    origin: ObjectStore, manifest: Mapping[str, Any], keys_manifest: Mapping[str, Any]
) -> None:
    """Refuse (``RESTORE_KEYS_BEHIND``, nothing written) a store copy finished after the key copy
    chosen with it: ``run_backup`` copies the key store after the store, so a run stopped between
    them (its time limit, a killed worker: u11) leaves a whole store copy, listed and the newest,
    whose documents registered since the key copy have no key; restoring it replaced the store
    and ended in ``KEY_DESTROYED`` (review rv15). Names the newest store copy the key copy
    covers."""
    from retention.backup import backups, load_manifest

    keys_done = parse_iso(str(keys_manifest.get("created_at", "")))
    if parse_iso(str(manifest.get("created_at", ""))) <= keys_done:
        return
    covered = next(
        (
            backup_id
            for backup_id in reversed(backups(origin, "store"))
            if parse_iso(str(load_manifest(origin, backup_id).manifest.get("created_at", ""))) <= keys_done
        ),
        None,
    )
    use = (
        f"Hãy khôi phục bản sao lưu “{covered}” (--id {covered}) hoặc chọn bản sao lưu kho khóa"
        " mới hơn (--keys-id)."
        if covered is not None
        else "Không có bản sao lưu kho nào cũ hơn nó: hãy chọn bản sao lưu kho khóa mới hơn (--keys-id)."
    )
    raise BackupError(
        f"Bản sao lưu kho “{manifest['backup_id']}” làm xong sau bản sao lưu kho khóa"
        f" “{keys_manifest['backup_id']}”: lần sao lưu đó đã dừng trước khi chép kho khóa (ví dụ quá"
        " giới hạn thời gian), nên các văn bản tạo sau bản sao lưu kho khóa sẽ không có khóa và không"
        f" đọc được. Chưa khôi phục gì. {use}",
        code="RESTORE_KEYS_BEHIND",
        backup_id=manifest["backup_id"],
        keys_backup_id=keys_manifest["backup_id"],
        covered=covered,
    )


@_one_run_of("restore", ("backup", "fixity"), restore_busy)
def run_restore(
    repo: Repository,
    settings: Settings,
    actor: Actor,
    *,
    source: str,
    keys_from: str,
    reindex: Callable[[], int],
    backup_id: str | None = None,
    keys_id: str | None = None,
    force: bool = False,
    without_ledger: bool = False,
    accept_older_history: str | None = None,
    from_another_installation: str | None = None,
    as_new_installation: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> RestoreRun:
    """Restore the store and the key store from their copies, destroy again every record a
    destruction ledger or a newer copy knows destroyed, then rebuild the index (``reindex``).

    The destruction ledgers of every backup destination are read first; with none reachable
    the restore is refused (``RESTORE_LEDGER_UNREACHABLE``) unless ``without_ledger``, which
    the audit event says. The audit log the chosen copy holds is checked against the signed
    checkpoints outside the store before anything is written (:func:`backup_history_findings`);
    a copy behind them, or edited, is refused (``RESTORE_HISTORY_BEHIND``) unless
    ``accept_older_history`` gives the reason (disaster recovery where nothing newer exists),
    which the audit event keeps with the findings.

    A backup of another installation than the target's, over a target in use, is refused
    (``RESTORE_OTHER_INSTALLATION``, :func:`repository.installation.restore_identity`) unless
    ``from_another_installation`` gives the reason, which the audit event keeps with both ids;
    ``as_new_installation`` gives the restored store a fresh id (a clone is a new installation).

    One at a time, and never beside a backup or a fixity run (:func:`one_run`: the backup and
    fixity locks): refused at once with RESTORE_BUSY, nothing read or written."""
    from repository.registers import floor_explained
    from retention.backup import (
        apply_tombstones,
        check_copies,
        destruction_rows,
        read_manifest,
        reapply_destructions,
        restore,
    )

    key_options = settings.key_backup_options()
    override = None
    if accept_older_history is not None:
        override = typed_text(accept_older_history, "accept_older_history", "Lý do")
        if blank(override):
            raise BackupError("Cần nêu lý do khôi phục bản sao lưu không khớp điểm mốc.",
                              code="RESTORE_REASON_REQUIRED")
    other_reason = (
        typed_text(from_another_installation, "from_another_installation", "Lý do")
        if from_another_installation is not None
        else None
    )
    # Both copies are found before anything is written: a key backup that is missing or named
    # wrongly must not leave a store restored (or, with --force, replaced) without its keys.
    sealer = manifest_sealer(settings)
    origin = open_store(source, **settings.backup_options())
    manifest = read_manifest(origin, backup_id, "store", sealer=sealer)
    keys_origin = open_store(keys_from, **key_options)
    keys_manifest = read_manifest(keys_origin, keys_id, "keys", sealer=sealer)
    refuse_keys_behind(origin, manifest, keys_manifest)
    identity = judge_identity(repo, manifest, keys_manifest, other_reason)
    history = backup_history_findings(repo, origin, manifest)
    if history and override is None:
        raise RestoreHistoryBehind(
            f"Nhật ký kiểm toán trong bản sao lưu “{manifest['backup_id']}” không khớp {len(history)}"
            " điểm mốc ký số ngoài kho (bản sao cũ hơn điểm mốc, hoặc đã bị sửa): khôi phục sẽ xóa"
            " các việc sau đó (đăng ký, hủy, thu hồi …). Chưa khôi phục gì. Hãy chọn bản sao lưu mới"
            " hơn; chỉ khi chắc chắn không còn bản nào mới hơn, dùng --accept-older-history"
            " \"lý do\" (được ghi vào nhật ký).",
            backup_id=manifest["backup_id"],
            findings=list(history),
        )
    places: dict[str, Callable[[], ObjectStore]] = {}
    for url in (source, *settings.backup_urls):
        places.setdefault(url, partial(open_store, url, **settings.backup_options()))
    for url in (keys_from, settings.backup_keys_url):
        if url:
            places.setdefault(url, partial(open_store, url, **key_options))
    if (outside := outside_ledger(settings)) is not None:
        places.setdefault(*outside)  # where the holder of the backups cannot cut it
    ledger = read_ledgers(repo, list(places.items()))
    if not ledger.reached and not without_ledger:
        raise KhoError(
            "Không đọc được sổ tiêu hủy ở nơi sao lưu nào, nên không biết bản ghi nào đã bị hủy sau bản"
            " sao lưu này: chưa khôi phục. Kết nối lại nơi sao lưu, hoặc dùng --without-ledger nếu chắc"
            " chắn (việc này được ghi vào nhật ký).",
            code="RESTORE_LEDGER_UNREACHABLE",
            places=list(places),
        )
    for problem in ledger.problems:
        warn(f"Sổ tiêu hủy có vấn đề: {problem}")
    # "Đã hủy" rows newer than the chosen backup: in the store being replaced and in the newest
    # copy of every destination. Reapplied after the restore, so none is undone.
    rows = destruction_rows(repo.store, backed_up=False) if force else {}
    for url in dict.fromkeys((source, *settings.backup_urls)):
        try:
            rows.update(destruction_rows(open_store(url, **settings.backup_options()), backed_up=True,
                                         sealer=sealer))
        except KhoError as exc:
            warn(f"Không đọc được nơi sao lưu {url} để lấy các bản ghi đã hủy: {exc}")
    keys_held: dict[str, bytes] = {}
    if force:  # the key copies too, before the store is replaced (restore checks its own first);
        # what is checked here is what restore(keys) writes: a key copy changed while the store
        # is replaced cannot leave the store restored and its keys not
        keys_held = check_copies(keys_origin, keys_manifest, keep=True)
    # The sealing start the signed checkpoints vouch for (the anchor outside the store), read
    # before the store is replaced: the copy's unsealed assigns past it move no register (rv67).
    done = restore(origin, repo.store, backup_id=manifest["backup_id"], label="store", force=force,
                   sealer=sealer, manifest=manifest, sealed_since=repo.audit.sealed_floor())
    redestroyed: tuple[str, ...] = ()
    reapplied: tuple[str, ...] = ()
    renewed: str | None = None

    def audited(indexed: int | None, **failed: str) -> None:
        repo.audit.append(
            actor.user, "backup:restore", source=actor.source,
            details={"backup_id": done.backup_id, "keys_backup_id": keys_manifest["backup_id"],
                     "objects": done.objects,
                     "removed": done.removed, "indexed": indexed, "destructions_reapplied": list(reapplied),
                     "ledgers_read": list(ledger.reached), "ledgers_unreachable": list(ledger.unreachable),
                     "ledger_problems": list(ledger.problems), "redestroyed_from_ledger": list(redestroyed),
                     "without_ledger": bool(without_ledger and not ledger.reached),
                     "history_findings": list(history),
                     "history_override": override if history else None,
                     "installation": {**identity.details(), "renewed": renewed},
                     # numbers the copy's log gave past its registers, never given again (m64)
                     "numbers_lost_in_backup": [
                         {"register": f.prefix, "numbers": f.numbers(), "next": f.number + 1}
                         for f in done.floors
                     ],
                     **failed},
        )

    step = "history-anchor"
    try:
        # The restored log may be behind the checkpoints outside the store (an older copy
        # accepted with its reason): its head is noted there, or every process started from now
        # on would refuse to write to it (``AUDIT_HISTORY_BEHIND``, :mod:`repository.rollback`).
        note_restored(repo.store, repo.anchor, backup_id=done.backup_id, sealer=repo.audit.sealer)
        step = "keys"
        keys = restore(keys_origin, repo.keys.store, backup_id=keys_manifest["backup_id"], label="keys",
                       force=force, sealer=sealer, manifest=keys_manifest, held=keys_held)
        for finding in history:
            warn(f"CẢNH BÁO: nhật ký của bản sao lưu không khớp điểm mốc ký số ngoài kho: {finding}")
        for floor in done.floors:
            warn(f"Sổ đăng ký: {floor_explained(floor)}")
        # The by-record index of the log lives outside the store and still describes the log
        # that was replaced (events past the copy's end, of another timeline): rebuilt from the
        # restored log before anything is appended to it, or a record's history would miss the
        # events written after the restore (fsck's step 9b names it, review rv19).
        step = "audit-index"
        repo.audit.rebuild_index()
        if as_new_installation:
            step = "installation"
            renewed = renew_installation(
                repo.store, repo.audit, actor, previous=identity.backup
            ).installation_id
        step = "destructions"
        redestroyed = apply_tombstones(repo, ledger.tombstones, actor=actor)
        reapplied = reapply_destructions(repo, rows, actor=actor)
        step = "index"
        indexed = reindex()
    except BaseException as exc:  # (Ctrl-C in a long reindex too)
        # The store is replaced already: the restore (the copy, its reason, the ledgers it read)
        # is audited whatever fails after it, with the step that failed and the error's code.
        code = getattr(exc, "code", None)
        audited(None, failed_step=step, error=code if isinstance(code, str) and code else type(exc).__name__)
        raise
    audited(indexed)
    return RestoreRun(done, keys, ledger, redestroyed, reapplied, indexed, history)


def judge_identity(
    repo: Repository, manifest: Mapping[str, Any], keys_manifest: Mapping[str, Any], reason: str | None
) -> RestoreIdentity:
    """Whether the backups of ``manifest`` (the store) and ``keys_manifest`` (its key store) may
    replace ``repo``'s stores, by the installation each names, the store's own and whether the
    store holds more than set-up (:func:`repository.installation.restore_identity`, the same rule
    for both: another installation's key copy would replace the keys of the records this store
    keeps). Reads the store's ``installation.json`` and the first page of its listing, writes
    nothing; the store copy's verdict is returned."""
    invalid: InstallationInvalid | None = None
    try:
        own = read_installation(repo.store)
    except InstallationInvalid as exc:
        own, invalid = None, exc
    in_use = beyond_setup(info.key for info in repo.store.list(""))
    verdicts = [
        restore_identity(
            backup=manifest_installation(copy),
            target=own.installation_id if own is not None else None,
            in_use=in_use,
            reason=reason,
            target_invalid=invalid,
            backup_id=str(copy.get("backup_id", "")),
        )
        for copy in (manifest, keys_manifest)
    ]
    return verdicts[0]


def backup_history_findings(
    repo: Repository, origin: ObjectStore, manifest: Mapping[str, Any]
) -> tuple[str, ...]:
    """The audit chain a backup holds, checked against the signed checkpoints outside the store
    (``KHO_AUDIT_CHECKPOINT_DIR``, which the holder of the backups does not reach) *before* a
    restore writes anything: the copy's audit objects are staged in a scratch folder, each hash
    checked, then :func:`repository.anchor.verify_anchored` runs on them. Each open finding as
    ``[kind] #seq message``. A copy older than the newest checkpoint (its newer manifests
    removed, or chosen with ``--id``), or one whose history was edited, would bring back a past
    in which later acts (registrations, destructions, revocations) never happened. Nothing
    without a checkpoint folder."""
    from repository.anchor import verify_anchored
    from repository.audit import AuditLog
    from repository.audit_index import MemoryRecordIndex
    from repository.storage.local import LocalStore
    from retention.backup import stage_audit

    if repo.anchor is None or repo.anchor.checkpoint_dir is None:
        return ()
    with tempfile.TemporaryDirectory(prefix="kho-restore-audit-") as scratch:
        staged = LocalStore(scratch, fsync=False)
        stage_audit(origin, manifest, staged)
        try:
            staged_log = AuditLog(staged, index=MemoryRecordIndex(), sealer=repo.audit.sealer)
            report = verify_anchored(staged_log, repo.anchor, written_head=False)  # older by nature
        except KhoError as exc:
            return (f"[{exc.code}] {exc}",)
    return tuple(f"[{f.kind}] #{f.seq} {f.message}" for f in report.open_findings)
