"""Review z3: an account's newest version or a token's revocation deleted from the store.

No seal tells an older genuine version from the newest: deleting the version that locked an
account unlocks it (the next login even writes that number again, with its own events); deleting a
revocation made the token work again until review a28 (the token's own sealed object now says it
is revoked, and since review a30 its account version too). Kho never deletes or rewrites these objects,
and the log names each one with the events written with it, so ``kho fsck`` now reports
``object-missing`` (before: nothing). Since review s18 the read path refuses an account whose
newest stored version is older than the one the audit log names (``ACCOUNT_ROLLED_BACK``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_testing import BACKENDS, agency_accounts, make_store, new_repository, person_with_password

from kho.errors import LoginFailed, TokenInvalid
from repository.accounts import token_digest, token_revoked_key
from repository.fsck import fsck

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
VP = "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_deleted_lock_version_and_a_deleted_revocation_are_reported(backend: str, tmp_path: Path) -> None:
    repo = new_repository(make_store(backend, tmp_path, "z3a"), make_store("local", tmp_path, "keys"))
    svc, admin = agency_accounts(repo, CHEAP, VP, GOOD)
    who = person_with_password(svc, admin, VP, GOOD)
    secret = svc.issue_token(who, "script", svc.authenticate(who, GOOD))
    revocation = token_revoked_key(token_digest(secret))
    svc.revoke_token(who, token_digest(secret), svc.get(admin.username))
    svc.lock(who, "admin", svc.get(admin.username))
    assert not [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "object-missing"]

    lock_version = [i.key for i in svc.store.list(f"accounts/{who}/")][-1]
    svc.store.delete(lock_version)
    svc.store.delete(revocation)
    # Before s18 the read path could not tell (the login passed, unlocked, and wrote that number
    # again); now the audit log names a later version than the store holds: refused, answered as
    # a wrong password is (review r18), and nothing written.
    with pytest.raises(LoginFailed) as refused:
        svc.authenticate(who, GOOD)
    assert refused.value.__cause__.code == "ACCOUNT_ROLLED_BACK"
    assert lock_version not in {i.key for i in svc.store.list(f"accounts/{who}/")}
    # The token stays revoked (review a28): its own object, rewritten sealed, says so.
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)
    issues = fsck(repo, repair=True, grace_seconds=0).issues
    found = {i.subject: i for i in issues if i.kind == "object-missing"}
    # (was {lock_version, revocation}: since review a30 the revocation's event is carried by the
    # account version that names the token as ended, the one deleting which would matter; the
    # revocation object is a marker like a password change's, which the log never named.)
    assert set(found) == {lock_version}  # before z3: no finding
    assert "account:lock" in found[lock_version].message
    assert not any(i.repairable for i in found.values())
