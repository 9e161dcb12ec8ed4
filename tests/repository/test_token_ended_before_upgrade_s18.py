"""Tokens a Kho before a30 revoked stay revoked against a replay of their files (review s18),
on the local folder and the real S3 gateway, sealed with ``KHO_MASTER_KEY``.

Before: a30 names every token it ends in its account (:attr:`Account.ended_tokens`), but a token
revoked by a Kho before a30 was ended only in its own files (revocation object, ``revoked_at``
in its object). A writer of the store who put its object back as issued and deleted the
revocation revived it. Now ``kho account record-ended-tokens`` (the upgrade step,
:func:`repository.ended_tokens.record_ended_tokens`) names them, from their files and from the
audit log; a revoked token presented is named too; and the listing answers from the rule the
request path uses (:func:`repository.accounts.token_ended`).

A revocation "before a30" is written here exactly as the Kho of a28/a29 wrote it
(``_revoke_audited`` at ``e4556f0e``): the revocation object with its ``account:token-revoke``
event naming it, then the token object marked; the account is not written. Its newest version
then names no ended token, which is what an account of format 9 reads as."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_sealing import CHEAP, GOOD, MASTER, sealed_agency
from kho_testing import BACKENDS

from kho.errors import KhoError, LoginFailed, TokenInvalid
from repository import formats
from repository.accounts import (
    ENDED_RECORDED,
    AccountService,
    _draft,
    _iso,
    token_digest,
    token_ended_in,
    token_revoked_key,
    token_seen_prefix,
)
from repository.audit import AuditLog
from repository.ended_tokens import record_ended_tokens
from repository.fsck import fsck
from repository.records import Repository

ADMIN = "vienqt.ubnd"


def _agency(backend: str, tmp_path: Path) -> tuple[Repository, AccountService, str]:
    return sealed_agency(backend, tmp_path, name="s18")


def _files(svc: AccountService, who: str, digest: str) -> dict[str, bytes]:
    """Every file that names the token, as a writer of the store may keep them."""
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


def _revoke_before_a30(svc: AccountService, who: str, digest: str, actor: str) -> None:
    """What ``revoke_token`` did before a30 (``_revoke_audited`` at ``e4556f0e``)."""
    now = svc.clock()
    svc._write_audited(
        token_revoked_key(digest),
        formats.TOKEN_REVOCATION,
        {"digest": digest, "at": _iso(now), "actor": actor},
        [_draft(actor, "account:token-revoke", None, {"username": who, "token": digest[:12]})],
        now,
    )
    svc._mark_revoked(digest, now, actor)


def _issued(svc: AccountService, who: str) -> tuple[str, str, dict[str, bytes]]:
    """A token of ``who``, used once, its digest and its files as issued (saved by the writer)."""
    secret = svc.issue_token(who, "s18", svc.authenticate(who, GOOD))
    assert svc.resolve_token(secret).username == who
    digest = token_digest(secret)
    return secret, digest, _files(svc, who, digest)


def _recorded_events(svc: AccountService, who: str) -> list[dict]:
    return [
        e.details
        for e in svc.audit.events()
        if e.action == ENDED_RECORDED and (e.details or {}).get("username") == who
    ]


def _versions(svc: AccountService, who: str) -> int:
    return len(list(svc.store.list(f"accounts/{who}/")))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_token_revoked_before_a30_and_replayed_after_the_upgrade_step_is_refused(
    backend: str, tmp_path: Path
) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    _revoke_before_a30(svc, who, digest, ADMIN)
    assert not token_ended_in(svc.get(who), digest)  # (as a Kho before a30 left it)
    report = record_ended_tokens(repo, svc, "operator", "cli")
    assert [(r.username, r.tokens, r.found_by) for r in report.recorded] == [(who, (digest[:12],), "upgrade")]
    assert token_ended_in(svc.get(who), digest)
    (event,) = _recorded_events(svc, who)
    assert event["tokens"] == [digest[:12]] and event["found_by"] == "upgrade"
    _replay(svc, saved, digest)
    with pytest.raises(TokenInvalid):  # before: the replayed token worked again
        svc.resolve_token(secret)
    listed = {t.digest: t.revoked for t in svc.list_tokens(who, svc.get(who))}
    assert listed[digest] is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_revocation_deleted_before_the_upgrade_step_is_named_by_the_audit_log(
    backend: str, tmp_path: Path
) -> None:
    """The writer replays first (the token's files now say it is live); the step still names it,
    because the log's ``account:token-revoke`` names the token and its holder."""
    repo, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    _revoke_before_a30(svc, who, digest, who)
    _replay(svc, saved, digest)
    assert svc.resolve_token(secret).username == who  # the hole a30 left open for such tokens
    report = record_ended_tokens(repo, svc, "operator", "cli")
    assert [(r.username, r.tokens, r.found_by) for r in report.recorded] == [
        (who, (digest[:12],), "audit-log")
    ]
    assert report.unmatched == ()
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_upgrade_step_is_idempotent(backend: str, tmp_path: Path) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    _, first, _ = _issued(svc, who)
    _, second, _ = _issued(svc, who)
    _revoke_before_a30(svc, who, first, who)
    _revoke_before_a30(svc, who, second, ADMIN)
    report = record_ended_tokens(repo, svc, "operator", "cli")
    assert sorted(t for r in report.recorded for t in r.tokens) == sorted([first[:12], second[:12]])
    versions = _versions(svc, who)
    again = record_ended_tokens(repo, svc, "operator", "cli")
    assert again.recorded == ()
    assert _versions(svc, who) == versions  # nothing written
    assert len(_recorded_events(svc, who)) == 1  # one event, naming both
    account = svc.get(who)
    assert token_ended_in(account, first) and token_ended_in(account, second)
    # The version written is audited as every account version: fsck finds nothing on accounts.
    found = [
        (i.kind, i.subject) for i in fsck(repo, grace_seconds=0).issues if i.subject.startswith("accounts/")
    ]
    assert found == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_revoked_token_presented_is_named_in_its_account(backend: str, tmp_path: Path) -> None:
    """Without the step: the request that refuses it names it, so a later replay revives nothing."""
    _, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    _revoke_before_a30(svc, who, digest, who)
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)
    assert token_ended_in(svc.get(who), digest)
    (event,) = _recorded_events(svc, who)
    assert event["found_by"] == "request"
    _replay(svc, saved, digest)
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)
    with pytest.raises(TokenInvalid):  # presented again: refused, nothing more written
        svc.resolve_token(secret)
    assert len(_recorded_events(svc, who)) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_listing_shows_a_replayed_token_revoked_as_the_request_path_refuses_it(
    backend: str, tmp_path: Path
) -> None:
    """a30 open 3: a token ended since a30 whose files were put back listed as live."""
    _, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    live, live_digest, _ = _issued(svc, who)
    svc.revoke_token(who, digest, svc.get(who))
    _replay(svc, saved, digest)
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)
    for actor in (who, ADMIN):
        listed = {t.digest: t.revoked for t in svc.list_tokens(who, svc.get(actor))}
        assert listed == {digest: True, live_digest: False}
    assert svc.resolve_token(live).username == who


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_requests_naming_one_token_at_once_write_one_entry_and_lose_no_account_write(
    backend: str, tmp_path: Path
) -> None:
    """Two requests present the same token revoked before a30 while the person revokes another
    one (a30 path, an account write): one ``account:token-end-record``, both tokens named."""
    _, svc, who = _agency(backend, tmp_path)
    old, old_digest, old_saved = _issued(svc, who)
    other, other_digest, other_saved = _issued(svc, who)
    _revoke_before_a30(svc, who, old_digest, who)
    barrier = threading.Barrier(3, timeout=120)
    errors: list[BaseException] = []
    refused: list[str] = []

    def present() -> None:
        try:
            svc.resolve_token(old)
        except TokenInvalid as exc:
            refused.append(exc.code)

    def run(act: Callable[[], object]) -> None:
        try:
            barrier.wait()
            act()
        except BaseException as exc:  # (reported below)
            errors.append(exc)

    acts = [present, present, lambda: svc.revoke_token(who, other_digest, svc.get(who))]
    threads = [threading.Thread(target=run, args=(act,)) for act in acts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert refused == ["TOKEN_INVALID", "TOKEN_INVALID"]
    account = svc.get(who)
    assert token_ended_in(account, old_digest) and token_ended_in(account, other_digest)
    assert sum(1 for d, _ in account.ended_tokens if d == old_digest[:16]) == 1
    assert len(_recorded_events(svc, who)) == 1
    _replay(svc, old_saved, old_digest)
    _replay(svc, other_saved, other_digest)
    for secret in (old, other):
        with pytest.raises(TokenInvalid):
            svc.resolve_token(secret)


# -- the account rollback (a30 "the remaining replay") ---------------------------------------------


def _other_host(svc: AccountService) -> AccountService:
    """A second service on the same store with its own audit log object and an empty index (as
    another host's process): what it knows of the log it reads from the store."""
    other = AccountService(
        svc.store, AuditLog(svc.store, sealer=svc.audit.sealer), svc.clock, master_key=MASTER
    )
    other._hasher = CHEAP
    return other


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_whose_newest_versions_are_deleted_is_refused_to_tokens_and_logins(
    backend: str, tmp_path: Path
) -> None:
    """The writer keeps a token's files, the token is ended (named in the account version), then
    the writer deletes that account version and puts the token's files back. Before: the older
    version (genuine, sealed) was read as the newest and the token worked again. Now the audit log
    names a later version than the store holds: ``ACCOUNT_ROLLED_BACK`` for every token and login
    of the account, here and in a process that knows the log only from the store."""
    _, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    live, _, _ = _issued(svc, who)
    svc.revoke_token(who, digest, svc.get(who))
    ending = [i.key for i in svc.store.list(f"accounts/{who}/")][-1]
    svc.store.delete(ending)
    _replay(svc, saved, digest)
    for service in (svc, _other_host(svc)):
        for token in (secret, live):
            with pytest.raises(KhoError) as refused:  # before: the replayed token worked again
                service.resolve_token(token)
            assert refused.value.code == "ACCOUNT_ROLLED_BACK" and refused.value.http_status == 403
            assert "nhật ký kiểm toán" in refused.value.message
        with pytest.raises(LoginFailed) as failed:  # (answered as a wrong password, review r18)
            service.authenticate(who, GOOD)
        assert failed.value.__cause__.code == "ACCOUNT_ROLLED_BACK"
    assert ending not in {i.key for i in svc.store.list(f"accounts/{who}/")}  # nothing written over it


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_version_put_back_after_a_rollback_works_again(backend: str, tmp_path: Path) -> None:
    """The operator's way out: the deleted version restored (from a backup) — the account answers
    again, with what that version says (the token it ended stays refused, the live one works)."""
    _, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    live, _, _ = _issued(svc, who)
    svc.revoke_token(who, digest, svc.get(who))
    ending = [i.key for i in svc.store.list(f"accounts/{who}/")][-1]
    kept = svc.store.get(ending)
    svc.store.delete(ending)
    _replay(svc, saved, digest)
    with pytest.raises(KhoError):
        svc.resolve_token(live)
    svc.store.put(ending, kept)
    assert svc.resolve_token(live).username == who
    with pytest.raises(TokenInvalid):
        svc.resolve_token(secret)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_operator_accepts_a_rollback_no_backup_can_undo_ending_every_token(
    backend: str, tmp_path: Path
) -> None:
    """The deleted version is lost for good: ``kho account accept-rollback`` writes on from the
    stored version, numbered after the one the log names, ending every token issued before and
    asking for a new password; audited. Refused (a code) for an account that is not rolled back
    and without a reason; a second accept is refused the same way."""
    _, svc, who = _agency(backend, tmp_path)
    secret, digest, saved = _issued(svc, who)
    live, _, _ = _issued(svc, who)
    with pytest.raises(KhoError) as refused:
        svc.accept_rollback(who, "thử")
    assert refused.value.code == "ACCOUNT_NOT_ROLLED_BACK"
    svc.revoke_token(who, digest, svc.get(who))
    keys = [i.key for i in svc.store.list(f"accounts/{who}/")]
    svc.store.delete(keys[-1])
    _replay(svc, saved, digest)
    with pytest.raises(KhoError) as blank:
        svc.accept_rollback(who, "  ")
    assert blank.value.code == "ROLLBACK_REASON_REQUIRED"
    after = svc.accept_rollback(who, "Phiên bản mới nhất mất cùng ổ đĩa hỏng; không có bản sao lưu")
    number = int(keys[-1].rsplit("/v", 1)[1])
    assert after.version == number + 1 and after.must_change_password
    assert [i.key for i in svc.store.list(f"accounts/{who}/")][-1].endswith(f"v{number + 1:06d}")
    for token in (secret, live):  # every token issued before ends, the replayed one too
        with pytest.raises(TokenInvalid):
            svc.resolve_token(token)
    (event,) = [e for e in svc.audit.events() if e.action == "account:rollback-accept"]
    assert event.actor == "operator" and event.details["named_version"] == number
    assert event.details["stored_version"] == number - 1
    with pytest.raises(KhoError) as again:
        svc.accept_rollback(who, "lần nữa")
    assert again.value.code == "ACCOUNT_NOT_ROLLED_BACK"
