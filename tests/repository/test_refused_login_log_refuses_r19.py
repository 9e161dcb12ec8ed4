"""Review r19 of the merge integ17: an account refused as downgraded (s3/r18) answers a login or a
password change as a wrong password does (the lead's change) — also while the audit log refuses
events (a cut tail, before the auditor's acknowledgement).

On integ17 the downgraded account's ``account:login-failed`` swallowed the log's refusal, so it
answered :class:`LoginFailed` where a wrong password at any other account (and an unknown name at
a login) answers :class:`AuditChainBroken`: in that window the answer told exactly which names
were tampered with, the oracle the lead's change closes when the log takes events."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_testing import agency_accounts, make_store, new_repository, person_with_password

from kho.errors import AuditChainBroken, KhoError, LoginFailed
from repository.accounts import AccountService, account_key
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.policy import Role

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
VP = "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"
WRONG = "Sai-mật-khẩu-2026!"


def _forge_old_format(svc: AccountService, username: str) -> None:
    """The newest version of ``username`` written again as format 2 (no ``audit``) at the next
    number, as one who can write the store would."""
    keys = [i.key for i in svc.store.list(f"accounts/{username}/")]
    data = json.loads(svc.store.get(keys[-1]))
    data.pop("audit", None)
    data.pop("reset", None)
    number = int(keys[-1].rsplit("/v", 1)[1]) + 1
    data.update(clearance=3, format_version=2, version=number)
    svc.store.put_if_absent(account_key(username, number), json.dumps(data, ensure_ascii=False).encode())


def _answer(attempt: Callable[[], object]) -> tuple[type, str, int, str]:
    with pytest.raises(KhoError) as refused:
        attempt()
    exc = refused.value
    return type(exc), exc.code, exc.http_status, exc.message


@pytest.mark.parametrize("path", ["authenticate", "change_password"])
def test_while_the_log_refuses_a_downgraded_account_answers_as_a_wrong_password(
    path: str, tmp_path: Path
) -> None:
    repo = new_repository(make_store("local", tmp_path, "lr"), make_store("local", tmp_path, "keys"))
    svc, admin = agency_accounts(repo, CHEAP, VP, GOOD)
    plain = person_with_password(svc, admin, VP, GOOD)
    other, first = svc.create_account("Lê Văn Cường", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    _, second = svc.confirm_by_operator(other.username)
    svc.change_password(other.username, first + second, GOOD)
    _forge_old_format(svc, other.username)
    # The log refuses every event: its last object and the witness are gone (a cut tail).
    events = [i.key for i in svc.store.list(EVENTS_PREFIX)]
    svc.store.delete(events[-1])
    svc.store.delete(WITNESS_KEY)

    def attempt(name: str) -> Callable[[], object]:
        if path == "authenticate":
            return lambda: svc.authenticate(name, WRONG, "test")
        return lambda: svc.change_password(name, WRONG, "Mật-khẩu-mới-2027!", "test")

    _answer(attempt(plain))  # the first act of the process finds the witness gone
    wrong = _answer(attempt(plain))  # every one after it
    assert wrong[0] is AuditChainBroken  # a wrong password while the log refuses (main's answer)
    downgraded = _answer(attempt(other.username))
    # integ17: LoginFailed, 401 — told the downgraded name from every other one
    assert downgraded == wrong
    assert not issubclass(downgraded[0], LoginFailed)
