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


KEYS_PREFIX = "keys/"
"""Where a key store holds the records' keys (:meth:`repository.keys.KeyRing._key_name`)."""


def _keystore_found(settings: Settings) -> bool | None:
    """What ``KHO_KEYSTORE_URL`` holds, read without creating anything (but an S3 key bucket's
    missing marker, below): True when it is a key
    store (a key, or the place made by hand for keys to be restored into), False when it exists
    but is empty, None when it is not there at all; ``True`` as well when this process may not
    tell (a local folder it may use but not list: judged as before rv9).

    - local folder: its ``objects`` folder (missing: None; empty: False; one ``scandir`` of its
      first entry; ``<folder>/objects/keys`` made by hand is a key store);
    - S3 bucket: the bucket (missing: None), then a key under ``keys/`` or the folder marker
      ``keys/`` (:meth:`~repository.storage.s3.S3Store.holds`: 2 requests). A bucket holding
      keys without the marker (made before u10) is marked then (a third request, once): it has
      proved itself a key store, and would otherwise be refused as empty once every key in it is
      destroyed (review rv13). The marker is the only thing ever written here.
      Before u10 an S3 key store was not checked, and :class:`S3Store` creates a missing bucket
      when it opens: a wrong or lost key bucket became an empty one and Kho went on."""
    url = settings.keystore_url
    if url.startswith("s3://"):
        s3 = open_store(url, **settings.keystore_options(), create_bucket=False, conditional_create=False)
        return s3.holds(KEYS_PREFIX, mark=True)  # type: ignore[attr-defined]
    folder = Path(url.removeprefix("file://"))
    try:
        with os.scandir(folder / "objects") as entries:
            return next(entries, None) is not None
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        return True


def _keystore_place(settings: Settings) -> tuple[str, str]:
    """The key store as the refusal names it, and what to make by hand to restore keys into a
    new one on purpose."""
    url = settings.keystore_url
    if url.startswith("s3://"):
        bucket = url.removeprefix("s3://").rstrip("/")
        return (f"bucket “{bucket}”", f"đối tượng rỗng “{KEYS_PREFIX}” trong bucket “{bucket}”")
    folder = Path(url.removeprefix("file://"))
    return (f"“{folder}”", f"thư mục “{folder / 'objects' / 'keys'}”")


def refuse_missing_keystore(settings: Settings, store: ObjectStore) -> bool | None:
    """Refuse to start when the key store (``KHO_KEYSTORE_URL``: by default the folder
    ``<KHO_DATA_DIR>/keys``, or an S3 bucket) is missing, or is not a key store (an empty folder:
    a mount point whose disk is not mounted; an empty bucket), while the content store is in use
    (:data:`IN_USE_PREFIXES`). One rule for both backends (u10; u9 checked the local folder
    only; :func:`_keystore_found` reads each). Before u9 the local store made an empty one and
    Kho went on, and so did S3 until u10 (it creates a missing bucket): every record then
    answered ``KEY_DESTROYED``, and a worker writing new records made their keys in the empty
    one, so that the agency's keys were split between two places once the real one came back.
    A new Kho (nothing in the content store) makes its key store as before. An empty key store
    is refused too while the content store holds a record (review rv9: the folders an earlier
    start left under a mount point). Cost: one ``scandir`` of ``objects`` (its first entry), or
    on S3 2 requests (``HEAD`` bucket, a listing of one key), per start; the content store is
    listed (first key only) only when the key store is missing or empty. Returns
    :func:`_keystore_found`'s answer (not refused: a key store, or a new Kho)."""
    found = _keystore_found(settings)
    if found:
        return found
    # Missing: refused when anything is in the content store. Empty: a new key store, or the
    # folders an earlier start made under a mount point, now shown because the disk is not
    # mounted (review rv9). A record's key is made with the record, and its folder stays when
    # the key is destroyed (on S3 a destroyed key leaves its versions or delete marker: listed
    # no more, so an S3 store whose every key was destroyed is judged empty; see NOTES-u10), so
    # a key store is never empty again once a record was made. The way out the refusal names
    # (an operator restoring keys to a new place) is to make ``keys`` by hand.
    prefixes: tuple[str, ...] = IN_USE_PREFIXES if found is None else ("records/",)
    for prefix in prefixes:
        if next(iter(store.list(prefix)), None) is not None:
            from kho.errors import StoreUnavailable

            place, by_hand = _keystore_place(settings)
            raise StoreUnavailable(
                f"Không tìm thấy kho khóa tại {place} (không có hoặc trống: ổ chứa khóa chưa được"
                " gắn, hoặc sai bucket?) trong khi kho dữ liệu đã có hồ sơ. Kho không tạo kho khóa"
                " mới thay thế: hãy gắn lại ổ chứa khóa hoặc sửa KHO_KEYSTORE_URL. Chỉ khi cố ý khôi"
                f" phục khóa vào chỗ mới, hãy tự tạo {by_hand} rồi chạy lại.",
                keystore=settings.keystore_url.removeprefix("file://"),
                reason="KEYSTORE_MISSING",
            )
    return found


def open_repository(settings: Settings) -> Repository:
    store = open_store(settings.store_url, **settings.store_options())
    found = refuse_missing_keystore(settings, store)
    keystore = open_store(settings.keystore_url, **settings.keystore_options())
    if not found and settings.keystore_url.startswith("s3://"):
        keystore.mark(KEYS_PREFIX)  # type: ignore[attr-defined]  # a new Kho's key bucket
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
