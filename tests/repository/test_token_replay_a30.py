"""A token that was ended stays ended when a writer of the store puts back every file of the
token as it was issued and deletes its revocation (review a30), on the local folder and the
real S3 gateway, sealed with ``KHO_MASTER_KEY``.

Before: a28 rewrote the token's own object with ``revoked_at`` and kept
``tokens/<sha256>.revoked.json``; both are files a writer of the store can replace. Saving the
token's files when it was issued, then after its end putting them back and deleting the
revocation, revived it (every way but the lock by a quản trị, whose ``sessions_valid_from`` is
in the account already). Now every way a token ends names it, sealed, in the account version
(:attr:`Account.ended_tokens`) that every request with a token reads anyway."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from kho_sealing import CHEAP, GOOD, MASTER, sealed_agency
from kho_testing import BACKENDS

from kho.errors import KhoError, SessionExpired, TokenInvalid
from repository.accounts import (
    AccountService,
    LockReason,
    idle_slot_seconds,
    token_digest,
    token_ended_in,
    token_revoked_key,
    token_seen_prefix,
)
from repository.fsck import fsck
from repository.records import Repository

ADMIN = "vienqt.ubnd"


def _agency(backend: str, tmp_path: Path) -> tuple[Repository, AccountService, str]:
    return sealed_agency(backend, tmp_path, name="a30")


def _later(svc: AccountService, after: timedelta) -> AccountService:
    """A second service on the same store whose clock runs ``after`` ahead (tokens idle 30 min)."""
    began = svc.clock()
    later = AccountService(
        svc.store, svc.audit, lambda: began + after, master_key=MASTER, token_idle=timedelta(minutes=30)
    )
    later._hasher = CHEAP
    return later


def _files(svc: AccountService, who: str, digest: str) -> dict[str, bytes]:
    """Every file that names the token: what a writer of the store may keep."""
    prefixes = ("tokens/", f"token-index/{who}/")
    keys = [i.key for prefix in prefixes for i in svc.store.list(prefix) if digest in i.key]
    keys += [i.key for i in svc.store.list(token_seen_prefix(digest))]
    return {key: svc.store.get(key) for key in keys}


def _replay(svc: AccountService, saved: dict[str, bytes], digest: str) -> None:
    """Put back every saved file as issued and delete the revocation."""
    for key, data in saved.items():
        svc.store.put(key, data)
    if svc.store.exists(token_revoked_key(digest)):
        svc.store.delete(token_revoked_key(digest))


def _owner(svc: AccountService, who: str, digest: str) -> str:
    svc.revoke_token(who, digest, svc.get(who))
    return GOOD


def _admin(svc: AccountService, who: str, digest: str) -> str:
    svc.revoke_token(who, digest, svc.get(ADMIN))
    return GOOD


def _password_change(svc: AccountService, who: str, digest: str) -> str:
    svc.change_password(who, GOOD, GOOD + "x")
    return GOOD + "x"


def _password_reset(svc: AccountService, who: str, digest: str) -> str:
    _, first = svc.reset_password(who, svc.get(ADMIN))
    _, second = svc.confirm_by_operator(who)
    svc.change_password(who, first + second, GOOD + "y")  # the person's own password again
    return GOOD + "y"


def _lock(svc: AccountService, who: str, digest: str) -> str:
    svc.lock(who, LockReason.ADMIN.value, svc.get(ADMIN))
    svc.unlock(who, svc.get(ADMIN))
    return GOOD


def _sign_out_everywhere(svc: AccountService, who: str, digest: str) -> str:
    svc.sign_out_everywhere(svc.get(who), None)
    return GOOD


ENDS: dict[str, Callable[[AccountService, str, str], str]] = {
    "owner-or-logout": _owner,  # (POST /api/logout and ``kho logout`` call revoke_token so)
    "admin": _admin,
    "password-change": _password_change,
    "password-reset": _password_reset,
    "lock-unlock": _lock,
    "sign-out-everywhere": _sign_out_everywhere,
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", list(ENDS))
def test_replaying_the_token_files_as_issued_after_its_end_revives_nothing(
    backend: str, tmp_path: Path, how: str
) -> None:
    _, svc, who = _agency(backend, tmp_path)
    secret = svc.issue_token(who, "a30", svc.authenticate(who, GOOD))
    digest = token_digest(secret)
    assert svc.resolve_token(secret).username == who  # (writes a use marker: saved too)
    saved = _files(svc, who, digest)
    assert len(saved) >= 3, saved  # token, index entry, use marker
    password = ENDS[how](svc, who, digest)
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)
    assert token_ended_in(svc.get(who), digest)
    _replay(svc, saved, digest)
    assert not svc.store.exists(token_revoked_key(digest))
    with pytest.raises(TokenInvalid):  # before: the token worked again (but after the lock)
        svc.resolve_token(secret)
    # A token issued after the end works, and the replayed one stays refused.
    fresh = svc.issue_token(who, "a30 again", svc.authenticate(who, password))
    assert svc.resolve_token(fresh).username == who
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_token_ended_for_idleness_stays_ended_when_its_files_and_a_fresh_use_are_put_back(
    backend: str, tmp_path: Path
) -> None:
    """Idle 2 h (timeout 30 min): the first request ends it. The writer then puts back its files
    as issued, deletes the revocation and adds a use marker of the present slot (an empty
    object) so that the idle check passes. Before: the token worked again."""
    _, svc, who = _agency(backend, tmp_path)
    later = _later(svc, timedelta(hours=2))
    secret = svc.issue_token(who, "a30", svc.authenticate(who, GOOD))
    digest = token_digest(secret)
    saved = _files(svc, who, digest)
    with pytest.raises(SessionExpired):
        later.resolve_token(secret)
    assert token_ended_in(svc.get(who), digest)
    _replay(later, saved, digest)
    slot = idle_slot_seconds(timedelta(minutes=30))
    later.store.put(f"{token_seen_prefix(digest)}{int(later.clock().timestamp()) // slot:012d}", b"")
    with pytest.raises(KhoError) as refused:
        later.resolve_token(secret)
    assert refused.value.code == "TOKEN_INVALID"
    fresh = later.issue_token(who, "a30 again", later.authenticate(who, GOOD))
    assert later.resolve_token(fresh).username == who


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_issue_and_revocations_on_one_account_lose_nothing(backend: str, tmp_path: Path) -> None:
    """Two revocations (owner, quản trị) and one issue at once, on one account: each revocation
    is named in the account (the optimistic version retries), the new token works; replaying
    the revoked tokens' files revives neither."""
    _, svc, who = _agency(backend, tmp_path)
    person = svc.authenticate(who, GOOD)
    first, second = (svc.issue_token(who, f"a30-{n}", person) for n in (1, 2))
    ends = {s: token_digest(s) for s in (first, second)}
    saved = {s: _files(svc, who, d) for s, d in ends.items()}
    barrier = threading.Barrier(3, timeout=120)
    issued: list[str] = []
    errors: list[BaseException] = []

    def run(act: Callable[[], object]) -> None:
        try:
            barrier.wait()
            act()
        except BaseException as exc:  # (reported below)
            errors.append(exc)

    acts = [
        lambda: svc.revoke_token(who, ends[first], svc.get(who)),
        lambda: svc.revoke_token(who, ends[second], svc.get(ADMIN)),
        lambda: issued.append(svc.issue_token(who, "a30-new", svc.get(who))),
    ]
    threads = [threading.Thread(target=run, args=(act,)) for act in acts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    account = svc.get(who)
    assert all(token_ended_in(account, d) for d in ends.values())
    for s, d in ends.items():
        _replay(svc, saved[s], d)
        with pytest.raises(TokenInvalid):
            svc.resolve_token(s)
    (new,) = issued
    assert svc.resolve_token(new).username == who


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_remaining_replay_a_rolled_back_account_is_found_by_fsck(backend: str, tmp_path: Path) -> None:
    """A writer who also deletes the account version that ended the token (a rollback of the
    account, which a seal cannot tell from the newest): the limit of a30, it revived the token at
    request time. Since s18 the request refuses the account (``ACCOUNT_ROLLED_BACK``: the audit
    log names a later version than the store holds); ``kho fsck`` reports that version as
    ``object-missing`` (the log names it), as before."""
    repo, svc, who = _agency(backend, tmp_path)
    secret = svc.issue_token(who, "a30", svc.authenticate(who, GOOD))
    digest = token_digest(secret)
    saved = _files(svc, who, digest)
    svc.revoke_token(who, digest, svc.get(who))
    ending_version = [i.key for i in svc.store.list(f"accounts/{who}/")][-1]
    assert token_ended_in(svc.get(who), digest)
    _replay(svc, saved, digest)
    svc.store.delete(ending_version)
    with pytest.raises(KhoError) as refused:  # (a30: the token worked again)
        svc.resolve_token(secret)
    assert refused.value.code == "ACCOUNT_ROLLED_BACK" and refused.value.http_status == 403
    found = {i.subject for i in fsck(repo, grace_seconds=0).issues if i.kind == "object-missing"}
    assert ending_version in found
