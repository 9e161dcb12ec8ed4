"""A token's revocation that a writer of the store cannot undo by deleting one file, and its
expiry told by the service's clock (review a28), on the local folder and the real S3 gateway.

Before: the revocation was only ``tokens/<sha256>.revoked.json``; with ``KHO_MASTER_KEY`` set
(seals on), deleting it brought the token back, whoever revoked it (its owner, a quản trị, a
password change). Now the token's own object is rewritten, sealed, with ``revoked_at`` and
``revoked_by``: deleting the revocation leaves the token refused by its object, deleting the
object leaves an unknown token. The services are opened as the application opens them
(``open_accounts``), as in ``test_sealed_power_objects.py``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from kho_sealing import CHEAP, GOOD, MASTER, sealed_agency
from kho_testing import BACKENDS

from kho.errors import KhoError, TokenInvalid
from repository import formats
from repository.accounts import AccountService, token_digest, token_key, token_revoked_key
from repository.fsck import fsck
from repository.records import Repository


def _agency(backend: str, tmp_path: Path) -> tuple[Repository, AccountService, str]:
    return sealed_agency(backend, tmp_path, name="a28")


def _refused(svc: AccountService, secret: str) -> str:
    with pytest.raises(TokenInvalid) as refused:
        svc.resolve_token(secret)
    return refused.value.code


def _objects(svc: AccountService, digest: str) -> list[str]:
    return sorted(
        info.key
        for prefix in ("tokens/", "token-index/", "token-seen/")
        for info in svc.store.list(prefix)
        if digest in info.key
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", ["owner", "admin", "password-change"])
def test_no_single_deletion_or_replayed_copy_revives_a_revoked_token(
    backend: str, tmp_path: Path, how: str
) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    admin = svc.get("vienqt.ubnd")
    password = GOOD
    for target in ("tokens/{d}.revoked.json", "tokens/{d}.json", "token-index/{u}/{d}.json", "replay"):
        person = svc.authenticate(who, password)
        secret = svc.issue_token(who, "a28", person)
        digest = token_digest(secret)
        assert svc.resolve_token(secret).username == who
        issued = svc.store.get(token_key(digest))  # what a writer of the store may keep
        if how == "owner":
            svc.revoke_token(who, digest, svc.get(who))
        elif how == "admin":
            svc.revoke_token(who, digest, admin)
        else:
            new = password + "x"
            svc.change_password(who, password, new)
            password = new
        assert _refused(svc, secret) == "TOKEN_INVALID"
        stored = json.loads(svc.store.get(token_key(digest)))
        assert stored["revoked_at"] and stored["revoked_by"]
        assert svc.store.exists(token_revoked_key(digest))
        if target == "replay":
            # One write: the object as it was issued (a sealed copy, genuine) put back.
            svc.store.put(token_key(digest), issued)
        else:
            svc.store.delete(target.format(d=digest, u=who))
        # Before: the deletion of the revocation revived it.
        assert _refused(svc, secret) == "TOKEN_INVALID", target
    # fsck still knows every file: no format, seal or unknown-object finding on a token.
    token_issues = [i for i in fsck(repo).issues if str(i.subject).startswith(("tokens/", "token-index/"))]
    assert not [i for i in token_issues if i.kind in ("format", "seal", "unknown")], token_issues


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_token_expires_by_the_service_clock(backend: str, tmp_path: Path) -> None:
    """Issued for 1 day; the same store read by a service whose clock is 2 days later refuses
    it with ``TOKEN_EXPIRED``, one a few hours later accepts it. Before: ``days`` did not exist."""
    _, svc, who = _agency(backend, tmp_path)
    person = svc.authenticate(who, GOOD)
    secret = svc.issue_token(who, "a28", person, days=1, scope="read")
    issued_at = svc.clock()

    def later_service(after: timedelta) -> AccountService:
        later = AccountService(
            svc.store,
            svc.audit,
            lambda: issued_at + after,
            master_key=MASTER,
            token_idle=timedelta(days=30),
        )
        later._hasher = CHEAP
        return later

    account, token = later_service(timedelta(hours=3)).token_holder(secret)
    assert account.username == who and str(token.scope) == "read"
    with pytest.raises(KhoError) as expired:
        later_service(timedelta(days=2)).resolve_token(secret)
    assert expired.value.code == "TOKEN_EXPIRED" and expired.value.http_status == 401
    assert formats.TOKEN.current == 4
