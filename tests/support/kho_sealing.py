"""An agency for the tests of sealed accounts and units (z3, r22): its quản trị, Văn phòng and
one chuyên viên, and the newest stored version of an account."""

from __future__ import annotations

import json

from argon2 import PasswordHasher
from kho_testing import AGENCY

from repository.accounts import AccountService
from repository.policy import Role

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


def newest_version(svc: AccountService, username: str) -> tuple[int, dict]:
    """The number and the stored data of ``username``'s newest account version."""
    key = [i.key for i in svc.store.list(f"accounts/{username}/")][-1]
    return int(key.rsplit("/v", 1)[1]), json.loads(svc.store.get(key))
