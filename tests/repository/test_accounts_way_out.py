"""Review r14 of x1: the way out for the only kiểm toán viên while the audit log refuses.

x1 made every audited account change wait for the log, so while the log refuses nobody can
unlock an account or change a password. That removed the (unaudited) escape main had for two
rules that keep the only auditor out on their own, with no attacker: the 90 idle days
(Điều 7 k3 b) and the 3-month password age. Auditors log in rarely, so both are likely when the
log breaks. ``authenticate_locked_auditor`` (``kho audit acknowledge --locked-out``) covered only
a lock by wrong passwords, and counted the "other auditor who can acknowledge" by the stored
status alone, so an idle second auditor blocked the way out for both.

Also: the way out checked the password of any account, active ones too, without counting a
wrong one, an uncounted guessing path around the lock (QCVN 12) for every account.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import TickingClock, make_store

from kho.errors import AccountLocked, AuditChainBroken, KhoError, LoginFailed, PasswordExpired
from repository.accounts import Account, AccountService, LockReason, Status
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog
from repository.policy import Role
from repository.storage.base import ObjectInfo, ObjectStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD, NEW, WRONG = "Mật-khẩu-tốt-2026!", "Mật-khẩu-mới-2026!", "sai-mật-khẩu-2026"


def _setup(tmp_path: Path) -> tuple[ObjectStore, AccountService, TickingClock, Account]:
    store = make_store("local", tmp_path, "store")
    clock = TickingClock()
    svc = AccountService(store, AuditLog(store), clock, hasher=CHEAP)
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.authenticate(admin.username, GOOD)
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    return store, svc, clock, admin


def _person(svc: AccountService, admin: Account, name: str, *roles: Role) -> Account:
    account, _ = create_person(svc, name, VP, roles, 0, None, admin, password=GOOD)
    return svc.authenticate(account.username, GOOD)


def _cut(store: ObjectStore) -> None:
    store.delete([info.key for info in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)


def test_the_only_auditor_whose_password_expired_during_the_refusal_has_a_way_out(tmp_path: Path) -> None:
    store, svc, clock, admin = _setup(tmp_path)
    kt = _person(svc, admin, "Lê Văn Kiểm", Role.KIEM_TOAN)
    clock.now += timedelta(days=80)
    svc.authenticate(kt.username, GOOD)  # logged in 15 days ago: not idle
    svc.authenticate(admin.username, GOOD)
    clock.now += timedelta(days=15)  # the password is now older than 3 months
    _cut(store)
    with pytest.raises(PasswordExpired):
        svc.authenticate_unrecorded(kt.username, GOOD)  # the ordinary acknowledge
    with pytest.raises(AuditChainBroken):
        svc.change_password(kt.username, GOOD, NEW)  # an audited change the log refuses (x1)
    way = svc.authenticate_locked_auditor(kt.username, GOOD)
    assert way.account.username == kt.username and way.password_expired and way.locked is None
    assert way.login() == {"way_out": "operator", "password_expired": True}
    assert svc.get(kt.username).password_changed_at == kt.password_changed_at  # nothing written


@pytest.mark.parametrize("stored", [False, True], ids=["idle-computed", "idle-stored"])
def test_the_only_auditor_idle_for_90_days_during_the_refusal_has_a_way_out(
    tmp_path: Path, stored: bool
) -> None:
    store, svc, clock, admin = _setup(tmp_path)
    kt = _person(svc, admin, "Lê Văn Kiểm", Role.KIEM_TOAN)
    clock.now += timedelta(days=10)
    svc.change_password(kt.username, GOOD, NEW)  # the password is young, the last login old
    clock.now += timedelta(days=85)
    _cut(store)
    with pytest.raises(AccountLocked) as idle:
        svc.authenticate_unrecorded(kt.username, NEW)
    assert idle.value.details.get("reason") == LockReason.IDLE.value
    if stored:  # a web login wrote the idle lock (it holds while the log refuses)
        with pytest.raises(AuditChainBroken):
            svc.authenticate(kt.username, NEW)
        assert svc.get(kt.username).lock_reason is LockReason.IDLE
    try:  # a quản trị's unlock: refused by the log (stored lock), or nothing to unlock (computed)
        svc.unlock(kt.username, svc.get(admin.username))
    except AuditChainBroken:
        pass
    with pytest.raises(AccountLocked):
        svc.authenticate_unrecorded(kt.username, NEW)
    way = svc.authenticate_locked_auditor(kt.username, NEW)
    assert way.locked == LockReason.IDLE.value and not way.password_expired


def test_an_idle_second_auditor_does_not_make_the_way_out_unneeded(tmp_path: Path) -> None:
    store, svc, clock, admin = _setup(tmp_path)
    kt = _person(svc, admin, "Lê Văn Kiểm", Role.KIEM_TOAN)
    second = _person(svc, admin, "Đỗ Văn Soát", Role.KIEM_TOAN)
    clock.now += timedelta(days=50)
    svc.change_password(kt.username, GOOD, NEW)
    svc.authenticate(kt.username, NEW)
    clock.now += timedelta(days=45)  # the second auditor has not logged in for 95 days
    _cut(store)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            svc.authenticate_unrecorded(kt.username, WRONG)
    assert svc.get(kt.username).lock_reason is LockReason.FAILED_LOGINS
    with pytest.raises(AccountLocked):
        svc.authenticate_unrecorded(second.username, GOOD)  # the second cannot acknowledge either
    way = svc.authenticate_locked_auditor(kt.username, NEW)
    assert way.locked == LockReason.FAILED_LOGINS.value


def test_a_wrong_password_at_the_way_out_counts_for_an_open_account(tmp_path: Path) -> None:
    """The way out checks the password before anything else: a wrong one against an account
    that is not locked must count as at every login, or it is a guessing path with no lock."""
    store, svc, _, admin = _setup(tmp_path)
    _cut(store)
    for _ in range(5):
        with pytest.raises(KhoError) as guess:
            svc.authenticate_locked_auditor(admin.username, WRONG)
        assert guess.value.code == "LOGIN_FAILED"
    after = svc.get(admin.username)
    assert (after.status, after.lock_reason, after.failed_logins) == (
        Status.LOCKED,
        LockReason.FAILED_LOGINS,
        5,
    )


def test_a_listed_version_whose_write_is_in_flight_is_not_read_as_the_newest(tmp_path: Path) -> None:
    """The S3 gateway lists a version whose create-if-absent is still in flight before a GET
    finds it (seen as ``NotFound`` in x1's four-writer test on S3, and on main's tree 2 runs in
    25). An account read then must take the version before it, not fail with a 500."""
    store, svc, _, admin = _setup(tmp_path)
    person = _person(svc, admin, "Nguyễn Văn An", Role.CHUYEN_VIEN)
    listing = type(store).list

    def with_phantom(self: ObjectStore, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        infos = list(listing(self, prefix, start_after))
        newest = [i.key for i in infos if i.key.startswith(f"accounts/{person.username}/v")]
        if newest:  # the next version, listed while it is being written
            phantom = f"{newest[-1].rsplit('/v', 1)[0]}/v{int(newest[-1].rsplit('/v', 1)[1]) + 1:06d}"
            infos.append(ObjectInfo(key=phantom, size=1))
            infos.sort(key=lambda i: i.key)
        return iter(infos)

    store.list = types.MethodType(with_phantom, store)  # type: ignore[method-assign]
    assert svc.get(person.username).version == person.version
    assert person.username in {a.username for a in svc.accounts()}
    with pytest.raises(LoginFailed):
        svc.authenticate(person.username, WRONG)
    del store.list
    assert svc.get(person.username).failed_logins == 1
