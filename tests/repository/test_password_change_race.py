"""A person's own password change racing a quản trị's reset of it (review a6).

``change_password`` checked the old password on the account it read, hashed the new one, then
wrote "new hash, no reset pending" over whatever the account had become. A reset is what a quản
trị does when a password is known to someone else; whoever knew it and sent a change at the same
moment (the two Argon2 hashings are a wide window) undid the reset: the pending two-person reset
was wiped, the account took the password the change chose, and the quản trị's ``account:password``
(reset) event stood in the log for a reset that no longer held. Now the change is written only
while the account still has the password it checked and no reset came in between; otherwise 409
``PASSWORD_CHANGED_MEANWHILE`` and nothing is written.

Deterministic: the reset is made from a hook the change runs between its check and its write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import Conflict, LoginFailed, TokenInvalid
from repository.accounts import Account, AccountService, Role
from repository.audit import AuditLog
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
KNOWN = "Kho@2026-cũ-lộ"
CHOSEN = "Kẻ#Chiếm-2026"


def _service(tmp_path: Path) -> tuple[AccountService, Account, Account, Account]:
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    _, admin, _ = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    person, _ = create_person(svc, "Nguyễn Văn An", VP, [Role.CHUYEN_VIEN], 0, None, admin, password=KNOWN)
    head, _ = create_person(svc, "Lê Văn Trưởng", VP, [Role.LANH_DAO], 0, None, admin, password=KNOWN)
    return svc, admin, svc.get(person.username), svc.get(head.username)


def _between_check_and_write(
    svc: AccountService, act: Callable[[], Any], *, after_list: bool = False
) -> None:
    """Run ``act`` once, the first time the change (or anything) asks for tokens to revoke:
    before that list is taken, or (``after_list``) right after it."""
    real = svc._tokens_to_revoke
    done: list[bool] = []

    def hooked(username: str, **kwargs: Any) -> Any:
        listed = real(username, **kwargs) if after_list else None
        if not done:
            done.append(True)
            act()
        return listed if after_list else real(username, **kwargs)

    svc._tokens_to_revoke = hooked  # type: ignore[method-assign]


def test_a_change_sent_with_a_known_password_does_not_undo_a_reset_made_meanwhile(tmp_path: Path) -> None:
    svc, admin, person, head = _service(tmp_path)
    halves: list[str] = []
    _between_check_and_write(svc, lambda: halves.append(svc.reset_password(person.username, admin)[1]))
    with pytest.raises(Conflict) as refused:  # before: the change was written over the reset
        svc.change_password(person.username, KNOWN, CHOSEN)
    assert refused.value.code == "PASSWORD_CHANGED_MEANWHILE" and refused.value.http_status == 409
    assert "vừa được" in refused.value.message
    after = svc.get(person.username)
    assert after.reset is not None and after.reset.by == admin.username  # the reset holds
    for password in (KNOWN, CHOSEN):
        with pytest.raises(LoginFailed):
            svc.authenticate(person.username, password)
    _, second = svc.confirm_reset(person.username, head)  # and goes on as a reset does
    svc.change_password(person.username, halves[0] + second, "Mới@Của-An-2026")


def test_a_change_racing_a_login_of_the_same_person_still_goes_through(tmp_path: Path) -> None:
    """Not a false refusal: a change made while the account changed otherwise (a login stamps
    it) is written, on top of that version."""
    svc, _, person, _ = _service(tmp_path)
    _between_check_and_write(svc, lambda: svc.authenticate(person.username, KNOWN))
    svc.change_password(person.username, KNOWN, CHOSEN)
    assert svc.authenticate(person.username, CHOSEN).username == person.username


def test_a_session_of_the_old_password_issued_during_the_change_does_not_outlive_it(tmp_path: Path) -> None:
    """The change lists the tokens to end, then writes. A thief who knows the old password and
    logs in meanwhile had a session written after the list: it outlived the change that was made
    to end it. Now the change looks again after its write."""
    svc, _, person, _ = _service(tmp_path)
    stolen: list[str] = []

    def thief_logs_in() -> None:
        account = svc.authenticate(person.username, KNOWN, "6.6.6.6")
        stolen.append(svc.issue_token(person.username, "web-session", account, "6.6.6.6"))

    _between_check_and_write(svc, thief_logs_in, after_list=True)
    svc.change_password(person.username, KNOWN, CHOSEN)
    with pytest.raises(TokenInvalid):  # before: the thief's session still resolved
        svc.resolve_token(stolen[0])
    revoked = [e for e in svc.audit.events() if e.action == "account:token-revoke"]
    assert [e.details.get("reason") for e in revoked] == ["password-changed"]


def test_a_login_checked_before_the_change_gets_no_session_after_it(tmp_path: Path) -> None:
    """The other order: the thief's password was checked before the change was written, the
    session is issued after it. Refused (409), and the token written is ended."""
    svc, _, person, _ = _service(tmp_path)
    checked = svc.authenticate(person.username, KNOWN, "6.6.6.6")
    svc.change_password(person.username, KNOWN, CHOSEN)
    with pytest.raises(Conflict) as refused:  # before: a session was issued with the old password
        svc.issue_token(person.username, "web-session", checked, "6.6.6.6")
    assert refused.value.code == "PASSWORD_CHANGED_MEANWHILE"
    assert [t for t in svc.tokens_of(person.username) if not t.revoked] == []
