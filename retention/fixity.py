"""Fixity audits: re-hash originals on a rolling schedule and repair a damaged one from a verified
backup copy.

Each run checks the share of originals that falls on it (:func:`is_due`: a stable hash of the
object's key, modulo the period), so a daily run checks every original once per
``period_days``. An original is good when it decrypts with its record's key and its SHA-256 equals
the digest it was stored under. A damaged or missing original is looked up in the backup
destinations, newest backup first; a copy whose blob matches its manifest *and* decrypts to the
right digest is written back (the same bytes: the original is not changed, it is mended). Every
run and every repair is an audit event (the caller's actor).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kho.errors import KhoError, NotFound, StoreUnavailable
from kho.timelimit import raise_lost_limit
from repository.records import Actor, Repository, content_key
from repository.storage.base import ObjectStore
from retention.backup import backups, entry_problem, read_blob, read_manifest

FINDINGS_PREFIX = "fixity/findings/"
"""One empty-ish marker per record and cause found unreadable while reading
(:meth:`web.context.Kho.report_unreadable`): the operators are told once per marker."""


def finding_marker(record_id: str, code: str) -> str:
    return f"{FINDINGS_PREFIX}{record_id}-{code.lower()}"


def is_due(key: str, *, period: int, run: int) -> bool:
    """Whether run number ``run`` (e.g. the day number) checks ``key`` (pure; every key is due
    exactly once in any ``period`` consecutive runs)."""
    if period <= 1:
        return True
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % period == run % period


@dataclass(frozen=True)
class FixityReport:
    checked: int
    bytes: int
    damaged: tuple[str, ...]
    repaired: tuple[str, ...]
    seconds: float
    unverifiable: tuple[tuple[str, str], ...] = ()
    """(original's key, error code) of each original due in the run whose record could not be
    opened (key missing or damaged, version damaged): counted in ``damaged`` too."""

    @property
    def unrepaired(self) -> tuple[str, ...]:
        return tuple(k for k in self.damaged if k not in self.repaired)


def _intact(repo: Repository, record_id: str, key: str, sha256: str, sealed: bytes) -> bool:
    """Whether ``sealed`` opens to the bytes of ``sha256``. A store that cannot be reached
    (the key store during an outage) raises: that is no finding about the original."""
    try:
        return hashlib.sha256(repo.keys.open(record_id, sealed, key)).hexdigest() == sha256
    except StoreUnavailable:
        raise
    except KhoError:
        return False


def _repair_from(
    repo: Repository, record_id: str, key: str, sha256: str, copies: Sequence[ObjectStore]
) -> bool:
    for destination in copies:
        for backup_id in reversed(backups(destination, "store")):
            entry = next(
                (
                    e for e in read_manifest(destination, backup_id)["objects"]
                    if entry_problem(e) is None and e["key"] == key
                ),
                None,
            )
            if entry is None:
                continue
            try:
                blob = read_blob(destination, entry["sha256"])
            except NotFound:
                continue
            if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
                continue
            if not _intact(repo, record_id, key, sha256, blob):
                continue
            repo.store.put(key, blob)
            return True
    return False


def audit_fixity(
    repo: Repository,
    *,
    actor: Actor,
    period: int = 1,
    run: int = 0,
    copies: Sequence[ObjectStore] = (),
) -> FixityReport:
    """Check the originals due in this run; repair the damaged ones from ``copies``. A store
    or key store that cannot be reached ends the run with ``STORE_UNAVAILABLE`` (the scheduled
    job's failure alert says so) instead of naming what it could not read damaged."""
    started = time.monotonic()
    checked = size = 0
    damaged: list[str] = []
    repaired: list[str] = []
    unverifiable: list[tuple[str, str]] = []
    destroyed = repo.destroyed_ids()
    for record_id in repo.record_ids():
        raise_lost_limit()  # a scheduled run's soft time limit a finalizer swallowed (m55)
        if record_id in destroyed:
            continue  # nothing readable is left to check: that is the point
        try:
            record = repo._load(record_id)
        except NotFound:
            continue  # no version yet: a record in flight, or a crash leftover fsck names
        except StoreUnavailable:
            raise  # an outage says nothing of the originals: the run fails, nothing is "damaged"
        except KhoError as exc:
            # Its originals cannot be opened: unverifiable is damaged, never "nothing to check".
            for info in repo.store.list(f"records/{record_id}/content/"):
                if is_due(info.key, period=period, run=run):
                    checked += 1
                    damaged.append(info.key)
                    unverifiable.append((info.key, exc.code))
            continue
        for stored in record.files:
            key = content_key(record_id, stored.sha256)
            if not is_due(key, period=period, run=run):
                continue
            checked += 1
            try:
                sealed = repo.store.get(key)
                size += len(sealed)
                good = _intact(repo, record_id, key, stored.sha256, sealed)
            except NotFound:
                good = False
            if good:
                continue
            damaged.append(key)
            if _repair_from(repo, record_id, key, stored.sha256, copies):
                repaired.append(key)
                repo.audit.append(
                    actor.user,
                    "fixity:repair",
                    record_id=record_id,
                    source=actor.source,
                    details={"key": key, "sha256": stored.sha256},
                )
    report = FixityReport(
        checked, size, tuple(damaged), tuple(repaired), time.monotonic() - started, tuple(unverifiable)
    )
    repo.audit.append(
        actor.user,
        "fixity:check",
        source=actor.source,
        details={
            "checked": checked,
            "bytes": size,
            "damaged": list(damaged),
            "repaired": list(repaired),
            "unverifiable": {key: code for key, code in unverifiable},
            "period": period,
            "run": run,
        },
    )
    return report


def clear_mended_findings(repo: Repository, *, actor: Actor) -> tuple[str, ...]:
    """Remove the finding marker of each record that reads whole again (its key unwraps and
    every original decrypts to its digest: a key restored from the key backup, an original
    repaired), so that a later breakage of the same record is told to the operators again
    instead of being silent for ever (review m5). A record still broken, or one that cannot be
    checked, keeps its marker. Audited ``fixity:cleared`` per marker; the record ids cleared are
    returned. One LIST, and per marker the reads of one record: markers are few."""
    cleared: list[str] = []
    for info in repo.store.list(FINDINGS_PREFIX):
        record_id, _sep, cause = info.key[len(FINDINGS_PREFIX) :].partition("-")
        try:
            record = repo._load(record_id)
            whole = all(
                _intact(repo, record_id, key, stored.sha256, repo.store.get(key))
                for stored in record.files
                for key in (content_key(record_id, stored.sha256),)
            )
        except (KhoError, ValueError):
            continue
        if not whole:
            continue
        repo.store.delete(info.key)
        repo.audit.append(
            actor.user,
            "fixity:cleared",
            record_id=record_id,
            source=actor.source,
            details={"code": cause.upper()},
        )
        cleared.append(record_id)
    return tuple(cleared)
