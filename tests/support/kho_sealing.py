"""An agency for the tests of sealed accounts and units (z3, r22): its quản trị, Văn phòng and
one chuyên viên, and the newest stored version of an account."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from argon2 import PasswordHasher
from kho_testing import AGENCY, AGENCY_NAME, make_store

from kho.config import Settings
from repository.accounts import AccountService
from repository.policy import Role
from repository.records import Repository
from repository.service import open_accounts

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
VP = "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"
MASTER = bytes(range(32))


def seed_agency(svc: AccountService) -> str:
    """The agency, its quản trị, Văn phòng and a chuyên viên of it, each with a password set:
    the chuyên viên's username."""
    _, admin, initial = svc.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.authenticate(admin.username, GOOD)
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", AGENCY, admin)
    person, first = svc.create_account("Trần Thị Bình", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    _, second = svc.confirm_by_operator(person.username)
    svc.change_password(person.username, first + second, GOOD)
    return person.username


def sealed_agency(
    backend: str,
    tmp_path: Path,
    master: bytes | None = MASTER,
    *,
    allow_unsealed: bool = False,
    name: str = "z3",
) -> tuple[Repository, AccountService, str]:
    """An agency opened as the application opens it (``open_accounts``), its records store
    ``name`` on ``backend``, with ``master`` as ``KHO_MASTER_KEY``: the repository, the service
    (acting for the quản trị) and the chuyên viên's username (:func:`seed_agency`)."""
    env = {"KHO_DATA_DIR": str(tmp_path / "data"), "KHO_AGENCY_ID": AGENCY}
    if master is not None:
        env["KHO_MASTER_KEY"] = base64.b64encode(master).decode()
    if allow_unsealed:  # the upgrade window (review r22): versions before seals are read
        env["KHO_ALLOW_UNSEALED"] = "true"
    settings = Settings.from_env(env)
    store, keys = make_store(backend, tmp_path, name), make_store("local", tmp_path, "keys")
    repo = Repository(store, keys, agency_id=AGENCY, agency_name=AGENCY_NAME, master_key=settings.master_key)
    svc = open_accounts(repo, settings)
    svc._hasher = CHEAP
    return repo, svc, seed_agency(svc)


def newest_version(svc: AccountService, username: str) -> tuple[int, dict]:
    """The number and the stored data of ``username``'s newest account version."""
    key = [i.key for i in svc.store.list(f"accounts/{username}/")][-1]
    return int(key.rsplit("/v", 1)[1]), json.loads(svc.store.get(key))
