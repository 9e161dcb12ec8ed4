"""No puppet accounts: a new account's initial password needs two people (README "Password reset:
two people"). The quản trị who creates an account receives only the first half; a second person
(another quản trị of the unit, or its lãnh đạo; never the creator; ``policy.may_confirm_reset``)
confirms and receives the second half; until then no password works for the account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import (
    Conflict,
    LoginFailed,
    PasswordChangeRequired,
    PasswordResetExpired,
    PermissionDenied,
)
from repository.accounts import OPERATOR, Account, AccountService, Membership, Role, account_key
from repository.audit import AuditLog
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT, VP, STC = "000.00.18.H40", "000.01.18.H40", "000.02.18.H40"
GOOD = "Kho@2026-mới"


@pytest.fixture
def svc(tmp_path: Path) -> AccountService:
    store = LocalStore(tmp_path / "store")
    return AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)


def _agency(svc: AccountService) -> tuple[Account, Account]:
    """An agency with one quản trị (bootstrap) and one lãnh đạo (created by the quản trị,
    confirmed by the operator, as there is nobody else yet); both logged in once."""
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, svc.get(admin.username))
    svc.create_unit(STC, "Sở Tài chính", "stc", ROOT, svc.get(admin.username))
    head, _ = create_person(svc, "Lưu Quang Hưng", ROOT, [Role.LANH_DAO], 3, None, svc.get(admin.username))
    return svc.get(admin.username), head


def _refused_login(svc: AccountService, username: str, password: str) -> None:
    with pytest.raises(LoginFailed):
        svc.authenticate(username, password)


def test_the_creator_receives_half_a_password_and_cannot_log_in_as_the_new_account(
    svc: AccountService,
) -> None:
    admin, head = _agency(svc)
    puppet, first = svc.create_account("Nguyễn Văn A", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    # Before: the creator logged in with it (PasswordChangeRequired is a successful login).
    # Now no password works until a second person confirms: not the half, nor any guess after it.
    _refused_login(svc, puppet.username, first)
    _refused_login(svc, puppet.username, first + "A" * 16)
    assert len(first) == 16
    assert puppet.awaiting_confirmation and puppet.reset is not None and puppet.reset.by == admin.username
    # The creator cannot confirm (their own creation), nor can the new account itself.
    with pytest.raises(PermissionDenied) as same:
        svc.confirm_reset(puppet.username, admin)
    assert same.value.code == "RESET_SAME_PERSON"
    assert svc.get(puppet.username).awaiting_confirmation
    # The head of the unit confirms and receives the other half; only both halves log in.
    confirmed, second = svc.confirm_reset(puppet.username, head)
    assert len(second) == 16 and not confirmed.awaiting_confirmation
    _refused_login(svc, puppet.username, first)
    _refused_login(svc, puppet.username, second)
    with pytest.raises(PasswordChangeRequired):  # the login succeeds, and the person must change
        svc.authenticate(puppet.username, first + second)
    svc.change_password(puppet.username, first + second, GOOD)
    assert svc.get(puppet.username).reset is None
    assert svc.authenticate(puppet.username, GOOD).username == puppet.username
    _refused_login(svc, puppet.username, first + second)  # spent
    # Audited: who created it (with half a password), who confirmed it.
    events = [e for e in svc.audit.events() if e.details.get("username") == puppet.username]
    create = next(e for e in events if e.action == "account:create")
    assert (create.actor, create.details["initial_password"]) == (admin.username, "first-half")
    confirm = next(e for e in events if e.action == "account:create-confirm")
    assert (confirm.actor, confirm.details["created_by"]) == (head.username, admin.username)
    for secret in (first, second):
        assert secret not in repr([e.details for e in svc.audit.events()])


def test_a_quan_tri_cannot_make_a_puppet_to_confirm_their_own_resets(svc: AccountService) -> None:
    """The attack of t2/r9: the quản trị creates a quản trị (or lãnh đạo) puppet, logs in as it
    and confirms their own reset of a real person. The puppet never gets a password: it can
    neither log in nor be issued a token, so it cannot confirm anything."""
    admin, head = _agency(svc)
    victim, _ = create_person(svc, "Trần Thị Bích", VP, [Role.VAN_THU], 0, None, admin, confirmer=head)
    for role in (Role.QUAN_TRI, Role.LANH_DAO):
        puppet, first = svc.create_account(f"Bù Nhìn {role.value}", VP, [role], 0, None, admin)
        _refused_login(svc, puppet.username, first)
        with pytest.raises(PermissionDenied) as token:
            svc.issue_token(puppet.username, "api", puppet)
        assert token.value.code == "PASSWORD_NOT_CONFIRMED"
        with pytest.raises(PermissionDenied):  # nobody issues a token for someone else either
            svc.issue_token(puppet.username, "api", admin)
    svc.reset_password(victim.username, admin)
    with pytest.raises(PermissionDenied) as own:
        svc.confirm_reset(victim.username, admin)
    assert own.value.code == "RESET_SAME_PERSON"


def test_a_second_account_of_the_creator_without_the_role_cannot_confirm(svc: AccountService) -> None:
    """The creator confirming with another account they control (a chuyên viên, a văn thư) or a
    lãnh đạo of another unit: refused and audited; the account stays unusable."""
    admin, head = _agency(svc)
    clerk, _ = create_person(svc, "Đỗ Thị Khuê", VP, [Role.VAN_THU], 3, None, admin, confirmer=head)
    officer, _ = create_person(svc, "Phạm Minh Chính", VP, [Role.CHUYEN_VIEN], 0, None, admin, confirmer=head)
    stc_head, _ = create_person(svc, "Võ Văn Sở", STC, [Role.LANH_DAO], 0, None, admin, confirmer=head)
    pending, first = svc.create_account("Nguyễn Văn A", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    for other in (clerk, officer, stc_head):
        with pytest.raises(PermissionDenied):
            svc.confirm_reset(pending.username, other)
    denied = [
        e
        for e in svc.audit.events()
        if e.action == "access:denied" and e.details["target"] == pending.username
    ]
    assert {e.actor for e in denied} == {clerk.username, officer.username, stc_head.username}
    assert svc.get(pending.username).awaiting_confirmation
    _refused_login(svc, pending.username, first)


def test_an_agency_with_one_quan_tri_and_one_lanh_dao_creates_accounts(svc: AccountService) -> None:
    """The lãnh đạo confirms; a second quản trị created by the first may then confirm too, and
    each confirmation is of someone else's creation."""
    admin, head = _agency(svc)
    second_admin, _ = create_person(
        svc, "Quản Trị Hai", ROOT, [Role.QUAN_TRI], 0, None, admin, confirmer=head
    )
    made, first = svc.create_account("Hoàng Thu Hà", VP, [Role.LUU_TRU], 0, None, second_admin)
    _, second = svc.confirm_reset(made.username, admin)  # the first quản trị confirms the second's
    with pytest.raises(PasswordChangeRequired):
        svc.authenticate(made.username, first + second)


