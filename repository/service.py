"""Open the repository described by the configuration."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from kho.config import Settings
from repository import passwords
from repository.accounts import AccountService
from repository.anchor import Anchor
from repository.records import Repository
from repository.storage import open_store
from repository.storage.base import ObjectStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from repository.handling import HandlingService, WorkIndex
    from repository.ledger import DestructionLedger

AUDIT_INDEX_FILE = "audit-index.sqlite"
"""The audit log's by-record index in the data folder (derived; ``kho reindex`` rebuilds it)."""


IN_USE_PREFIXES = ("records/", "audit/events/")
"""What a content store holds once it is in use: a record, an audit event (their keys, sealed
with the per-record keys, are in the key store)."""


def refuse_missing_keystore(settings: Settings, store: ObjectStore) -> None:
    """Refuse to start when the key-store folder (``KHO_KEYSTORE_URL``, by default
    ``<KHO_DATA_DIR>/keys``) is missing, or is not a key store (an empty folder: a mount point
    whose disk is not mounted), while the content store is in use (:data:`IN_USE_PREFIXES`).
    Before u9 the local store made an empty one and Kho went on: every record then answered
    ``KEY_DESTROYED``, and a worker writing new records made their keys in the empty folder, so
    that the agency's keys were split between two folders once the real one came back. A new
    Kho (nothing in the content store) makes its key store as before. An empty ``objects``
    folder is refused too while the content store holds a record (review rv9: the folders an
    earlier start left under a mount point). Cost: one ``scandir`` of ``objects`` (its first
    entry) per start; the content store is listed (first key only) only when it is missing or
    empty."""
    url = settings.keystore_url
    if url.startswith("s3://"):
        return
    folder = Path(url.removeprefix("file://"))
    try:
        with os.scandir(folder / "objects") as entries:
            holds_keys = next(entries, None) is not None
    except (FileNotFoundError, NotADirectoryError):
        prefixes: tuple[str, ...] = IN_USE_PREFIXES
    except PermissionError:  # a folder this process may use but not list: judged as before rv9
        return
    else:
        if holds_keys:
            return
        # An empty objects folder: a new key store, or the folders an earlier start made under
        # a mount point, now shown because the disk is not mounted (review rv9). A record's key
        # is made with the record, and its folder stays when the key is destroyed, so a key
        # store is never empty again once a record was made. The way out the refusal names
        # (an operator restoring keys to a new place) is to make objects/keys by hand.
        prefixes = ("records/",)
    for prefix in prefixes:
        if next(iter(store.list(prefix)), None) is not None:
            from kho.errors import StoreUnavailable

            raise StoreUnavailable(
                f"Không tìm thấy kho khóa tại “{folder}” (thư mục không có hoặc trống: ổ chứa khóa "
                "chưa được gắn?) trong khi kho dữ liệu đã có hồ sơ. Kho không tạo kho khóa mới thay "
                "thế: hãy gắn lại ổ chứa khóa hoặc sửa KHO_KEYSTORE_URL. Chỉ khi cố ý khôi phục khóa "
                f"vào chỗ mới, hãy tự tạo thư mục “{folder / 'objects' / 'keys'}” rồi chạy lại.",
                keystore=str(folder),
                reason="KEYSTORE_MISSING",
            )


def open_repository(settings: Settings) -> Repository:
    store = open_store(settings.store_url, **settings.store_options())
    refuse_missing_keystore(settings, store)
    keystore = open_store(settings.keystore_url, **settings.keystore_options())
    repo = Repository(
        store,
        keystore,
        agency_id=settings.agency_id,
        agency_name=settings.agency_name,
        master_key=settings.master_key,
        max_file_bytes=settings.max_file_bytes,
        audit_retention_days=settings.audit_retention_days or None,
        audit_group_commit=settings.audit_group_commit,
        audit_index=settings.data_dir / AUDIT_INDEX_FILE,
    )
    repo.anchor = Anchor(
        signing_key=settings.audit_signing_key,
        public_key_file=settings.audit_public_key,
        checkpoint_dir=settings.audit_checkpoint_dir,
        retention_days=settings.audit_retention_days,
        tsa_url=settings.tsa_url,
        trust_dir=Path(settings.trust_dir) if settings.trust_dir else None,
    )
    repo.ledger = destruction_ledger(settings, repo.anchor)
    return repo


