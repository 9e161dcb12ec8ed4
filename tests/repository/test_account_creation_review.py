"""Review r13 of g1 (two-person initial password): a new quản trị whose person has not yet set
their own password is nobody yet, also *after* the confirmation. Once its halves expire (24 h
after the confirmation) no one can log in to it and only a quản trị can reset it, so counting it
as "another quản trị" (``LAST_ADMIN``, the operator's ``recover``) can leave an agency with no
quản trị anyone can use. Before g1 its creator held its whole initial password, valid until the
90 idle days: there was always someone who could log in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import LoginFailed, PasswordResetExpired, PermissionDenied
from repository.accounts import Account, AccountService, Role, Status
from repository.audit import AuditLog
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT = "000.00.18.H40"
GOOD = "Kho@2026-mới"


@pytest.fixture
def svc(tmp_path: Path) -> AccountService:
    store = LocalStore(tmp_path / "store")
    return AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)


def _agency_with_an_unused_second_quan_tri(svc: AccountService) -> Account:
    """One quản trị (bootstrap), one lãnh đạo, and a second quản trị created by the first,
    confirmed by the lãnh đạo, whose person has not logged in; 25 hours later. The first."""
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.get(admin.username)
    head, _ = create_person(svc, "Lưu Quang Hưng", ROOT, [Role.LANH_DAO], 0, None, admin)
    second, first = svc.create_account("Quản Trị Hai", ROOT, [Role.QUAN_TRI], 0, None, admin)
    _, rest = svc.confirm_reset(second.username, head)
    svc.clock.now += timedelta(hours=25)  # type: ignore[attr-defined]
    with pytest.raises(PasswordResetExpired):  # nobody can log in to it any more
        svc.authenticate(second.username, first + rest)
    return svc.get(admin.username)


def test_the_only_usable_quan_tri_cannot_give_up_the_role_for_a_new_one_nobody_has_used(
    svc: AccountService,
) -> None:
    admin = _agency_with_an_unused_second_quan_tri(svc)
    with pytest.raises(PermissionDenied) as last:  # g1: allowed, and the agency had no quản trị
        svc.set_roles(admin.username, [], admin)
    assert last.value.code == "LAST_ADMIN"
    assert svc.get(admin.username).has_role(Role.QUAN_TRI)


def test_the_operator_recovers_the_only_usable_quan_tri_beside_a_new_one_nobody_has_used(
    svc: AccountService,
) -> None:
    """Anyone who knows the name locks the quản trị with wrong passwords; g1 refused the
    operator's recovery (RECOVERY_NOT_NEEDED: "another quản trị can unlock") while that other
    quản trị could not log in and could be reset only by a quản trị."""
    admin = _agency_with_an_unused_second_quan_tri(svc)
    for _ in range(svc.max_failed):
        with pytest.raises(LoginFailed):
            svc.authenticate(admin.username, "sai-mật-khẩu")
    assert svc.get(admin.username).status is Status.LOCKED
    recovered = svc.recover(admin.username, "khóa do đoán mật khẩu")
    assert recovered.status is Status.ACTIVE


def _agency_whose_second_quan_tri_has_an_expired_reset(svc: AccountService) -> Account:
    """The older sibling of the case above (r13's item 7, before g1): the second quản trị has
    set their own password and worked, then the first reset it, the lãnh đạo confirmed, and
    the one-time password went unused for 25 hours. Nobody logs in to it until a quản trị
    resets it again. The first."""
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.get(admin.username)
    head, _ = create_person(svc, "Lưu Quang Hưng", ROOT, [Role.LANH_DAO], 0, None, admin)
    second, _ = create_person(svc, "Quản Trị Hai", ROOT, [Role.QUAN_TRI], 0, None, admin, password=GOOD)
    svc.authenticate(second.username, GOOD)
    _, first = svc.reset_password(second.username, admin)
    _, rest = svc.confirm_reset(second.username, head)
    svc.clock.now += timedelta(hours=25)  # type: ignore[attr-defined]
    with pytest.raises(PasswordResetExpired):
        svc.authenticate(second.username, first + rest)
    with pytest.raises(LoginFailed):  # nor with the password it had before the reset
        svc.authenticate(second.username, GOOD)
    return svc.get(admin.username)


def test_a_quan_tri_whose_reset_expired_unused_is_not_another_quan_tri(svc: AccountService) -> None:
    admin = _agency_whose_second_quan_tri_has_an_expired_reset(svc)
    with pytest.raises(PermissionDenied) as last:  # before: allowed, no quản trị anyone can use
        svc.set_roles(admin.username, [], admin)
    assert last.value.code == "LAST_ADMIN"


def test_the_operator_recovers_the_only_quan_tri_beside_one_whose_reset_expired(
    svc: AccountService,
) -> None:
    admin = _agency_whose_second_quan_tri_has_an_expired_reset(svc)
    for _ in range(svc.max_failed):
        with pytest.raises(LoginFailed):
            svc.authenticate(admin.username, "sai-mật-khẩu")
    assert svc.get(admin.username).status is Status.LOCKED
    recovered = svc.recover(admin.username, "khóa do đoán mật khẩu")  # before: RECOVERY_NOT_NEEDED
    assert recovered.status is Status.ACTIVE
