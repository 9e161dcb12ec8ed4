"""Open the repository described by the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from kho.config import Settings
from repository.accounts import AccountService
from repository.anchor import Anchor
from repository.records import Repository
from repository.storage import open_store

if TYPE_CHECKING:
    from repository.handling import HandlingService, WorkIndex

AUDIT_INDEX_FILE = "audit-index.sqlite"
"""The audit log's by-record index in the data folder (derived; ``kho reindex`` rebuilds it)."""


def open_repository(settings: Settings) -> Repository:
    store = open_store(settings.store_url, **settings.store_options())
    keystore = open_store(settings.keystore_url, **settings.keystore_options())
    repo = Repository(
        store,
        keystore,
        agency_id=settings.agency_id,
        agency_name=settings.agency_name,
        master_key=settings.master_key,
        max_file_bytes=settings.max_file_bytes,
        audit_retention_days=settings.audit_retention_days or None,
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
    return repo


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
    hasher = PasswordHasher(
        time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kb, parallelism=4
    )
    return AccountService(
        repo.store, repo.audit, repo.clock, max_failed=settings.login_max_failures, hasher=hasher
    )
