"""Open the repository described by the configuration."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from kho.config import Settings
from repository.accounts import AccountService
from repository.anchor import Anchor
from repository.records import Repository
from repository.storage import open_store


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


def open_accounts(repo: Repository, settings: Settings) -> AccountService:
    """Accounts and units live in the same store as the records, audited in the same chain."""
    hasher = PasswordHasher(
        time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kb, parallelism=4
    )
    return AccountService(
        repo.store, repo.audit, repo.clock, max_failed=settings.login_max_failures, hasher=hasher
    )
