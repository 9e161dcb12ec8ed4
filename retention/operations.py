"""The scheduled operations (backup, fixity audit, capacity check) as one function each, so the
``kho`` commands and the Celery beat tasks (:mod:`retention.tasks`) run the same steps and write
the same audit events.

Each takes the repository, the settings and who acts (an operator at the command line, the
scheduler under Celery beat) and returns frozen results; every step that changes state is an
audit event through ``repo.audit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kho.config import Settings
from kho.errors import KhoError
from repository.records import Actor, Repository
from repository.storage import open_store
from retention.backup import ShredReport, backup, describe, shred_destroyed_keys
from retention.capacity import Capacity, measure
from retention.fixity import FixityReport, audit_fixity

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
    if keys in chosen:
        raise KhoError("Kho khóa phải được sao lưu ở nơi khác với kho.", code="BACKUP_TARGET_MISSING")
    return chosen, keys


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
    records destroyed more than ``KHO_KEY_BACKUP_SHRED_DAYS`` ago from the key backups."""
    from repository.anchor import make_checkpoint

    stores, keys = backup_targets(settings, targets, keys_to)
    if repo.anchor is not None and repo.anchor.signing_key is not None:
        try:
            make_checkpoint(repo.store, repo.anchor)  # each copy carries a signed head of the chain
        except KhoError as exc:  # a TSA down must not stop the daily backup; it is on record
            repo.audit.append(
                actor.user, "audit:checkpoint-failed", source=actor.source,
                details={"code": exc.code, "message": str(exc)},
            )
    copies: list[dict[str, Any]] = []
    plan = [("store", repo.store, url, settings.backup_options()) for url in stores]
    plan.append(("keys", repo.keys.store, keys, settings.key_backup_options()))
    for label, source, url, options in plan:
        lock_days = settings.backup_lock_days if label == "store" else 0
        report = backup(source, open_store(url, **options), label=label, lock_days=lock_days)
        details = {**describe(report), "destination": url, "label": label, "lock_days": lock_days}
        repo.audit.append(actor.user, "backup:create", source=actor.source, details=details)
        copies.append({**details, "seconds": round(report.seconds, 3)})
    shredded = shred_key_backups(repo, settings, actor, keys, now=now)
    return BackupRun(tuple(copies), shredded)


def shred_key_backups(
    repo: Repository, settings: Settings, actor: Actor, url: str, *, now: datetime
) -> ShredReport:
    """Crypto-shredding reaches the key backups once ``KHO_KEY_BACKUP_SHRED_DAYS`` have passed."""
    report = shred_destroyed_keys(
        open_store(url, **settings.key_backup_options()),
        repo.destruction_times(),
        period_days=settings.key_backup_shred_days,
        now=now,
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
    return audit_fixity(repo, actor=actor, period=period, run=today.toordinal(), copies=copies)


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
