"""The last quản trị under a race (review a6): "nobody leaves the installation with no one to
manage its accounts" (LAST_ADMIN) was checked on the accounts as read, then each act wrote one
account. Two quản trị who took each other's quản trị role at the same moment each saw the other
still there; both were written and no quản trị was left. Now an act that takes the role away
holds ``claims/admins`` from its check to its write: the second gets 409 ``ADMINS_CHANGING`` (or,
after the first, the check sees it). A role change decided on roles changed meanwhile is
refused too (409 ``ROLES_CHANGED_MEANWHILE``), not written over them.

Deterministic: the second act is made from a hook the first runs between its check and its write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import Conflict
from repository.accounts import Account, AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT = "000.00.18.H40"
GOOD = "Kho@2026-mới"


def _two_admins(tmp_path: Path) -> tuple[AccountService, Account, Account]:
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    _, first, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    second, _ = create_person(svc, "Trần Quản Trị", ROOT, [Role.QUAN_TRI], 0, None, first, password=GOOD)
    return svc, svc.get(first.username), svc.get(second.username)


def _meanwhile(svc: AccountService, by: str, act: Callable[[], Any]) -> list[Any]:
    """Run ``act`` once, when ``by``'s act is about to write (after its checks)."""
    real = svc._update
    outcome: list[Any] = []

    def hooked(username: str, actor: str, *args: Any, **kwargs: Any) -> Any:
        if actor == by and not outcome:
            try:
                outcome.append(act())
            except Conflict as exc:
                outcome.append(exc)
        return real(username, actor, *args, **kwargs)

    svc._update = hooked  # type: ignore[method-assign]
    return outcome


def _admins(svc: AccountService) -> list[str]:
    return [a.username for a in svc.accounts() if any(m.role is Role.QUAN_TRI for m in a.memberships)]


def test_two_quan_tri_removing_each_other_at_once_leave_one(tmp_path: Path) -> None:
    svc, a, b = _two_admins(tmp_path)
    other = _meanwhile(svc, a.username, lambda: svc.set_roles(a.username, [(ROOT, Role.CHUYEN_VIEN)], b))
    svc.set_roles(b.username, [(ROOT, Role.CHUYEN_VIEN)], a)
    assert isinstance(other[0], Conflict), other  # before: written too
    assert other[0].code == "ADMINS_CHANGING" and other[0].http_status == 409
    assert _admins(svc) == [a.username]  # before: []
    assert svc.store.exists("claims/admins") is False  # given back


def test_a_role_change_decided_on_roles_changed_meanwhile_is_refused(tmp_path: Path) -> None:
    """Two quản trị editing one person's roles from two pages: the second no longer writes its
    list over the first's change (a role given meanwhile was silently taken back)."""
    svc, a, b = _two_admins(tmp_path)
    person, _ = create_person(svc, "Lê Văn Thư", ROOT, [Role.CHUYEN_VIEN], 0, None, a, password=GOOD)
    _meanwhile(
        svc,
        a.username,
        lambda: svc.set_roles(person.username, [(ROOT, Role.CHUYEN_VIEN), (ROOT, Role.VAN_THU)], b),
    )
    with pytest.raises(Conflict) as refused:
        svc.set_roles(person.username, [(ROOT, Role.CHUYEN_VIEN), (ROOT, Role.LUU_TRU)], a)
    assert refused.value.code == "ROLES_CHANGED_MEANWHILE" and "vừa được người khác" in refused.value.message
    roles = {m.role for m in svc.get(person.username).memberships}
    assert roles == {Role.CHUYEN_VIEN, Role.VAN_THU}  # before: {CHUYEN_VIEN, LUU_TRU}
