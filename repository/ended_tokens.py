"""Naming, in their accounts, the tokens a Kho before a30 ended (review s18; NOTES-a30 open 2).

Since a30 every way a token ends names it, sealed, in its account's newest version
(:attr:`repository.accounts.Account.ended_tokens`), which every request with a token reads: a
writer of the store who puts the token's files back as issued and deletes its revocation revives
nothing. A token ended by a Kho before a30 is ended only in its own files (the revocation object
``tokens/<sha256>.revoked.json`` and, since a28, ``revoked_at`` in the token object): the same
replay revives it until it expires (up to 365 days).

Three ways to name them were weighed:

- when such a token is presented (:meth:`AccountService._record_ended_when_presented`): free, but
  it names only the tokens someone presents *before* the replay; a writer who replays first and
  presents after finds nothing named. Kept as a backstop, not relied on;
- at the account's first write after the upgrade: an account nobody writes stays open;
- a one-off step the operator runs with the upgrade, ``kho account record-ended-tokens``
  (:func:`record_ended_tokens`): it names every ended token still unexpired, whether or not
  anyone presents it, and also the ones whose revocation was deleted *before* it ran, when the
  audit log names them (below). Chosen.

Sources, for every token not expired:

1. its files: a token object or revocation object that says revoked (``found_by: upgrade``);
   a revocation whose token object is gone is named too (its holder from ``token-index/``, its
   end bounded by the revocation's time + 365 days), as a writer could put the object back later;
2. the audit log: every ``account:token-revoke`` event names its token (``details.token``, the
   first 12 hex of the digest) and holder (``details.username``); a token of that holder with
   that prefix, still stored (object, index entry or revocation), is named even when its files
   now say it is live (``found_by: audit-log``): its revocation was deleted before the step ran.
   A forged event can only end a token (a writer of the store can delete a token anyway), so
   the chain need not verify for this use. An event whose token has no file left is reported
   (``unmatched``): nothing to revive now, but a writer who kept its files could put them back.

Not covered (reported in NOTES-s18): tokens ended by a bulk act before a30 (password change or
reset, sign-out everywhere, lock): their events carry only a count (``tokens_revoked``), so a
token of theirs whose files were all replayed *before* this step ran cannot be told apart.

Every account changed gets one audited version (``account:token-end-record``, by the operator,
listing the 12-hex prefixes it names); a second run writes nothing. Concurrent requests and
account writes are safe: each account is changed by :meth:`AccountService.record_ended`, one
optimistic write retried on a race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kho import logs
from kho.errors import KhoError, NotFound
from kho.timeutil import parse_iso
from repository import formats
from repository.accounts import (
    TOKEN_DAYS_MAX,
    AccountService,
    Token,
    token_revoked_key,
)
from repository.audit import EVENTS_PREFIX, listed_seq, parse_object

if TYPE_CHECKING:
    from repository.records import Repository

_OBJECT = re.compile(r"tokens/([0-9a-f]{64})\.json")
_REVOCATION = re.compile(r"tokens/([0-9a-f]{64})\.revoked\.json")
_INDEX = re.compile(r"token-index/([^/]+)/([0-9a-f]{64})\.json")
_PREFIX = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class Recorded:
    """Tokens of ``username`` named in its account by one audited write."""

    username: str
    tokens: tuple[str, ...]
    """The 12-hex prefixes of the digests named."""
    found_by: str
    """``upgrade`` (the token's files say it is revoked) or ``audit-log`` (only the log does)."""


@dataclass(frozen=True)
class Unmatched:
    """An ``account:token-revoke`` event whose token has no file left to name it by."""

    username: str
    token: str
    seq: int


@dataclass(frozen=True)
class EndedTokensReport:
    recorded: tuple[Recorded, ...]
    unmatched: tuple[Unmatched, ...]
    skipped: tuple[str, ...]
    """Keys that could not be read (format, seal): reported, never a reason to stop."""


def _revoked_by_log(repo: Repository, now: datetime) -> dict[tuple[str, str], int]:
    """(holder, 12-hex prefix) → seq of every ``account:token-revoke`` event that names both,
    written less than :data:`TOKEN_DAYS_MAX` days before ``now`` (an older one's token has
    expired: nothing to name)."""
    named: dict[tuple[str, str], int] = {}
    since = now - timedelta(days=TOKEN_DAYS_MAX)
    for info in repo.store.list(EVENTS_PREFIX):
        if listed_seq(info.key) is None:
            continue
        try:
            events = parse_object(repo.store.get(info.key))
        except (KhoError, ValueError, TypeError):
            continue  # the chain check (``kho audit verify``) reports it
        for event in events:
            details = event.details or {}
            who, prefix = details.get("username"), details.get("token")
            if event.action != "account:token-revoke" or not isinstance(who, str):
                continue
            try:
                if parse_iso(event.at) < since:
                    continue
            except (ValueError, TypeError):
                pass  # (an unreadable time: kept, the chain check reports it)
            if isinstance(prefix, str) and _PREFIX.fullmatch(prefix):
                named.setdefault((who, prefix), event.seq)
    return named


def _revocation_token(accounts: AccountService, digest: str, holder: str) -> Token | None:
    """A token known only by its revocation object (its object gone): ended by the revocation's
    time + :data:`TOKEN_DAYS_MAX` days at the latest (it was issued before it was revoked)."""
    try:
        data = formats.loads(formats.TOKEN_REVOCATION.name, accounts.store.get(token_revoked_key(digest)))
        at = parse_iso(str(data["at"]))
    except (KhoError, KeyError, ValueError):
        return None
    return Token(digest, holder, "", at, "", revoked=True, expires_at=at + timedelta(days=TOKEN_DAYS_MAX))


def record_ended_tokens(
    repo: Repository, accounts: AccountService, actor: str, source: str | None
) -> EndedTokensReport:
    """Name, in its account, every unexpired token that its files or the audit log say was ended
    (module docstring). Idempotent."""
    objects: set[str] = set()
    revocations: set[str] = set()
    holders: dict[str, str] = {}
    for info in repo.store.list("tokens/"):
        if found := _OBJECT.fullmatch(info.key):
            objects.add(found.group(1))
        elif found := _REVOCATION.fullmatch(info.key):
            revocations.add(found.group(1))
    for info in repo.store.list("token-index/"):
        if found := _INDEX.fullmatch(info.key):
            holders[found.group(2)] = found.group(1)

    tokens: dict[str, Token] = {}
    skipped: list[str] = []
    for digest in sorted(objects):
        try:
            tokens[digest] = accounts._token(digest)
        except NotFound:
            continue
        except (KhoError, KeyError, ValueError, TypeError) as exc:
            logs.warn(__name__, "token %s unreadable: %s", digest[:12], exc)
            skipped.append(f"tokens/{digest}.json")
    ended: dict[str, list[Token]] = {}
    for token in tokens.values():
        if token.revoked:
            ended.setdefault(token.username, []).append(token)
    for digest in sorted(revocations - objects):
        holder = holders.get(digest)
        token = _revocation_token(accounts, digest, holder) if holder else None
        if token is not None:
            ended.setdefault(holder, []).append(token)
        else:
            skipped.append(token_revoked_key(digest))

    by_log: dict[str, list[Token]] = {}
    unmatched: list[Unmatched] = []
    known = sorted(objects | revocations | set(holders))
    for (who, prefix), seq in sorted(_revoked_by_log(repo, accounts.clock()).items()):
        matches = [d for d in known if d.startswith(prefix)]
        found_any = False
        for digest in matches:
            token = tokens.get(digest)
            if token is None and holders.get(digest) == who:
                token = Token(digest, who, "", accounts.clock(), "", revoked=True)  # (365 days on)
            if token is None or token.username != who:
                continue
            found_any = True
            if not token.revoked:  # its revocation deleted before this step ran
                by_log.setdefault(who, []).append(token)
        if not found_any:
            unmatched.append(Unmatched(who, prefix, seq))

    recorded: list[Recorded] = []
    for found_by, groups in (("upgrade", ended), ("audit-log", by_log)):
        for who, group in sorted(groups.items()):
            named = accounts.record_ended(who, group, actor, source, found_by=found_by)
            if named:
                recorded.append(Recorded(who, tuple(d[:12] for d in named), found_by))
    return EndedTokensReport(tuple(recorded), tuple(unmatched), tuple(skipped))
