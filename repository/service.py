"""Open the repository described by the configuration."""

from __future__ import annotations

from kho.config import Settings
from repository.records import Repository
from repository.storage import open_store


def open_repository(settings: Settings) -> Repository:
    store = open_store(settings.store_url, **settings.store_options())
    keystore = open_store(settings.keystore_url, **settings.keystore_options())
    return Repository(
        store,
        keystore,
        agency_id=settings.agency_id,
        agency_name=settings.agency_name,
        master_key=settings.master_key,
        max_file_bytes=settings.max_file_bytes,
        audit_retention_days=settings.audit_retention_days or None,
    )