OUTSIDE_LEDGER_FOLDER = "ledger"
"""The destruction ledger kept beside the audit checkpoints, outside the store and the backups
(``<KHO_AUDIT_CHECKPOINT_DIR>/ledger``)."""


def outside_ledger(settings: Settings) -> tuple[str, Callable[[], ObjectStore]] | None:
    """The destruction ledger in the checkpoint folder outside the store (``KHO_AUDIT_CHECKPOINT_DIR``),
    as (name, opener); None when there is no such folder.

    Whoever holds the backup destinations can cut the tail of every ledger there (the tombstones
    of the newest destructions) and remove the newest manifests: a restore of the older copy
    then brings a destroyed record back while the key backup still has its key. This copy is
    where that holder cannot reach (the same place the audit checkpoints are kept for the same
    reason): every destruction writes to it and every restore reads it."""
    folder = settings.audit_checkpoint_dir
    if folder is None:
        return None
    path = folder / OUTSIDE_LEDGER_FOLDER
    return path.as_uri(), partial(open_store, path.as_uri(), fsync=settings.fsync)


def destruction_ledger(settings: Settings, anchor: Anchor | None) -> DestructionLedger | None:
    """The destruction ledgers at every backup destination (store copies and the key store's),
    and in the checkpoint folder outside the store (:func:`outside_ledger`), signed with the
    audit signing key when one is configured; None without backups. A ledger entry is
    write-once (object lock) for the longer of ``KHO_BACKUP_LOCK_DAYS`` and
    ``KHO_KEY_BACKUP_SHRED_DAYS`` where the destination has object lock."""
    places: list[tuple[str, Callable[[], ObjectStore]]] = []
    for url in settings.backup_urls:
        places.append((url, partial(open_store, url, **settings.backup_options())))
    if settings.backup_keys_url:
        url = settings.backup_keys_url
        places.append((url, partial(open_store, url, **settings.key_backup_options())))
    if not places:
        return None
    from repository.ledger import DestructionLedger

    def signing_key() -> Ed25519PrivateKey | None:
        return anchor.private_key() if anchor is not None and anchor.signing_key is not None else None

    lock_days = settings.backup_lock_days and max(settings.backup_lock_days, settings.key_backup_shred_days)
    outside = outside_ledger(settings)
    return DestructionLedger(
        places, signing_key=signing_key, lock_days=lock_days, outside=(outside,) if outside else ()
    )


def open_handling(
    settings: Settings,
    repo: Repository | None = None,
    accounts: AccountService | None = None,
    index: WorkIndex | None = None,
) -> HandlingService:
    """The handling service (:mod:`repository.handling`): its work index is a SQLite file in the
    data folder (derived; ``kho handling reindex`` rebuilds it), mail through the SMTP server in
    the settings, deadlines on the holiday calendar of ``KHO_HOLIDAYS_FILE``."""
    from kho.mail import Mailer
    from repository.handling import HandlingService, WorkIndex
    from repository.workflow import load_holidays

    repo = repo if repo is not None else open_repository(settings)
    return HandlingService(
        repo,
        accounts if accounts is not None else open_accounts(repo, settings),
        index if index is not None else WorkIndex(settings.data_dir / "work-index.sqlite"),
        load_holidays(settings.holidays_file),
        mailer=Mailer.from_settings(settings),
        base_url=settings.base_url,
    )


def open_accounts(repo: Repository, settings: Settings) -> AccountService:
    """Accounts and units live in the same store as the records, audited in the same chain."""
    make_hasher = partial(
        passwords.configured_hasher, settings.password_time_cost, settings.password_memory_kb
    )
    return AccountService(
        repo.store, repo.audit, repo.clock, max_failed=settings.login_max_failures,
        make_hasher=make_hasher,
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        token_idle=timedelta(minutes=settings.token_idle_minutes),
        master_key=settings.master_key,
        allow_unsealed=settings.allow_unsealed,
        lock_duration=timedelta(hours=settings.login_lock_hours),
    )