def test_the_operator_confirms_and_bootstrap_still_gives_a_whole_password(svc: AccountService) -> None:
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    assert admin.reset is None  # whole: the operator holds the store anyway
    with pytest.raises(PasswordChangeRequired):
        svc.authenticate(admin.username, initial)
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.get(admin.username)
    head, first = svc.create_account("Lưu Quang Hưng", ROOT, [Role.LANH_DAO], 0, None, admin)
    _, second = svc.confirm_by_operator(head.username, "cli")
    with pytest.raises(Conflict) as twice:
        svc.confirm_by_operator(head.username, "cli")
    assert twice.value.code == "PASSWORD_RESET_NOT_PENDING"
    event = [e for e in svc.audit.events() if e.action == "account:create-confirm"][-1]
    assert event.actor == OPERATOR
    assert event.details == {
        "username": head.username,
        "created_by": admin.username,
        "object": account_key(head.username, 2),  # the version it was written with (x1)
    }
    with pytest.raises(PasswordChangeRequired):
        svc.authenticate(head.username, first + second)


def test_the_halves_of_a_new_account_expire_24_hours_after_the_confirmation(svc: AccountService) -> None:
    admin, head = _agency(svc)
    made, first = svc.create_account("Nguyễn Văn A", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    _, second = svc.confirm_reset(made.username, head)
    svc.clock.advance(hours=25)  # type: ignore[attr-defined]
    with pytest.raises(PasswordResetExpired):
        svc.authenticate(made.username, first + second)
    # A reset by a quản trị and a second person starts again; the creator alone cannot.
    assert svc.clock() - svc.get(made.username).reset.confirmed_at > timedelta(hours=24)  # type: ignore[union-attr]


def test_changing_the_roles_of_a_pending_account_lets_nobody_in(svc: AccountService) -> None:
    """The creator raises a pending account to quản trị: it still has no password; the second
    person confirms what it is *now* (the roles are checked and shown at confirmation)."""
    admin, head = _agency(svc)
    made, first = svc.create_account("Nguyễn Văn A", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    raised = svc.set_roles(made.username, [Membership(VP, Role.QUAN_TRI)], admin)
    _refused_login(svc, made.username, first)
    assert raised.awaiting_confirmation and raised.has_role(Role.QUAN_TRI, VP)
    with pytest.raises(PermissionDenied):
        svc.confirm_reset(made.username, admin)
    # Moved to a unit the lãnh đạo of STC does not lead: they cannot confirm it.
    stc_head, _ = create_person(svc, "Võ Văn Sở", STC, [Role.LANH_DAO], 0, None, admin, confirmer=head)
    with pytest.raises(PermissionDenied):
        svc.confirm_reset(made.username, stc_head)
    assert svc.get(made.username).awaiting_confirmation


def test_a_pending_quan_tri_does_not_count_as_another_admin(svc: AccountService) -> None:
    """LAST_ADMIN: the only active quản trị may not give up the role on the strength of a quản
    trị account nobody can log in to yet (it would leave the agency with no one to manage it)."""
    admin, _ = _agency(svc)
    svc.create_account("Quản Trị Hai", ROOT, [Role.QUAN_TRI], 0, None, admin)
    with pytest.raises(PermissionDenied) as last:
        svc.set_roles(admin.username, [], admin)
    assert last.value.code == "LAST_ADMIN"


def test_a_reset_of_a_new_account_is_still_confirmed_as_a_new_account(svc: AccountService) -> None:
    """The creator resets the account they just created: the confirmer must still see a new
    account (nobody has logged in to it), not a routine reset of someone known; and the creator
    still cannot confirm it."""
    admin, head = _agency(svc)
    made, _ = svc.create_account("Nguyễn Văn A", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    reset, first = svc.reset_password(made.username, admin)
    assert reset.awaiting_confirmation and reset.reset is not None and reset.reset.new_account
    with pytest.raises(PermissionDenied):
        svc.confirm_reset(made.username, admin)
    _, second = svc.confirm_reset(made.username, head)
    event = [e for e in svc.audit.events() if e.details.get("username") == made.username][-1]
    assert (event.action, event.details["created_by"]) == ("account:create-confirm", admin.username)
    svc.change_password(made.username, first + second, GOOD)
    # Once the person has their own password, a later reset is a reset.
    again, _ = svc.reset_password(made.username, admin)
    assert again.reset is not None and not again.reset.new_account
