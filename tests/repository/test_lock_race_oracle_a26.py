"""Guesses in flight when the new-browser lock lands (review a26).

A person at the office's address (a known network of the account: the owner logged in there)
without the account's device token is told of a lock (:meth:`AccountService._told_of_lock`):
``AccountLocked``. The lock for new browsers there is written by the fifth wrong password.
Guesses sent *beside* it (parallel requests pass the login limiter together: it lists, then
checks) were checked before the lock was written, and answered differently once it was: the
right password was refused as locked (``AccountLocked``, in :meth:`authenticate`), a wrong one
was counted and answered ``LoginFailed``. So the answer told which guess was the password — a
colleague's browser could learn it and log in once the lock ended. Forced here on a real local
store: two guesses wait inside their password check while the fifth wrong password locks, then
both answer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import AccountLocked, LoginFailed
from repository.accounts import AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

ROOT, VP = "000.00.18.H40", "000.01.18.H40"
PASSWORD = "Kho@2026-của-An"
OFFICE = COLLEAGUE = "10.20.30.4"  # one NAT address for the whole office


class HoldingHasher(PasswordHasher):
    """A cheap hasher whose check of a ``held`` password waits until ``release`` is set, after
    telling ``arrived``: a guess stopped inside its password check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.held: set[str] = set()
        self.arrived = threading.Semaphore(0)
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        if password in self.held:
            self.arrived.release()
            assert self.release.wait(timeout=60)
        return super().verify(hash, password)


def _attempt(svc: AccountService, name: str, password: str, out: dict[str, object]) -> threading.Thread:
    def run() -> None:
        try:
            out[password] = svc.authenticate(name, password, COLLEAGUE, "")
        except Exception as exc:  # handed back to the test
            out[password] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_right_and_a_wrong_guess_in_flight_when_the_lock_lands_get_one_answer(tmp_path: Path) -> None:
    hasher = HoldingHasher()
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=hasher, max_failed=5)
    _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    head, _ = create_person(svc, "Lê Văn Trưởng", VP, [Role.LANH_DAO], 0, None, admin, password=PASSWORD)
    person, _ = create_person(
        svc, "Nguyễn Văn An", VP, [Role.CHUYEN_VIEN], 0, None, admin,
        confirmer=svc.get(head.username), password=PASSWORD,
    )  # fmt: skip
    name = person.username
    svc.authenticate(name, PASSWORD, OFFICE, "")  # the owner at the office: a known network
    for n in range(4):  # a colleague's browser there, without the owner's device token
        try:
            svc.authenticate(name, f"Sai-{n}-mật-khẩu", COLLEAGUE, "")
        except LoginFailed:
            pass
    wrong = "Sai-9-mật-khẩu"
    hasher.held |= {PASSWORD, wrong}
    out: dict[str, object] = {}
    threads = [_attempt(svc, name, PASSWORD, out), _attempt(svc, name, wrong, out)]
    assert hasher.arrived.acquire(timeout=60) and hasher.arrived.acquire(timeout=60)
    try:  # the fifth wrong password, sent beside them, locks new browsers at the office
        svc.authenticate(name, "Sai-4-mật-khẩu", COLLEAGUE, "")
    except LoginFailed:
        pass
    assert svc.get(name).network_lock_until is not None  # locked for new browsers at the office
    hasher.release.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    right, other = out[PASSWORD], out[wrong]
    assert isinstance(right, AccountLocked)  # the right password in flight is refused as locked
    # Before: the wrong one answered LoginFailed (counted), so the answers named the password.
    assert type(other) is type(right)
    assert (other.code, other.message) == (right.code, right.message)
