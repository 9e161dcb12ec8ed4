"""An installation for the unit rollback tests (reviews s20, s21): the agency sealed with
``KHO_MASTER_KEY``, the audit log's index in a SQLite file of the data folder, opened as
``repository.service`` opens it, and the Văn phòng moved under a second unit (its version 2:
the state a rollback takes away)."""

from __future__ import annotations

import base64
from pathlib import Path

from kho_sealing import CHEAP, GOOD, MASTER, VP, seed_agency
from kho_testing import AGENCY, AGENCY_NAME, make_store

from kho.config import Settings
from repository.accounts import AccountService
from repository.records import Repository
from repository.service import AUDIT_INDEX_FILE, open_accounts
from repository.storage.base import ObjectStore

ADMIN = "vienqt.ubnd"
OTHER = "000.02.18.H40"  # a second unit under the agency


def open_service(store: ObjectStore, keys: ObjectStore, data: Path) -> AccountService:
    """One application instance on ``store`` with its data folder ``data``."""
    env = {
        "KHO_DATA_DIR": str(data),
        "KHO_AGENCY_ID": AGENCY,
        "KHO_MASTER_KEY": base64.b64encode(MASTER).decode(),
    }
    settings = Settings.from_env(env)
    repo = Repository(
        store, keys, agency_id=AGENCY, agency_name=AGENCY_NAME, master_key=settings.master_key,
        audit_index=settings.data_dir / AUDIT_INDEX_FILE,
    )
    svc = open_accounts(repo, settings)
    svc._hasher = CHEAP
    return svc


def agency_with_office_moved(backend: str, tmp_path: Path, name: str) -> AccountService:
    """The agency (its quản trị, Văn phòng under it, a chuyên viên), Phòng Nội vụ under it, then
    the Văn phòng moved under Phòng Nội vụ (version 2)."""
    store, keys = make_store(backend, tmp_path, name), make_store("local", tmp_path, "keys")
    svc = open_service(store, keys, tmp_path / "data")
    seed_agency(svc)
    admin = svc.authenticate(ADMIN, GOOD)
    svc.create_unit(OTHER, "Phòng Nội vụ", "pnv", AGENCY, admin)
    svc.update_unit(VP, parent_id=OTHER, actor=admin)
    return svc


def unit_keys(svc: AccountService, unit_id: str) -> list[str]:
    return [i.key for i in svc.store.list(f"units/{unit_id}/")]
