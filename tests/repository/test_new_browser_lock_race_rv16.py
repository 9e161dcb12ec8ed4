"""Review rv16 of a21: the new-browser lock must hold for a login already under way.

A login reads the account, checks the password (argon2: the slow part), then writes its
success. The account's own lock is checked again at that write (a guess that was under way when
the fifth wrong password locked the account is refused, a18). a21's new-browser lock was checked
only before the password: an outsider who sends the right guess beside the wrong ones (several
workers, several addresses) got in from a new browser after new browsers were locked, so the
guesses per lock period were not bounded by five.

The password check here is the real argon2 check, held at its end until the test lets it go
(a hasher given to the service, as the factory does), so the interleaving is the same each run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import AccountLocked, LoginFailed
from repository.accounts import UNTRUSTED_LOCK, AccountService
from repository.audit import AuditLog
from repository.policy import Role
from repository.storage.local import LocalStore

ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Kho@2026-mới"


class HeldHasher(PasswordHasher):
    """argon2, whose check of the right password waits for the test once it is done."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked = threading.Event()
        self.go_on = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        result = super().verify(hash, password)  # raises for a wrong password
        self.checked.set()
        assert self.go_on.wait(30), "the test never let the check go on"
        return result


@pytest.mark.parametrize("door", ["login", "password-change", "acknowledge"])
def test_a_right_guess_under_way_when_new_browsers_lock_is_refused(tmp_path: Path, door: str) -> None:
    store = LocalStore(tmp_path / "store")
    audit = AuditLog(store)
    clock = ManualClock()
    plain = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    svc = AccountService(store, audit, clock, hasher=plain)
    _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    person, _ = create_person(svc, "Nguyễn Văn An", VP, (Role.CHUYEN_VIEN,), 0, None, admin, password=GOOD)
    name = svc.authenticate(person.username, GOOD, "10.0.0.1").username  # the owner's browser
    held_hasher = HeldHasher()
    held = AccountService(store, audit, clock, hasher=held_hasher)  # another worker, same store
    outcome: list[BaseException | str] = []

    def guess() -> None:
        try:
            if door == "login":
                held.authenticate(name, GOOD, "198.51.100.9", "")
            elif door == "acknowledge":  # the auditor's acknowledgement form: writes nothing itself
                held.authenticate_unrecorded(name, GOOD, "198.51.100.9", "")
            else:
                held.change_password(name, GOOD, "Kho@2026-của-kẻ-đoán", "198.51.100.9", device="")
            outcome.append("in")
        except (AccountLocked, LoginFailed) as exc:
            outcome.append(exc)

    def acts(action: str) -> int:
        return len([e for e in audit.events() if e.action == action and e.actor == name])

    logins, changes = acts("account:login"), acts("account:password")
    changed_at = svc.get(name).password_changed_at
    thread = threading.Thread(target=guess)
    thread.start()
    try:
        assert held_hasher.checked.wait(30)  # the right guess is checked, its write not yet done
        for i in range(5):  # meanwhile five wrong guesses from new browsers lock new browsers
            with pytest.raises(LoginFailed):
                svc.authenticate(name, f"Sai#{i}abcd", "198.51.100.9", "")
        assert svc.get(name).untrusted_lock_until is not None
    finally:
        held_hasher.go_on.set()
        thread.join(30)
    assert len(outcome) == 1
    refused = outcome[0]
    # Review a23: refused as locked, with the answer a stranger gets under a lock (the unknown
    # name's), which a wrong guess gets too; the refusal's event names the lock.
    assert isinstance(refused, LoginFailed), f"the guess under way got {refused!r}"
    with pytest.raises(LoginFailed) as unknown:
        svc.authenticate("khongco.vpub", GOOD, "198.51.100.9", "")
    assert refused.to_dict() == unknown.value.to_dict()
    last = [e for e in audit.events() if e.action == "account:login-failed" and e.actor == name][-1]
    assert last.details == {"reason": "locked", "lock_reason": UNTRUSTED_LOCK}
    account = svc.get(name)
    assert account.status.value == "active" and account.untrusted_lock_until is not None
    assert account.password_changed_at == changed_at  # the guesser set no password
    assert (acts("account:login"), acts("account:password")) == (logins, changes)
